/**
 * RawNode: the driving interface of the Raft core (etcd raft's RawNode). A pure object: it owns
 * no timer, socket, disk or randomness beyond the injected Rand; the caller supplies time
 * (tick), network input (step) and client requests, and acts on each Ready.
 *
 * PERSISTENCE CONTRACT — the driver handles one Ready at a time, in this order:
 *
 *   1. persist: Ready.hardState, Ready.snapshot (if any) and Ready.entries to RaftStorage, in
 *      one atomic write, fsynced when Ready.mustSync (a new term, a new vote or new entries);
 *   2. send Ready.messages. They may depend on step 1: a VoteResp granting a vote relies on the
 *      persisted vote (a node that forgets its vote could vote twice in one term, §5.2), an
 *      AppResp acknowledges entries the leader will count as replicated (§5.3), and the
 *      leader's own appends count toward its commit. So messages go out only after step 1;
 *   3. apply Ready.snapshot then Ready.committedEntries to the state machine, in order; for a
 *      ConfChange entry call applyConfChange() with the decoded change; serve Ready.readStates
 *      once the applied index reaches each read state's index;
 *   4. advance(ready).
 *
 * The transport must call reportSnapshot(to, ok) for every Snap message once it knows whether
 * the snapshot arrived (the leader sends nothing more to that follower until then), and may
 * call reportUnreachable(to) when a peer cannot be reached.
 *
 * Anything in memory and not yet handed out (or handed out and not yet persisted) may be lost
 * by a crash: that is safe, because nothing that depends on it has been sent. Step, tick and
 * the request methods may be called any time between Readys (not during one).
 *
 * Proposals and reads throw ErrProposalDropped when they cannot be accepted (no leader known,
 * leadership transfer in progress, removed from the configuration, conf change pending); an
 * accepted proposal may still be lost with a leader change — callers time out and retry.
 */
import { assert } from '../base/assert.js';
import { ErrProposalDropped } from './errors.js';
import { type ProgressStatus, Raft, type RaftConfig } from './raft.js';
import {
  type ConfChange,
  type ConfState,
  encodeConfChange,
  type Entry,
  EntryType,
  type HardState,
  hardStateEqual,
  isLocalMessage,
  isResponseMessage,
  type Message,
  message,
  MessageType,
  None,
  type ReadState,
  type Snapshot,
  type SoftState,
  StateRole,
} from './types.js';

export type RawNodeConfig = RaftConfig;

export interface Ready {
  /** Present when the leader or our role changed. Not persisted. */
  softState?: SoftState;
  /** Present when term, vote or commit changed: persist before sending messages. */
  hardState?: HardState;
  /** Entries to append to storage (replacing any stored entries from the first index on). */
  entries: Entry[];
  /** A snapshot received from the leader: persist it, then restore the state machine from it. */
  snapshot?: Snapshot;
  /** Committed entries to apply, in order (they are persisted by this Ready's step 1 at the latest). */
  committedEntries: Entry[];
  /** Messages to send after persisting. */
  messages: Message[];
  /** Confirmed linearizable reads, for requests made through readIndex(). */
  readStates: ReadState[];
  /** Whether step 1 must fsync (term, vote or entries changed). */
  mustSync: boolean;
}

export interface Status {
  id: bigint;
  term: bigint;
  vote: bigint;
  leader: bigint;
  role: StateRole;
  commit: bigint;
  applied: bigint;
  lastIndex: bigint;
  leadTransferee: bigint;
  confState: ConfState;
  /** Replication progress per member (leader only; empty otherwise). */
  progress: Map<bigint, ProgressStatus>;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;

  constructor(config: RawNodeConfig) {
    this.raft = new Raft(config);
    this.prevSoft = { leader: this.raft.lead, role: this.raft.state };
    // A bootstrapped node has new state to persist; a restarted node starts from what it loaded.
    const bootstrapped = (config.peers?.length ?? 0) + (config.learners?.length ?? 0) > 0;
    this.prevHard = bootstrapped ? { term: 0n, vote: None, commit: 0n } : this.raft.hardState();
  }

