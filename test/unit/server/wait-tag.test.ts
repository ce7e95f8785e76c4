/**
 * A waiter registered with its proposal's bytes is settled only by the applied entry with those
 * bytes: two members whose ids share their low 16 bits and that start in the same millisecond
 * issue the same request ids (etcd's idutil scheme), and one member's entry answered the other
 * member's client (whole-member simulator, seed 38002). Untagged waiters (and triggers without
 * entry bytes) behave as before.
 */
import { describe, expect, it } from 'vitest';
import { WaitRegistry } from '../../../src/server/wait.js';

describe('WaitRegistry tags', () => {
  it('ignores an entry with the same id but other bytes, and settles on its own entry', async () => {
    const w = new WaitRegistry<string>();
    const mine = Buffer.from('put k1=v14 id=7');
    const p = w.register(7n, Infinity, mine);
    expect(w.trigger(7n, 'theirs', Buffer.from('put k0=v41 id=7'))).toBe(false);
    expect(w.has(7n)).toBe(true);
    expect(w.trigger(7n, 'mine', Buffer.from(mine))).toBe(true);
    await expect(p).resolves.toBe('mine');
  });

  it('settles an untagged waiter, or a trigger without entry bytes, by id alone', async () => {
    const w = new WaitRegistry<string>();
    const a = w.register(1n);
    expect(w.trigger(1n, 'a', Buffer.from('x'))).toBe(true);
    await expect(a).resolves.toBe('a');
    const b = w.register(2n, Infinity, Buffer.from('y'));
    expect(w.trigger(2n, 'b')).toBe(true);
    await expect(b).resolves.toBe('b');
  });
});
