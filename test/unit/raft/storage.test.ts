/** MemoryStorage: the reference RaftStorage (etcd MemoryStorage semantics). */
import { describe, expect, it } from 'vitest';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from '../../../src/raft/errors.js';
import { MemoryStorage, limitSize } from '../../../src/raft/storage.js';
import { type Entry, EntryType, entrySize } from '../../../src/raft/types.js';

const ent = (index: bigint, term: bigint, data = ''): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) });

function storageWith(...terms: bigint[]): MemoryStorage {
  const s = new MemoryStorage();
  s.append(terms.map((t, k) => ent(BigInt(k + 1), t)));
  return s;
}

describe('MemoryStorage', () => {
  it('starts empty: first index 1, last index 0, term 0 at index 0', () => {
    const s = new MemoryStorage();
    expect(s.firstIndex()).toBe(1n);
    expect(s.lastIndex()).toBe(0n);
    expect(s.term(0n)).toBe(0n);
    expect(() => s.term(1n)).toThrow(ErrUnavailable);
    expect(s.initialState()).toEqual({ hardState: { term: 0n, vote: 0n, commit: 0n }, confState: { voters: [], learners: [] } });
  });

  it('returns entries in [lo, hi) and throws ErrCompacted below the first index, ErrUnavailable past the last', () => {
    const s = storageWith(1n, 1n, 2n, 3n);
    expect(s.entries(2n, 4n, Infinity).map((e) => e.index)).toEqual([2n, 3n]);
    s.createSnapshot(2n, { voters: [1n], learners: [] }, new Uint8Array(0));
    s.compact(2n);
    expect(() => s.entries(2n, 3n, Infinity)).toThrow(ErrCompacted);
    expect(() => s.entries(3n, 6n, Infinity)).toThrow(ErrUnavailable);
    expect(s.term(2n)).toBe(1n); // the compaction point keeps its term
    expect(() => s.term(1n)).toThrow(ErrCompacted);
  });

  it('limits entries by size but always returns at least one', () => {
    const s = new MemoryStorage();
    s.append([ent(1n, 1n, 'aaaa'), ent(2n, 1n, 'bbbb'), ent(3n, 1n, 'cccc')]);
    const one = entrySize(ent(1n, 1n, 'aaaa'));
    expect(s.entries(1n, 4n, 0).length).toBe(1);
    expect(s.entries(1n, 4n, 2 * one).length).toBe(2);
    expect(limitSize([], 0)).toEqual([]);
  });

  it('append replaces a conflicting suffix and ignores entries already compacted', () => {
    const s = storageWith(1n, 1n, 1n);
    s.append([ent(2n, 2n), ent(3n, 2n), ent(4n, 2n)]);
    expect([1n, 2n, 3n, 4n].map((i) => s.term(i))).toEqual([1n, 2n, 2n, 2n]);
    s.createSnapshot(3n, { voters: [1n], learners: [] }, new Uint8Array(0));
    s.compact(3n);
    s.append([ent(2n, 2n), ent(3n, 2n), ent(4n, 2n), ent(5n, 2n)]);
    expect(s.firstIndex()).toBe(4n);
    expect(s.lastIndex()).toBe(5n);
    expect(() => s.append([ent(7n, 2n)])).toThrow('missing log entry');
  });

  it('applySnapshot replaces the log; an older snapshot is refused with ErrSnapOutOfDate', () => {
    const s = storageWith(1n, 1n);
    const snap = { metadata: { index: 10n, term: 4n, confState: { voters: [1n, 2n], learners: [3n] } }, data: new Uint8Array([1]) };
    s.applySnapshot(snap);
    expect(s.firstIndex()).toBe(11n);
    expect(s.lastIndex()).toBe(10n);
    expect(s.term(10n)).toBe(4n);
    expect(s.initialState().confState).toEqual({ voters: [1n, 2n], learners: [3n] });
    expect(() => s.applySnapshot({ ...snap, metadata: { ...snap.metadata, index: 9n } })).toThrow(ErrSnapOutOfDate);
  });

  it('createSnapshot records index, term and configuration; compaction may not pass the last index', () => {
    const s = storageWith(1n, 2n, 2n);
    const snap = s.createSnapshot(2n, { voters: [1n], learners: [] }, new Uint8Array([7]));
    expect(snap.metadata).toEqual({ index: 2n, term: 2n, confState: { voters: [1n], learners: [] } });
    expect(() => s.createSnapshot(2n, { voters: [1n], learners: [] }, new Uint8Array(0))).toThrow(ErrSnapOutOfDate);
    expect(() => s.compact(4n)).toThrow('out of bound');
    s.compact(2n);
    expect(() => s.compact(2n)).toThrow(ErrCompacted);
  });

  it('keeps the hard state it is given', () => {
    const s = new MemoryStorage();
    s.setHardState({ term: 3n, vote: 2n, commit: 1n });
    expect(s.initialState().hardState).toEqual({ term: 3n, vote: 2n, commit: 1n });
  });
});
