/**
 * The stable storage the Raft core reads: what has been persisted (hard state, entries, the
 * latest snapshot). The core never writes it; the driver does, from Ready (persist before send).
 * The interface is synchronous because the core is: the server keeps the log tail in memory
 * over its classic-level store and implements this interface on that.
 *
 * MemoryStorage invariants (asserted):
 *  - ents[0] is a dummy entry holding the snapshot's index and term (the compaction point);
 *    real entries follow with consecutive indexes: ents[k].index === ents[0].index + k.
 *  - firstIndex() = ents[0].index + 1, lastIndex() = ents[0].index + ents.length - 1.
 *  - snapshot.metadata.index === ents[0].index after applySnapshot; compaction may move the
 *    dummy entry past the snapshot only up to an index a snapshot was created at (createSnapshot
 *    first, then compact), as etcd's MemoryStorage.
 */
import { assert } from '../base/assert.js';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from './errors.js';
import { type ConfState, type Entry, EntryType, type HardState, type Snapshot, entrySize } from './types.js';

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0n, term: 0n, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) };
}

export interface InitialState {
  hardState: HardState;
  /** The configuration as of the applied index the node restarts at (Config.applied). */
  confState: ConfState;
}

export interface RaftStorage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one if any, then as many as fit in maxBytes.
   *  Throws ErrCompacted if lo <= the compaction point, ErrUnavailable if hi > lastIndex+1. */
  entries(lo: bigint, hi: bigint, maxBytes: number): Entry[];
  /** Term of entry i, for i in [firstIndex-1, lastIndex]. Throws ErrCompacted / ErrUnavailable. */
  term(i: bigint): bigint;
  firstIndex(): bigint;
  lastIndex(): bigint;
  /** The most recent snapshot. May throw ErrSnapshotTemporarilyUnavailable. */
  snapshot(): Snapshot;
}

/** Return the longest prefix of ents (at least one entry) whose total size fits in maxBytes. */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0] as Entry);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n] as Entry);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

export class MemoryStorage implements RaftStorage {
  private hardState: HardState = { term: 0n, vote: 0n, commit: 0n };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0n, index: 0n, type: EntryType.Normal, data: new Uint8Array(0) }];

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  private get offset(): bigint {
    return (this.ents[0] as Entry).index;
  }

  firstIndex(): bigint {
    return this.offset + 1n;
  }

  lastIndex(): bigint {
    return this.offset + BigInt(this.ents.length) - 1n;
  }

  term(i: bigint): bigint {
    const off = this.offset;
    if (i < off) throw new ErrCompacted();
    if (i - off >= BigInt(this.ents.length)) throw new ErrUnavailable();
    return (this.ents[Number(i - off)] as Entry).term;
  }

  entries(lo: bigint, hi: bigint, maxBytes: number): Entry[] {
    const off = this.offset;
    if (lo <= off) throw new ErrCompacted();
    assert(lo <= hi, `entries: lo ${lo} > hi ${hi}`);
    if (hi > this.lastIndex() + 1n) throw new ErrUnavailable();
    if (this.ents.length === 1) throw new ErrUnavailable(); // only the dummy entry
    return limitSize(this.ents.slice(Number(lo - off), Number(hi - off)), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replace everything with the snapshot (a follower installing the leader's snapshot). */
  applySnapshot(snap: Snapshot): void {
    const idx = snap.metadata.index;
    if (idx <= this.snap.metadata.index) throw new ErrSnapOutOfDate();
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index: idx, type: EntryType.Normal, data: new Uint8Array(0) }];
  }

  /** Record a snapshot of the application at index i (i <= lastIndex), to compact up to later. */
  createSnapshot(i: bigint, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new ErrSnapOutOfDate();
    assert(i <= this.lastIndex(), `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = { metadata: { index: i, term: this.term(i), confState: cloneConfState(confState) }, data };
    return this.snap;
  }

  /** Discard entries up to and including compactIndex (which must be <= lastIndex). */
  compact(compactIndex: bigint): void {
    const off = this.offset;
    if (compactIndex <= off) throw new ErrCompacted();
    assert(compactIndex <= this.lastIndex(), `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const k = Number(compactIndex - off);
    const head = this.ents[k] as Entry;
    this.ents = [{ term: head.term, index: head.index, type: EntryType.Normal, data: new Uint8Array(0) }, ...this.ents.slice(k + 1)];
  }

  /**
   * Append entries, truncating any conflicting suffix (the core only sends consistent batches).
   * In place: the common case (appending after the last entry) costs only the new entries,
   * however long the log is.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = (entries[entries.length - 1] as Entry).index;
    if (last < first) return; // all compacted already
    let from = 0;
    if (first > (entries[0] as Entry).index) from = Number(first - (entries[0] as Entry).index);
    const start = (entries[from] as Entry).index;
    assert(start <= this.lastIndex() + 1n, `missing log entry [last: ${this.lastIndex()}, append at: ${start}]`);
    const keep = Number(start - this.offset);
    if (keep < this.ents.length) this.ents.length = keep;
    let expect = start;
    for (let i = from; i < entries.length; i++) {
      const e = entries[i] as Entry;
      assert(e.index === expect, 'storage entries not contiguous');
      expect++;
      this.ents.push(e);
    }
  }
}

export function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}
