/**
 * The linearizability checker (test/helpers/linearizability.ts) and the key-value model with
 * compare-and-swap (test/helpers/kv-history.ts) on small hand-made histories: linearizable ones
 * accepted, the classic anomalies rejected with an explanation that names the key and the
 * operation that cannot fit; and large generated histories checked in bounded time.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { checkKvHistory, checkRevisions, type KvInput, type KvOp, type KvOutput } from '../../helpers/kv-history.js';

class H {
  ops: KvOp[] = [];
  private add(client: number, input: KvInput, output: KvOutput | undefined, call: number, ret: number | undefined, key = 'k'): this {
    this.ops.push({ id: this.ops.length + 1, client, key, input, output, call, ret: output === undefined ? undefined : ret });
    return this;
  }
  put(c: number, value: string, call: number, ret: number, rev?: bigint, key?: string): this {
    return this.add(c, { f: 'put', value }, { f: 'put', header: rev }, call, ret, key);
  }
  /** A put whose answer was lost (timeout): it may or may not have happened. */
  putLost(c: number, value: string, call: number, key?: string): this {
    return this.add(c, { f: 'put', value }, undefined, call, undefined, key);
  }
  get(c: number, value: string | null, call: number, ret: number, mod?: bigint, header?: bigint, key?: string): this {
    return this.add(c, { f: 'get' }, { f: 'get', value, modRevision: mod, header }, call, ret, key);
  }
  del(c: number, deleted: boolean, call: number, ret: number, rev?: bigint): this {
    return this.add(c, { f: 'delete' }, { f: 'delete', deleted, header: rev }, call, ret);
  }
  casRev(c: number, ifModRevision: bigint, value: string, succeeded: boolean | undefined, call: number, ret: number, rev?: bigint): this {
    return this.add(c, { f: 'cas', ifModRevision, value }, succeeded === undefined ? undefined : { f: 'cas', succeeded, header: rev }, call, ret);
  }
  casVal(c: number, ifValue: string, value: string, succeeded: boolean | undefined, call: number, ret: number, rev?: bigint): this {
    return this.add(c, { f: 'cas', ifValue, value }, succeeded === undefined ? undefined : { f: 'cas', succeeded, header: rev }, call, ret);
  }
}

function expectOk(h: H): void {
  const r = checkKvHistory(h.ops);
  expect(r.violations).toEqual([]);
  expect(r.ok).toBe(true);
}

function expectViolation(h: H, ...fragments: string[]): string {
  const r = checkKvHistory(h.ops);
  expect(r.ok).toBe(false);
  expect(r.inconclusive).toBe(false);
  const text = r.violations.join('\n');
  for (const f of fragments) expect(text).toContain(f);
  return text;
}

describe('linearizable histories are accepted', () => {
  it('sequential puts and reads, with revisions', () => {
    expectOk(new H().get(1, null, 0, 1).put(1, 'a', 2, 3, 2n).get(2, 'a', 4, 5, 2n, 2n).put(2, 'b', 6, 7, 3n).get(1, 'b', 8, 9, 3n, 3n));
  });

  it('a read concurrent with a put may see either value', () => {
    expectOk(new H().put(1, 'a', 0, 1, 2n).put(1, 'b', 10, 20, 3n).get(2, 'a', 11, 12, 2n).get(3, 'b', 13, 14, 3n).get(2, 'b', 21, 22, 3n));
  });

  it('concurrent writes may take effect in either order; later reads fix the order', () => {
    expectOk(new H().put(1, 'a', 0, 10, 3n).put(2, 'b', 0, 10, 2n).get(3, 'a', 11, 12, 3n));
  });

  it('a put that timed out may have happened (a later read sees it) …', () => {
    expectOk(new H().put(1, 'a', 0, 1, 2n).putLost(2, 'b', 2).get(1, 'b', 50, 51, 3n).get(1, 'b', 52, 53, 3n));
  });

  it('… or not (no read ever sees it)', () => {
    expectOk(new H().put(1, 'a', 0, 1, 2n).putLost(2, 'b', 2).get(1, 'a', 50, 51, 2n));
  });

  it('a put that timed out explains a compare that failed', () => {
    // Nothing but the lost CAS can have changed mod_revision 2 before the second CAS.
    expectOk(new H().put(1, 'a', 0, 1, 2n).get(1, 'a', 2, 3, 2n).casRev(2, 2n, 'b', undefined, 4, 5).casRev(1, 2n, 'c', false, 10, 11));
  });

  it('compare-and-swap on mod_revision and on value, create if missing (mod_revision 0)', () => {
    expectOk(
      new H()
        .casRev(1, 0n, 'a', true, 0, 1, 2n)
        .casRev(2, 0n, 'x', false, 2, 3)
        .get(1, 'a', 4, 5, 2n)
        .casRev(1, 2n, 'b', true, 6, 7, 3n)
        .casVal(2, 'b', 'c', true, 8, 9, 4n)
        .casVal(1, 'b', 'd', false, 10, 11)
        .get(2, 'c', 12, 13, 4n),
    );
  });

  it('deletes: a missing key reads as missing, deletes nothing, compares as mod_revision 0', () => {
    expectOk(new H().put(1, 'a', 0, 1, 2n).del(1, true, 2, 3, 3n).get(2, null, 4, 5).del(2, false, 6, 7).casRev(1, 0n, 'b', true, 8, 9, 4n).get(1, 'b', 10, 11, 4n));
  });
});

