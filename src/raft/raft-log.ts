/**
 * RaftLog: the core's view of its log = persisted entries (RaftStorage) + the unstable tail.
 *
 * Invariants (asserted):
 * - applied ≤ committed ≤ lastIndex (committed never decreases; an entry at or below committed
 *   is never replaced — Raft §5.3/§5.4, a committed entry is final);
 * - firstIndex - 1 ≤ applied (entries compacted away were applied or came in a snapshot).
 */
import { assert } from '../base/assert.js';
import { ErrCompacted, ErrUnavailable } from './errors.js';
import { limitSize, type RaftStorage } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { Unstable } from './unstable.js';

export class RaftLog {
  readonly unstable: Unstable;
  committed: bigint;
  applied: bigint;

  constructor(
    readonly storage: RaftStorage,
    /** Cap on committed entries handed out per Ready. */
    private readonly maxNextEntsBytes: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1n);
    this.committed = first - 1n;
    this.applied = first - 1n;
  }

  firstIndex(): bigint {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): bigint {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): bigint {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'unexpected error when getting the last term');
    return t;
  }

  /** Term of entry i, or undefined when i is compacted away or beyond the log. */
  term(i: bigint): bigint | undefined {
    const dummyIndex = this.firstIndex() - 1n;
    if (i < dummyIndex || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof ErrCompacted || e instanceof ErrUnavailable) return undefined;
      throw e;
    }
  }

  /** The term of i, with 0n for unknown (as etcd's zeroTermOnErrCompacted). */
  zeroTerm(i: bigint): bigint {
    return this.term(i) ?? 0n;
  }

  matchTerm(i: bigint, t: bigint): boolean {
    const got = this.term(i);
    return got !== undefined && got === t;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: bigint, term: bigint): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The follower side of AppendEntries (Raft §5.3): if our entry at `index` has term `logTerm`,
   * append the new entries, replacing only from the first conflicting one, and advance commit.
   * Returns the last index known to match the leader, or undefined if the consistency check
   * fails. Entries that already match are kept: a stale (reordered) append must not truncate
   * entries we have already acknowledged.
   */
  maybeAppend(index: bigint, logTerm: bigint, committed: bigint, ents: Entry[]): bigint | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + BigInt(ents.length);
    const ci = this.findConflict(ents);
    if (ci !== 0n) {
      assert(ci > this.committed, `entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      this.append(ents.slice(Number(ci - (index + 1n))));
    }
    this.commitTo(committed < lastNew ? committed : lastNew);
    return lastNew;
  }

  append(ents: Entry[]): bigint {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index - 1n >= this.committed, `after(${first.index - 1n}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** The index of the first entry whose term differs from ours (or that we lack); 0n if none. */
  findConflict(ents: Entry[]): bigint {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0n;
  }

  /**
   * Fast backtracking (Raft §5.3, the optimisation at its end; etcd findConflictByTerm): the
   * largest index ≤ `index` whose term is ≤ `term`, with that term (0n if unknown). Every entry
   * above it has a larger term and so cannot match the other log.
   */
  findConflictByTerm(index: bigint, term: bigint): { index: bigint; term: bigint } {
    let i = index;
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0n };
      if (t <= term) return { index: i, term: t };
      i -= 1n;
    }
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  commitTo(toCommit: bigint): void {
    if (this.committed < toCommit) {
      assert(this.lastIndex() >= toCommit, `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]`);
      this.committed = toCommit;
    }
  }

  /** Leader commit (Raft §5.4.2): only an entry of the current term commits by counting replicas. */
  maybeCommit(maxIndex: bigint, term: bigint): boolean {
    if (maxIndex > this.committed && this.zeroTerm(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: bigint): void {
    if (i === 0n) return;
    assert(this.committed >= i && i >= this.applied, `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    this.applied = i;
  }

  stableTo(i: bigint, t: bigint): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: bigint): void {
    this.unstable.stableSnapTo(i);
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Committed entries not yet applied (none while an incoming snapshot is pending). */
  nextEnts(): Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const off = this.applied + 1n > this.firstIndex() ? this.applied + 1n : this.firstIndex();
    if (this.committed + 1n > off) return this.slice(off, this.committed + 1n, this.maxNextEntsBytes);
    return [];
  }

  hasNextEnts(): boolean {
    if (this.hasPendingSnapshot()) return false;
    const off = this.applied + 1n > this.firstIndex() ? this.applied + 1n : this.firstIndex();
    return this.committed + 1n > off;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries from i to the end, within maxBytes (at least one). Throws ErrCompacted below firstIndex. */
  entries(i: bigint, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1n, maxBytes);
  }

  /** Entries [lo, hi) across storage and the unstable tail. Throws ErrCompacted if lo < firstIndex. */
  slice(lo: bigint, hi: bigint, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new ErrCompacted();
    assert(lo <= hi && hi <= this.lastIndex() + 1n, `slice[${lo},${hi}) out of bound [${this.firstIndex()},${this.lastIndex()}]`);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const stored = this.storage.entries(lo, hi < off ? hi : off, maxBytes);
      // Storage returned fewer than asked (size limit): do not look further.
      const want = (hi < off ? hi : off) - lo;
      if (BigInt(stored.length) < want) return stored;
      ents = stored;
    }
    if (hi > off) {
      const tail = this.unstable.slice(lo > off ? lo : off, hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitSize(ents, maxBytes);
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }
}
