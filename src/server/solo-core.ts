/**
 * SoloCore: the consensus core of a cluster of exactly one voter, with the same driving
 * contract as the Raft core (src/raft RawNode): propose/readIndex feed it, ready() says what to
 * persist, what is committed and which reads are ready, advance() acknowledges.
 *
 * It exists so the single-member store runs the real write path (durable log → commit → apply)
 * before the replicated cluster swaps in RawNode; with one voter Raft degenerates to this.
 *
 * Invariants:
 * - indexes are contiguous: every proposal gets lastIndex + 1; terms never decrease;
 * - an entry is committed only in a Ready that also carries it (or carried it) for persisting,
 *   and the driver persists (synced) before it applies (persist → apply);
 * - applied ≤ commit ≤ lastIndex; read states name an index ≤ commit at the time they are
 *   issued, and are released only after every entry up to that index is in a Ready.
 */
import { assert } from '../base/assert.js';
import { EntryType, type Entry, type HardState, type ReadState } from '../raft/types.js';

// The entry, hard state and read state shapes are the Raft core's own (src/raft/types.ts), so
// swapping SoloCore for RawNode changes no persistence or apply code.
export { EntryType, type Entry, type HardState, type ReadState } from '../raft/types.js';

export interface CoreReady {
  hardState?: HardState;
  entries: Entry[];
  committedEntries: Entry[];
  readStates: ReadState[];
  mustSync: boolean;
}

export interface CoreStatus {
  id: bigint;
  term: bigint;
  leader: bigint;
  commit: bigint;
  applied: bigint;
  lastIndex: bigint;
}

export interface SoloCoreInit {
  id: bigint;
  hardState: HardState;
  lastIndex: bigint;
  lastTerm: bigint;
  applied: bigint;
  /** Entries in (applied, hardState.commit] still to be applied after a restart. */
  toApply: Entry[];
}

export class SoloCore {
  private readonly id: bigint;
  private term: bigint;
  private vote: bigint;
  private commit: bigint;
  private applied: bigint;
  private lastIndex: bigint;
  private unstable: Entry[] = [];
  /** Committed but not yet handed out in a Ready. */
  private pendingApply: Entry[];
  private pendingReads: ReadState[] = [];
  private hardStateDirty: boolean;
  private inFlight: CoreReady | null = null;

  constructor(init: SoloCoreInit) {
    assert(init.hardState.commit <= init.lastIndex, 'commit beyond last index');
    this.id = init.id;
    this.term = init.hardState.term;
    this.vote = init.hardState.vote;
    this.commit = init.lastIndex;
    this.applied = init.applied;
    this.lastIndex = init.lastIndex;
    this.pendingApply = init.toApply;
    // Everything in the durable log of a single voter is committed: it was synced, and the only
    // quorum is this member. Entries past commit (synced before a crash, hard state not yet
    // updated) are therefore committed too, as a restarted etcd single member would do.
    // Become leader of a new term and append an empty entry, as a Raft leader does (§5.4.2:
    // entries of earlier terms commit through an entry of the current term).
    this.term += 1n;
    this.vote = this.id;
    this.hardStateDirty = true;
    this.append(new Uint8Array(0));
  }

  private append(data: Uint8Array): Entry {
    this.lastIndex += 1n;
    const e: Entry = { term: this.term, index: this.lastIndex, type: EntryType.Normal, data };
    this.unstable.push(e);
    return e;
  }

  propose(data: Uint8Array): bigint {
    return this.append(data).index;
  }

  /** Confirms a read at the current last index: every write that completed before is ≤ it. */
  readIndex(ctx: Uint8Array): void {
    this.pendingReads.push({ index: this.lastIndex, ctx });
  }

  hasReady(): boolean {
    assert(this.inFlight === null, 'hasReady while a Ready is in flight');
    return this.unstable.length > 0 || this.pendingApply.length > 0 || this.pendingReads.length > 0 || this.hardStateDirty;
  }

  ready(): CoreReady {
    assert(this.inFlight === null, 'ready() twice without advance()');
    const entries = this.unstable;
    this.unstable = [];
    const committedEntries = this.pendingApply.concat(entries);
    this.pendingApply = [];
    if (entries.length > 0) {
      this.commit = this.lastIndex;
      this.hardStateDirty = true;
    }
    const rd: CoreReady = {
      entries,
      committedEntries,
      readStates: this.pendingReads,
      mustSync: entries.length > 0 || this.hardStateDirty,
    };
    this.pendingReads = [];
    if (this.hardStateDirty) rd.hardState = { term: this.term, vote: this.vote, commit: this.commit };
    this.hardStateDirty = false;
    this.inFlight = rd;
    return rd;
  }

  advance(rd: CoreReady): void {
    assert(this.inFlight === rd, 'advance() with a Ready that is not in flight');
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    if (last) {
      assert(last.index <= this.commit, 'applied beyond commit');
      this.applied = last.index;
    }
    this.inFlight = null;
  }

  status(): CoreStatus {
    return {
      id: this.id,
      term: this.term,
      leader: this.id,
      commit: this.commit,
      applied: this.applied,
      lastIndex: this.lastIndex,
    };
  }
}