describe('classic anomalies are rejected, with an explanation', () => {
  it('a stale read: a read that starts after a put returned sees the value before it', () => {
    const text = expectViolation(new H().put(1, 'a', 0, 1, 2n).put(1, 'b', 2, 3, 3n).get(2, 'a', 4, 5, 2n), 'key "k": not linearizable', 'reads "a" but the value is "b"');
    expect(text).toContain('#3 c2 k get → "a" (mod 2)');
  });

  it('a lost write: an acknowledged put that a later read does not see', () => {
    expectViolation(new H().put(1, 'a', 0, 1, 2n).get(2, null, 5, 6), 'reads ∅ but the value is "a"');
  });

  it('a lost write behind a newer one: the key goes back to an older value', () => {
    expectViolation(new H().put(1, 'a', 0, 1, 2n).put(2, 'b', 2, 3, 3n).get(1, 'b', 4, 5, 3n).get(2, 'a', 6, 7, 2n), 'not linearizable');
  });

  it('a read of a value never written', () => {
    expectViolation(new H().put(1, 'a', 0, 1, 2n).get(2, 'zzz', 2, 3, 5n), 'reads "zzz"');
  });

  it('a read of a timed-out put that returned before the put was called', () => {
    expectViolation(new H().get(2, 'b', 0, 1, 2n).putLost(1, 'b', 2), 'reads "b" but the value is ∅');
  });

  it('a compare-and-swap that succeeded twice on the same mod_revision', () => {
    expectViolation(
      new H().put(1, 'a', 0, 1, 2n).get(1, 'a', 2, 3, 2n).get(2, 'a', 2, 3, 2n).casRev(1, 2n, 'b', true, 4, 8, 3n).casRev(2, 2n, 'c', true, 4, 8, 4n),
      'succeeded but its compare is false here',
    );
  });

  it('a compare-and-swap on value that succeeded twice', () => {
    expectViolation(new H().put(1, 'a', 0, 1, 2n).casVal(1, 'a', 'b', true, 4, 8, 3n).casVal(2, 'a', 'c', true, 4, 8, 4n), 'succeeded but its compare is false here');
  });

  it('a compare that failed although nothing changed the key', () => {
    expectViolation(new H().put(1, 'a', 0, 1, 2n).get(1, 'a', 2, 3, 2n).casRev(1, 2n, 'b', false, 4, 5), 'failed but its compare is true here');
  });

  it('mod revisions of one key that go against the order its values were seen in', () => {
    // b was read after a, so b was written after a: it cannot carry the older revision.
    expectViolation(new H().put(1, 'a', 0, 10, 3n).put(2, 'b', 0, 10, 2n).get(3, 'a', 11, 12, 3n).get(3, 'b', 13, 14, 2n), 'not linearizable');
  });

  it('a delete that deleted a key that was missing', () => {
    expectViolation(new H().get(1, null, 0, 1).del(1, true, 2, 3, 2n), 'deleted a key that is missing');
  });

  it('keys are checked apart: a violation names its key', () => {
    const h = new H().put(1, 'a', 0, 1, 2n, 'x').put(1, 'b', 0, 1, 3n, 'y').get(2, 'a', 2, 3, 2n, 3n, 'x').get(2, null, 2, 3, undefined, 3n, 'y');
    const r = checkKvHistory(h.ops);
    expect(r.keys).toBe(2);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toContain('key "y"');
  });
});

describe('writes of unknown outcome that a read saw', () => {
  it('take the revision the read reported: a second read of the same value with another revision is a violation', () => {
    expectViolation(new H().put(1, 'a', 0, 1, 2n).putLost(2, 'b', 2).get(1, 'b', 10, 11, 5n).get(1, 'b', 12, 13, 6n), 'outcome inferred from a read');
  });

  it('must have happened before the first read that saw them returned', () => {
    // b was seen at 10–11, so it was written by 11: a read that starts at 20 cannot see a.
    expectViolation(new H().put(1, 'a', 0, 1, 2n).putLost(2, 'b', 2).get(3, 'b', 10, 11, 3n).get(4, 'a', 20, 21, 2n), 'not linearizable');
  });
});

