/**
 * Transcript-free check of §5.3's "if an existing entry conflicts with a new one … delete the
 * existing entry and all that follow it": only a *conflict* truncates. A delayed or duplicated
 * append carrying a prefix of what the follower already has must leave the rest in place —
 * the follower may already have acknowledged those entries, and the leader counts them.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { RawNode } from '../../../src/raft/raw-node.js';
import { MemoryStorage } from '../../../src/raft/storage.js';
import { type Entry, EntryType, message, MessageType } from '../../../src/raft/types.js';

const e = (index: bigint, term: bigint): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(`e${index}`) });

function follower(): { n: RawNode; s: MemoryStorage; persist: () => void } {
  const s = new MemoryStorage();
  const n = new RawNode({ id: 2n, peers: [1n, 2n, 3n], storage: s, electionTick: 10, heartbeatTick: 1, rand: new SeededRand(5) });
  const persist = (): void => {
    const rd = n.ready();
    if (rd.hardState) s.setHardState(rd.hardState);
    s.append(rd.entries);
    n.advance(rd);
  };
  persist();
  return { n, s, persist };
}

const app = (index: bigint, logTerm: bigint, entries: Entry[], commit: bigint) =>
  message({ type: MessageType.App, from: 1n, to: 2n, term: 2n, index, logTerm, entries, commit });

describe('stale appends', () => {
  it('a delayed append with a prefix of the follower\'s entries does not truncate the entries after it', () => {
    const { n, s, persist } = follower();
    n.step(app(3n, 1n, [e(4n, 2n), e(5n, 2n), e(6n, 2n)], 3n));
    persist();
    expect(s.lastIndex()).toBe(6n);
    // The earlier, shorter append arrives late (reordered) or again (duplicated).
    n.step(app(3n, 1n, [e(4n, 2n)], 3n));
    const rd = n.ready();
    expect(rd.entries).toEqual([]); // nothing to rewrite
    expect(rd.messages.map((m) => [m.type, m.index, m.reject])).toEqual([[MessageType.AppResp, 4n, false]]);
    persist();
    expect(s.lastIndex()).toBe(6n);
    expect(n.status().lastIndex).toBe(6n);
  });

  it('a stale append below the commit index is answered with the commit index and changes nothing', () => {
    const { n, s, persist } = follower();
    n.step(app(3n, 1n, [e(4n, 2n), e(5n, 2n), e(6n, 2n)], 6n));
    persist();
    n.step(app(3n, 1n, [e(4n, 2n)], 4n));
    const rd = n.ready();
    expect(rd.entries).toEqual([]);
    expect(rd.messages.map((m) => [m.type, m.index, m.reject])).toEqual([[MessageType.AppResp, 6n, false]]);
    persist();
    expect(s.lastIndex()).toBe(6n);
    expect(n.status().commit).toBe(6n);
  });

  it('a genuinely conflicting append truncates from the first conflict only', () => {
    const { n, s, persist } = follower();
    n.step(app(3n, 1n, [e(4n, 2n), e(5n, 2n), e(6n, 2n)], 3n));
    persist();
    n.step(message({ ...app(4n, 2n, [e(5n, 3n)], 3n), term: 3n }));
    persist();
    expect([4n, 5n].map((i) => s.term(i))).toEqual([2n, 3n]);
    expect(s.lastIndex()).toBe(5n);
  });
});