  get id(): bigint {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  /** Campaign now (without waiting for the election timeout). */
  campaign(): void {
    this.raft.step(message({ type: MessageType.Hup, from: this.raft.id }));
  }

  propose(data: Uint8Array): void {
    this.raft.step(
      message({ type: MessageType.Prop, from: this.raft.id, entries: [{ term: 0n, index: 0n, type: EntryType.Normal, data }] }),
    );
  }

  proposeConfChange(cc: ConfChange): void {
    this.raft.step(
      message({
        type: MessageType.Prop,
        from: this.raft.id,
        entries: [{ term: 0n, index: 0n, type: EntryType.ConfChange, data: encodeConfChange(cc) }],
      }),
    );
  }

  /**
   * Ask for a linearizable read point; a ReadState with the same ctx appears in a later Ready
   * (or never, if leadership changes — the caller times out). ctx should be unique per request.
   */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(message({ type: MessageType.ReadIndex, from: this.raft.id, context: ctx }));
  }

  /** Ask the leader to hand leadership to `to` (a voter). Works from any member that knows the leader. */
  transferLeader(to: bigint): void {
    this.raft.step(message({ type: MessageType.TransferLeader, from: to }));
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Deliver a message from a peer. Local-only types and responses from non-members are ignored. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) return;
    if (isResponseMessage(m.type) && !this.raft.prs.has(m.from)) return;
    try {
      this.raft.step(m);
    } catch (e) {
      // A forwarded proposal or read that cannot be accepted here is dropped like a lost message.
      if (e instanceof ErrProposalDropped) return;
      throw e;
    }
  }

  reportUnreachable(id: bigint): void {
    this.raft.step(message({ type: MessageType.Unreachable, from: id }));
  }

  /** Report whether the snapshot sent to `id` was delivered; the leader resumes probing either way. */
  reportSnapshot(id: bigint, ok: boolean): void {
    this.raft.step(message({ type: MessageType.SnapStatus, from: id, reject: !ok }));
  }

  hasReady(): boolean {
    const r = this.raft;
    if (r.hasPendingReadRound()) return true;
    if (r.lead !== this.prevSoft.leader || r.state !== this.prevSoft.role) return true;
    if (!hardStateEqual(r.hardState(), this.prevHard)) return true;
    if (r.log.unstable.snapshot !== undefined) return true;
    if (r.msgs.length > 0 || r.log.unstable.entries.length > 0 || r.readStates.length > 0) return true;
    return r.log.hasNextEnts();
  }

  ready(): Ready {
    const r = this.raft;
    r.flushReadIndex();
    const entries = r.log.unstableEntries();
    const hs = r.hardState();
    const rd: Ready = {
      entries,
      committedEntries: r.log.nextEnts(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote,
    };
    if (r.lead !== this.prevSoft.leader || r.state !== this.prevSoft.role) rd.softState = { leader: r.lead, role: r.state };
    if (!hardStateEqual(hs, this.prevHard)) rd.hardState = hs;
    if (r.log.unstable.snapshot !== undefined) rd.snapshot = r.log.unstable.snapshot;
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** Acknowledge that the Ready was persisted, sent and applied (see the contract above). */
  advance(rd: Ready): void {
    const log = this.raft.log;
    if (rd.softState !== undefined) this.prevSoft = rd.softState;
    if (rd.hardState !== undefined) this.prevHard = rd.hardState;
    if (rd.snapshot !== undefined) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      log.appliedTo(rd.snapshot.metadata.index);
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) log.appliedTo(lastApplied.index);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term);
    assert(log.applied <= log.committed, 'applied beyond commit');
  }

  status(): Status {
    const r = this.raft;
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      leader: r.lead,
      role: r.state,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      leadTransferee: r.leadTransferee,
      confState: r.confState(),
      progress: r.state === StateRole.Leader ? r.progressStatus() : new Map(),
    };
  }
}