describe('revision checks across keys', () => {
  it('flags a header revision that goes back in real time', () => {
    const h = new H().put(1, 'a', 0, 1, 5n, 'x').get(2, null, 2, 3, undefined, 4n, 'y');
    expect(checkRevisions(h.ops).join('\n')).toContain('revision went back in real time');
  });

  it('flags two writes that answered the same revision', () => {
    const h = new H().put(1, 'a', 0, 1, 5n, 'x').put(2, 'b', 0, 1, 5n, 'y');
    expect(checkRevisions(h.ops).join('\n')).toContain('two writes answered revision 5');
  });
});

/**
 * A history linearizable by construction: each operation takes effect at a random instant
 * inside its interval, on a real store with a revision counter; some writes lose their answer
 * (then take effect or not, at random).
 */
function generate(seed: number, opsCount: number, clients: number, keys: number, lostRate: number): KvOp[] {
  const r = new SeededRand(seed);
  type Pending = { op: KvOp; at: number; applies: boolean };
  const pend: Pending[] = [];
  const cursor = new Array<number>(clients).fill(0);
  for (let i = 0; i < opsCount; i++) {
    const c = r.int(clients);
    const call = (cursor[c] as number) + r.next() * 2;
    const at = call + r.next() * 10;
    const ret = at + r.next() * 10;
    const lost = r.next() < lostRate;
    cursor[c] = lost ? call + 1 : ret;
    const key = `k${r.int(keys)}`;
    pend.push({ op: { id: i + 1, client: c, key, input: { f: 'get' }, call, ret }, at, applies: !lost || r.next() < 0.5 });
    if (lost) (pend[pend.length - 1] as Pending).op.ret = undefined;
  }
  pend.sort((a, b) => a.at - b.at);
  let rev = 1n;
  const store = new Map<string, { value: string; mod: bigint }>();
  let n = 0;
  for (const p of pend) {
    const cur = store.get(p.op.key);
    const roll = r.next();
    const value = `v${++n}`;
    const lost = p.op.ret === undefined;
    if (roll < 0.4) {
      p.op.input = { f: 'get' };
      p.op.output = { f: 'get', value: cur?.value ?? null, modRevision: cur?.mod, header: rev };
    } else if (roll < 0.65) {
      p.op.input = { f: 'put', value };
      if (p.applies) store.set(p.op.key, { value, mod: ++rev });
      p.op.output = { f: 'put', header: rev };
    } else if (roll < 0.7) {
      p.op.input = { f: 'delete' };
      const deleted = cur !== undefined;
      if (deleted && p.applies) {
        store.delete(p.op.key);
        rev++;
      }
      p.op.output = { f: 'delete', deleted, header: rev };
    } else {
      const byValue = r.next() < 0.3 && cur !== undefined;
      const right = r.next() < 0.6;
      const input: KvInput = byValue
        ? { f: 'cas', ifValue: right ? (cur as { value: string }).value : 'nope', value }
        : { f: 'cas', ifModRevision: right ? (cur?.mod ?? 0n) : rev + 100n, value };
      p.op.input = input;
      const holds = right;
      if (holds && p.applies) store.set(p.op.key, { value, mod: ++rev });
      p.op.output = { f: 'cas', succeeded: holds, header: rev };
    }
    if (lost) p.op.output = undefined;
  }
  return pend.map((p) => p.op).sort((a, b) => a.id - b.id);
}

describe('large histories', () => {
  it('accepts generated linearizable histories (10 clients, 3 keys, 5% lost answers) for 20 seeds', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = checkKvHistory(generate(seed, 600, 10, 3, 0.05));
      if (!r.ok) throw new Error(`seed ${seed}: ${r.violations.join('\n')}`);
    }
  });

  it('checks 5 000 operations on one key (10 clients, 3% lost answers) within its step budget', () => {
    const ops = generate(7, 5000, 10, 1, 0.03);
    const r = checkKvHistory(ops, { stepsMax: 2_000_000 });
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.steps).toBeLessThan(2_000_000);
  });

  it('40 clients on one key (1% lost answers) stay within a few steps per operation: reads placed at once, writes in revision order', () => {
    // Without those two reductions the search gives up here (millions of steps, a few dozen placed).
    const ops = generate(11, 8000, 40, 1, 0.01);
    const r = checkKvHistory(ops, { stepsMax: 2_000_000 });
    expect(r.violations).toEqual([]);
    expect(r.steps).toBeLessThan(30 * ops.length);
  });

  it('rejects a generated history once one read is made stale', () => {
    const ops = generate(3, 2000, 10, 1, 0);
    // The last read of a value that was later overwritten, moved to after everything.
    const last = Math.max(...ops.map((o) => o.ret as number));
    const writes = ops.filter((o) => o.input.f === 'put');
    const early = writes[0] as KvOp;
    const read = ops.find((o) => o.input.f === 'get') as KvOp;
    read.call = last + 10;
    read.ret = last + 11;
    read.output = { f: 'get', value: (early.input as { value: string }).value, modRevision: (early.output as { header: bigint }).header };
    const r = checkKvHistory(ops);
    expect(r.ok).toBe(false);
    expect(r.violations.join('\n')).toContain(`#${read.id}`);
  });
});
