/**
 * The Raft state machine of one node (Ongaro & Ousterhout, "In Search of an Understandable
 * Consensus Algorithm", and Ongaro's thesis), shaped like etcd's raft library: messages go in
 * through step(), time through tick(), and output accumulates in `msgs`, `readStates` and the
 * log's unstable tail for RawNode to hand out as a Ready.
 *
 * This file is longer than ~500 lines because the role-specific step functions share most of
 * their state; splitting them would scatter one state machine over several files.
 *
 * Membership: single-step changes (etcd's classic rule). A leader has at most one conf change
 * that is not yet applied (pendingConfIndex); a change takes effect on a node when the
 * application applies the committed entry and calls applyConfChange. Two safety guards make
 * apply-time changes sound: a new leader may propose a change only after it applied the empty
 * entry of its own term (the fix to the single-server change bug, Ongaro raft-dev 2015), and a
 * node with committed but unapplied conf changes does not campaign (etcd hup()). Known limit
 * (shared with etcd): shrinking two voters to one can stall if the removed member applies its
 * removal (and so stops campaigning) while the survivor has not yet learned that the removal
 * committed — the survivor still needs the removed member's vote. A removed leader therefore
 * hands leadership over before stepping down; operators should not remove from a 2-voter cluster.
 *
 * Invariants (asserted where they can break):
 * - term never decreases; vote is for the current term only (reset when term changes);
 * - a leader's own progress match = its last index; a leader never overwrites its log;
 * - commit only advances, never beyond lastIndex; a leader commits by counting replicas only for
 *   an entry of its own term (§5.4.2);
 * - at most one node is granted our vote per term (§5.2).
 */
import { assert, unreachable } from '../base/assert.js';
import type { Rand } from '../base/random.js';
import { utf8, equalBytes } from '../base/bytes.js';
import { u64ToBytesBE } from '../base/int64.js';
import { ErrCompacted, ErrProposalDropped, ErrSnapshotTemporarilyUnavailable } from './errors.js';
import { Progress, ProgressState } from './progress.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly, type ReadRequest } from './read-only.js';
import type { RaftStorage } from './storage.js';
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  encodeConfChange,
  type Entry,
  EntryType,
  type Message,
  message,
  MessageType,
  None,
  type ReadState,
  type Snapshot,
  StateRole,
} from './types.js';

export interface RaftConfig {
  id: bigint;
  /** Voters of a new cluster (only with empty storage); a node joining later passes none. */
  peers?: bigint[];
  /** Learners of a new cluster (only with empty storage). */
  learners?: bigint[];
  /** Context bytes of the bootstrap conf change entry of each peer (etcd puts member info here). */
  peerContext?: (id: bigint) => Uint8Array;
  /** Ticks without hearing from a leader before campaigning (randomized in [e, 2e)). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be < electionTick. */
  heartbeatTick: number;
  storage: RaftStorage;
  rand: Rand;
  /** Raft thesis §9.6: a disrupted node first asks whether it could win before bumping its term. */
  preVote?: boolean;
  /** Raft thesis §6.2: a leader that has not heard from a quorum for an election timeout steps down. */
  checkQuorum?: boolean;
  /** Bytes of entries per append message (at least one entry is always sent). */
  maxSizePerMsg?: number;
  /** Unacknowledged append messages per follower in Replicate state. */
  maxInflightMsgs?: number;
  /** Bytes of committed entries handed out per Ready (default maxSizePerMsg). */
  maxCommittedSizePerReady?: number;
  /** The application's applied index at restart (entries up to it are not handed out again). */
  applied?: bigint;
}

export const maxSizePerMsgDefault = 1024 * 1024;
export const maxInflightMsgsDefault = 256;

/** Context of a vote forced by leader transfer: it overrides the check-quorum lease (thesis §3.10). */
export const campaignTransferContext = utf8('CampaignTransfer');

enum CampaignType {
  PreElection,
  Election,
  Transfer,
}

export interface ProgressStatus {
  match: bigint;
  next: bigint;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  inflight: number;
  pendingSnapshot: bigint;
}

export class Raft {
  readonly id: bigint;
  term = 0n;
  vote = None;
  lead = None;
  state = StateRole.Follower;
  readonly log: RaftLog;
  /** Progress of every voter and learner (our view of the configuration). */
  prs = new Map<bigint, Progress>();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  leadTransferee = None;
  /** Index of the latest conf change proposed by this leader (or its own empty entry at election). */
  pendingConfIndex = 0n;

  private votes = new Map<bigint, boolean>();
  private readOnly = new ReadOnly();
  /** Reads that arrived before this leader committed an entry of its term (thesis §6.4 step 1). */
  private pendingReadIndexMessages: Message[] = [];
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  private readonly rand: Rand;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  private readonly maxMsgSize: number;
  private readonly maxInflight: number;

  constructor(c: RaftConfig) {
    assert(c.id !== None, 'cannot use none as id');
    assert(c.heartbeatTick > 0, 'heartbeat tick must be greater than 0');
    assert(c.electionTick > c.heartbeatTick, 'election tick must be greater than heartbeat tick');
    this.id = c.id;
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.rand = c.rand;
    this.preVote = c.preVote ?? false;
    this.checkQuorum = c.checkQuorum ?? false;
    this.maxMsgSize = c.maxSizePerMsg ?? maxSizePerMsgDefault;
    this.maxInflight = c.maxInflightMsgs ?? maxInflightMsgsDefault;
    this.log = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? this.maxMsgSize);

    const { hardState, confState } = c.storage.initialState();
    const peers = c.peers ?? [];
    const learners = c.learners ?? [];
    if (peers.length > 0 || learners.length > 0) {
      assert(
        confState.voters.length === 0 && confState.learners.length === 0 && c.storage.lastIndex() === 0n,
        'cannot specify both peers and a non-empty storage (bootstrap only a new node)',
      );
    }
    for (const v of confState.voters) this.prs.set(v, new Progress(1n, this.maxInflight, false));
    for (const l of confState.learners) this.prs.set(l, new Progress(1n, this.maxInflight, true));

    if (hardState.term !== 0n || hardState.vote !== None || hardState.commit !== 0n) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0n) this.log.appliedTo(c.applied);
    this.becomeFollower(this.term, None);

    if (peers.length > 0 || learners.length > 0) this.bootstrap(peers, learners, c.peerContext);
  }

  /**
   * A new cluster's first entries are conf changes adding every initial member, committed at
   * term 1 (etcd RawNode bootstrap). The application applies them like any other conf change;
   * a member that joins later replays them from the log and so learns the initial membership.
   */
  private bootstrap(peers: bigint[], learners: bigint[], ctxOf?: (id: bigint) => Uint8Array): void {
    this.becomeFollower(1n, None);
    const ccs: ConfChange[] = [
      ...peers.map((id) => ({ type: ConfChangeType.AddNode, nodeId: id, context: ctxOf?.(id) ?? new Uint8Array(0) })),
      ...learners.map((id) => ({ type: ConfChangeType.AddLearnerNode, nodeId: id, context: ctxOf?.(id) ?? new Uint8Array(0) })),
    ];
    const ents: Entry[] = ccs.map((cc, k) => ({ term: 1n, index: BigInt(k + 1), type: EntryType.ConfChange, data: encodeConfChange(cc) }));
    this.log.append(ents);
    this.log.committed = BigInt(ents.length);
    for (const cc of ccs) this.applyConfChange(cc);
  }

  private loadState(hs: { term: bigint; vote: bigint; commit: bigint }): void {
    assert(
      hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      `${this.id} state.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): { term: bigint; vote: bigint; commit: bigint } {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  isLearner(): boolean {
    return this.prs.get(this.id)?.isLearner ?? false;
  }

  voters(): bigint[] {
    return [...this.prs.entries()].filter(([, p]) => !p.isLearner).map(([id]) => id);
  }

  confState(): ConfState {
    const voters: bigint[] = [];
    const learners: bigint[] = [];
    for (const [id, p] of this.prs) (p.isLearner ? learners : voters).push(id);
    const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
    return { voters: voters.sort(cmp), learners: learners.sort(cmp) };
  }

  private quorum(): number {
    return Math.floor(this.voters().length / 2) + 1;
  }

  private hasQuorum(acks: Set<bigint>): boolean {
    let n = 0;
    for (const [id, p] of this.prs) if (!p.isLearner && acks.has(id)) n++;
    return n >= this.quorum();
  }

  /** Promotable: a voter of our configuration, with no incoming snapshot waiting to be applied. */
  promotable(): boolean {
    const pr = this.prs.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.log.hasPendingSnapshot();
  }

  progressStatus(): Map<bigint, ProgressStatus> {
    const out = new Map<bigint, ProgressStatus>();
    for (const [id, p] of this.prs) {
      out.set(id, {
        match: p.match,
        next: p.next,
        state: p.state,
        isLearner: p.isLearner,
        recentActive: p.recentActive,
        inflight: p.inflights.count(),
        pendingSnapshot: p.pendingSnapshot,
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- sending

  private send(m: Message): void {
    // A forwarded TransferLeader keeps its `from` (the transferee), as etcd's send does.
    if (m.from === None) m.from = this.id;
    if (
      m.type === MessageType.Vote ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.PreVoteResp
    ) {
      // Votes carry the term they are about (for PreVote, the future term); set by the caller.
      assert(m.term !== 0n, `term should be set when sending ${MessageType[m.type]}`);
    } else {
      assert(m.term === 0n, `term should not be set when sending ${MessageType[m.type]} (was ${m.term})`);
      // Forwarded proposals and reads stay term 0: the leader treats them like local requests.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Send entries (or a snapshot) to `to` if its progress allows. Returns whether a message was sent. */
  private maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1n;
    const prevTerm = this.log.term(prevIndex);
    let ents: Entry[] | undefined;
    if (prevTerm !== undefined) {
      try {
        ents = this.log.entries(pr.next, this.maxMsgSize);
      } catch (e) {
        if (!(e instanceof ErrCompacted)) throw e;
        ents = undefined;
      }
    }
    if (prevTerm === undefined || ents === undefined) {
      // The entries this follower needs are compacted: send a snapshot (§7).
      if (!pr.recentActive) return false;
      let snap: Snapshot;
      try {
        snap = this.log.snapshot();
      } catch (e) {
        if (e instanceof ErrSnapshotTemporarilyUnavailable) return false;
        throw e;
      }
      assert(snap.metadata.index !== 0n, 'need non-empty snapshot');
      pr.becomeSnapshot(snap.metadata.index);
      this.send(message({ type: MessageType.Snap, to, snapshot: snap }));
      return true;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(message({ type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed }));
    const last = ents[ents.length - 1];
    if (last !== undefined) {
      switch (pr.state) {
        case ProgressState.Replicate:
          pr.optimisticUpdate(last.index);
          pr.inflights.add(last.index);
          break;
        case ProgressState.Probe:
          pr.probeSent = true;
          break;
        case ProgressState.Snapshot:
          assert(false, `${this.id} is sending append in unhandled state ${pr.state}`);
      }
    }
    return true;
  }

  private sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  private sendHeartbeat(to: bigint, ctx: Uint8Array): void {
    const pr = this.prs.get(to);
    if (pr === undefined) return;
    // A follower may not have the leader's whole log yet: never tell it to commit beyond what it matched.
    const commit = pr.match < this.log.committed ? pr.match : this.log.committed;
    this.send(message({ type: MessageType.Heartbeat, to, commit, context: ctx }));
  }

  private bcastAppend(): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(ctx: Uint8Array = new Uint8Array(0)): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendHeartbeat(id, ctx);
  }

  /**
   * Start one heartbeat round for the reads queued since the last round (batching). Called by
   * RawNode before it builds a Ready, so all reads of one loop iteration share the round.
   */
  flushReadIndex(): void {
    if (this.state !== StateRole.Leader || !this.readOnly.hasPending()) return;
    const ctx = this.readOnly.startRound(this.id);
    if (ctx === undefined) return;
    // A single voter confirms itself (etcd answers at once when the leader is the only voter).
    const released = this.readOnly.recvAck(this.id, ctx, (acks) => this.hasQuorum(acks));
    if (released.length > 0) {
      this.releaseReads(released);
      return;
    }
    this.bcastHeartbeat(ctx);
  }

  hasPendingReadRound(): boolean {
    return this.state === StateRole.Leader && this.readOnly.hasPending();
  }

  private releaseReads(reqs: ReadRequest[]): void {
    for (const r of reqs) {
      if (r.from === None || r.from === this.id) this.readStates.push({ index: r.index, ctx: r.ctx });
      else this.send(message({ type: MessageType.ReadIndexResp, to: r.from, index: r.index, context: r.ctx }));
    }
  }

  // ---------------------------------------------------------------- state changes

  private reset(term: bigint): void {
    if (this.term !== term) {
      assert(term > this.term, `term must not decrease (${this.term} → ${term})`);
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.votes.clear();
    const last = this.log.lastIndex();
    for (const [id, old] of this.prs) {
      const pr = new Progress(last + 1n, this.maxInflight, old.isLearner);
      if (id === this.id) pr.match = last;
      this.prs.set(id, pr);
    }
    this.pendingConfIndex = 0n;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    // §5.2: randomized in [electionTimeout, 2 * electionTimeout) so split votes resolve quickly.
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.int(this.electionTimeout);
  }

  becomeFollower(term: bigint, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateRole.Follower;
  }

  private becomeCandidate(): void {
    assert(this.state !== StateRole.Leader, 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1n);
    this.vote = this.id;
    this.state = StateRole.Candidate;
  }

  private becomePreCandidate(): void {
    assert(this.state !== StateRole.Leader, 'invalid transition [leader -> pre-candidate]');
    // Pre-vote changes neither term nor vote: a node that cannot win disrupts nobody (thesis §9.6).
    this.votes.clear();
    this.lead = None;
    this.state = StateRole.PreCandidate;
  }

  private becomeLeader(): void {
    assert(this.state !== StateRole.Follower, 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateRole.Leader;
    const self = this.prs.get(this.id);
    assert(self !== undefined, 'leader must be in its configuration');
    self.becomeReplicate();
    // §8 / thesis §6.4: commit an entry of the new term at once, so reads and conf changes can
    // rely on the commit index; no conf change until it is applied (single-server change fix).
    this.appendEntry([{ term: 0n, index: 0n, type: EntryType.Normal, data: new Uint8Array(0) }]);
    this.pendingConfIndex = this.log.lastIndex();
  }

  private hup(t: CampaignType): void {
    if (this.state === StateRole.Leader) return;
    if (!this.promotable()) return;
    // etcd: do not campaign with committed conf changes not yet applied — our configuration
    // would be older than the one the cluster has committed.
    if (this.log.committed > this.log.applied) {
      const ents = this.log.slice(this.log.applied + 1n, this.log.committed + 1n, Number.MAX_SAFE_INTEGER);
      if (ents.some((e) => e.type === EntryType.ConfChange)) return;
    }
    this.campaign(t);
  }

  private campaign(t: CampaignType): void {
    let term: bigint;
    let voteType: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1n; // the term we would campaign in
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, true) === VoteResult.Won) {
      // A single voter wins at once.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const ctx = t === CampaignType.Transfer ? campaignTransferContext : new Uint8Array(0);
    for (const id of this.voters()) {
      if (id === this.id) continue;
      this.send(message({ type: voteType, to: id, term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(), context: ctx }));
    }
  }

  private poll(id: bigint, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    let yes = 0;
    let no = 0;
    const voters = this.voters();
    for (const v of voters) {
      const g = this.votes.get(v);
      if (g === true) yes++;
      else if (g === false) no++;
    }
    const q = Math.floor(voters.length / 2) + 1;
    if (yes >= q) return VoteResult.Won;
    if (voters.length - no < q) return VoteResult.Lost;
    return VoteResult.Pending;
  }

  // ---------------------------------------------------------------- time

  tick(): void {
    if (this.state === StateRole.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.state === StateRole.Leader && this.leadTransferee !== None) this.abortLeaderTransfer();
      this.handOverAfterRemoval();
    }
    if (this.state !== StateRole.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---------------------------------------------------------------- step

  step(m: Message): void {
    if (m.term === 0n) {
      // local message (or a forwarded proposal / read)
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = equalBytes(m.context, campaignTransferContext);
        const inLease = this.checkQuorum && this.lead !== None && this.electionElapsed < this.electionTimeout;
        // Thesis §4.2.3: while we hear from a live leader, ignore vote requests — a removed or
        // partitioned node must not disrupt the cluster. A transfer is the exception.
        if (!force && inLease) return;
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote does not change our term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // The pre-candidate moves to this term only if it wins the pre-vote.
      } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, None);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // A stale leader (e.g. back from a partition) learns our term from this and steps down;
        // with check-quorum or pre-vote no higher-term vote request would tell it otherwise.
        this.send(message({ type: MessageType.AppResp, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        this.send(message({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote: {
        // §5.2 one vote per term; §5.4.1 only for a log at least as up to date as ours.
        const canVote =
          this.vote === m.from ||
          (this.vote === None && this.lead === None) ||
          (m.type === MessageType.PreVote && m.term > this.term);
        const respType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          this.send(message({ type: respType, to: m.from, term: m.term }));
          if (m.type === MessageType.Vote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(message({ type: respType, to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        switch (this.state) {
          case StateRole.Leader:
            this.stepLeader(m);
            return;
          case StateRole.Candidate:
          case StateRole.PreCandidate:
            this.stepCandidate(m);
            return;
          case StateRole.Follower:
            this.stepFollower(m);
            return;
          default:
            unreachable(this.state);
        }
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat();
        return;
      case MessageType.CheckQuorum:
        if (!this.quorumActive()) this.becomeFollower(this.term, None);
        for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
        return;
      case MessageType.Prop:
        this.leaderPropose(m);
        return;
      case MessageType.ReadIndex:
        this.leaderReadIndex(m);
        return;
      case MessageType.TransferLeader:
        this.leaderTransfer(m.from);
        return;
      default:
        break;
    }

    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.AppResp:
        this.handleAppResp(m, pr);
        return;
      case MessageType.HeartbeatResp: {
        pr.recentActive = true;
        pr.probeSent = false;
        // Appends in flight may have been lost: let one more through, so a lost batch shows up
        // as a rejection and the follower drops back to probing instead of stalling (etcd).
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (m.context.length > 0) {
          const released = this.readOnly.recvAck(m.from, m.context, (acks) => this.hasQuorum(acks));
          this.releaseReads(released);
        }
        return;
      }
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) pr.pendingSnapshot = 0n;
        pr.becomeProbe();
        // Wait for the next heartbeat response (or append response) before probing again.
        pr.probeSent = true;
        return;
      case MessageType.Unreachable:
        // The follower may have lost messages: stop streaming and probe.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      default:
        return;
    }
  }

  private leaderPropose(m: Message): void {
    const local = m.from === this.id || m.from === None;
    assert(m.entries.length > 0, `${this.id} stepped empty MsgProp`);
    if (!this.prs.has(this.id)) {
      // Removed from the configuration: we can no longer lead (etcd drops the proposal).
      if (local) throw new ErrProposalDropped('leader was removed from the configuration');
      return;
    }
    if (this.leadTransferee !== None) {
      if (local) throw new ErrProposalDropped('leadership transfer in progress');
      return;
    }
    const ents = m.entries.map((e) => ({ ...e }));
    for (let k = 0; k < ents.length; k++) {
      const e = ents[k] as Entry;
      if (e.type !== EntryType.ConfChange) continue;
      if (this.pendingConfIndex > this.log.applied) {
        // One conf change at a time: the previous one (or this term's empty entry) must be applied.
        if (local) throw new ErrProposalDropped('a configuration change is already pending');
        ents[k] = { ...e, type: EntryType.Normal, data: new Uint8Array(0) };
      } else {
        this.pendingConfIndex = this.log.lastIndex() + BigInt(k) + 1n;
      }
    }
    this.appendEntry(ents);
    this.bcastAppend();
  }

  private leaderReadIndex(m: Message): void {
    if (!this.committedEntryInCurrentTerm()) {
      // Thesis §6.4: our commit index is only known to be current once an entry of our term committed.
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.readOnly.add({ from: m.from, ctx: m.context, index: this.log.committed });
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.zeroTerm(this.log.committed) === this.term;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.leaderReadIndex(m);
  }

  private leaderTransfer(transferee: bigint): void {
    const pr = this.prs.get(transferee);
    if (pr === undefined || pr.isLearner) return; // only a voter can lead
    const last = this.leadTransferee;
    if (last !== None) {
      if (last === transferee) return; // already in progress
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return; // already leader
    // Thesis §3.10: stop accepting proposals, bring the target up to date, then tell it to campaign.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee);
  }

  private handleAppResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let nextProbeIdx = m.rejectHint;
      if (m.logTerm > 0n) nextProbeIdx = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    switch (pr.state) {
      case ProgressState.Probe:
        pr.becomeReplicate();
        break;
      case ProgressState.Snapshot:
        if (pr.match + 1n >= this.log.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case ProgressState.Replicate:
        pr.inflights.freeLE(m.index);
        break;
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (oldPaused) {
      this.sendAppend(m.from);
    }
    // Keep the pipeline full while there is more to send.
    while (this.maybeSendAppend(m.from, false)) {
      // loop bounded by the in-flight limit
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private quorumActive(): boolean {
    const active = new Set<bigint>();
    for (const [id, pr] of this.prs) if (id === this.id || pr.recentActive) active.add(id);
    return this.hasQuorum(active);
  }

  /** §5.3/§5.4.2: the highest index replicated on a quorum of voters, committed if of our term. */
  private maybeCommit(): boolean {
    // Called once per proposal on a leader: a reused array and an insertion sort (a handful of
    // voters) instead of a new array and a sort with a comparator each time.
    const matches = this.matchScratch;
    matches.length = 0;
    for (const pr of this.prs.values()) {
      if (pr.isLearner) continue;
      const x = pr.match;
      let j = matches.length - 1;
      matches.push(x);
      while (j >= 0 && (matches[j] as bigint) < x) {
        matches[j + 1] = matches[j] as bigint;
        j--;
      }
      matches[j + 1] = x;
    }
    if (matches.length === 0) return false;
    const mci = matches[Math.floor(matches.length / 2)] as bigint;
    return this.log.maybeCommit(mci, this.term);
  }
  private readonly matchScratch: bigint[] = [];

  private appendEntry(es: Entry[]): void {
    let li = this.log.lastIndex();
    for (const e of es) {
      li += 1n;
      e.term = this.term;
      e.index = li;
    }
    li = this.log.append(es);
    // The leader's own entries count toward commit: the driver persists them before it sends the
    // appends, so no follower can acknowledge an entry the leader has not yet written.
    this.prs.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
  }

  private stepCandidate(m: Message): void {
    const myRespType = this.state === StateRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        if (m.from === this.id || m.from === None) throw new ErrProposalDropped('no leader');
        return;
      case MessageType.ReadIndex:
        if (m.from === this.id || m.from === None) throw new ErrProposalDropped('no leader');
        return;
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        return;
      default:
        break;
    }
    if (m.type !== myRespType) return;
    switch (this.poll(m.from, !m.reject)) {
      case VoteResult.Won:
        if (this.state === StateRole.PreCandidate) {
          this.campaign(CampaignType.Election);
        } else {
          this.becomeLeader();
          this.bcastAppend();
        }
        return;
      case VoteResult.Lost:
        this.becomeFollower(this.term, None);
        return;
      case VoteResult.Pending:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === None) {
          if (m.from === this.id || m.from === None) throw new ErrProposalDropped('no leader');
          return;
        }
        this.send({ ...m, to: this.lead, term: 0n });
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
        if (this.lead === None) return;
        this.send({ ...m, to: this.lead, term: 0n });
        return;
      case MessageType.TimeoutNow:
        // Thesis §3.10: the leader has brought us up to date and asks us to campaign now,
        // skipping pre-vote (the leader's followers would otherwise refuse while in lease).
        if (this.promotable()) this.hup(CampaignType.Transfer);
        return;
      case MessageType.ReadIndex:
        if (this.lead === None) {
          if (m.from === this.id || m.from === None) throw new ErrProposalDropped('no leader');
          return;
        }
        this.send({ ...m, to: this.lead, term: 0n });
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, ctx: m.context });
        return;
      default:
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit index is final and matches; tell the leader where we are.
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: lastNew }));
      return;
    }
    // Fast backtracking: skip every entry of ours whose term is above the leader's at m.index.
    const last = this.log.lastIndex();
    const hint = this.log.findConflictByTerm(m.index < last ? m.index : last, m.logTerm);
    this.send(message({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }));
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send(message({ type: MessageType.HeartbeatResp, to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    assert(s !== undefined, 'MsgSnap without snapshot');
    if (this.restore(s)) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
    }
  }

  /** Install a leader's snapshot (§7). Returns false when it is not news to us. */
  private restore(s: Snapshot): boolean {
    const meta = s.metadata;
    if (meta.index <= this.log.committed) return false;
    if (this.state !== StateRole.Follower) {
      // Only a follower receives snapshots from the leader of its term; be defensive as etcd is.
      this.becomeFollower(this.term + 1n, None);
      return false;
    }
    const cs = meta.confState;
    // Unlike etcd we accept a snapshot whose configuration does not include us yet: the
    // leader's latest snapshot may predate the conf change that added us, and refusing it
    // would stall the new member until a newer snapshot exists. Without ourselves in the
    // configuration we are not promotable until that conf change is applied from the log.
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already hold the entry at the snapshot's index: just fast-forward the commit index.
      this.log.commitTo(meta.index);
      return false;
    }
    this.log.restore(s);
    this.prs = new Map();
    const next = this.log.lastIndex() + 1n;
    for (const v of cs.voters) this.prs.set(v, new Progress(next, this.maxInflight, false));
    for (const l of cs.learners) this.prs.set(l, new Progress(next, this.maxInflight, true));
    return true;
  }

  // ---------------------------------------------------------------- membership

  /**
   * Apply a committed conf change to our configuration (the app calls this when it applies the
   * entry). Redundant changes are no-ops; a learner is never demoted from voter here; removing
   * the last voter is refused (the cluster would have no one to elect).
   */
  applyConfChange(cc: ConfChange): ConfState {
    switch (cc.type) {
      case ConfChangeType.AddNode:
        this.addNode(cc.nodeId, false);
        break;
      case ConfChangeType.AddLearnerNode:
        this.addNode(cc.nodeId, true);
        break;
      case ConfChangeType.RemoveNode:
        this.removeNode(cc.nodeId);
        break;
      default:
        unreachable(cc.type);
    }
    return this.confState();
  }

  private addNode(id: bigint, isLearner: boolean): void {
    const pr = this.prs.get(id);
    if (pr === undefined) {
      const np = new Progress(this.log.lastIndex() + 1n, this.maxInflight, isLearner);
      // A newly added node counts as active so check-quorum does not depose us before it answers.
      np.recentActive = true;
      this.prs.set(id, np);
    } else if (!isLearner && pr.isLearner) {
      pr.isLearner = false; // promotion keeps the replication progress
    } else {
      return; // redundant, or an attempt to demote a voter: ignored
    }
    // Adding a voter can only make the quorum larger: nothing to commit; start replicating now.
    if (this.state === StateRole.Leader && id !== this.id) this.sendAppend(id);
  }

  private removeNode(id: bigint): void {
    const pr = this.prs.get(id);
    if (pr === undefined) return;
    if (!pr.isLearner && this.voters().length === 1) return;
    this.prs.delete(id);
    if (this.state !== StateRole.Leader) return;
    if (this.leadTransferee === id) this.abortLeaderTransfer();
    // The quorum shrank: entries (and reads) may now be confirmed.
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    }
    for (const r of this.readOnly.openRounds().slice()) {
      if (this.hasQuorum(r.acks)) {
        this.releaseReads(this.readOnly.recvAck(this.id, idCtx(r.id), (acks) => this.hasQuorum(acks)));
        break;
      }
    }
    if (id === this.id) this.handOverAfterRemoval();
  }

  /**
   * Tell a caught-up transferee to campaign now. A leader that was removed from the configuration
   * steps down here: the hand-over is done, and the survivors no longer message us, so nothing
   * else would ever depose us. As a follower we still answer the transferee's vote request.
   */
  private sendTimeoutNow(to: bigint): void {
    this.send(message({ type: MessageType.TimeoutNow, to }));
    if (!this.prs.has(this.id)) this.becomeFollower(this.term, None);
  }

  /**
   * A removed leader steps down by handing over (thesis §4.2.2: it keeps managing the cluster,
   * no longer counting itself, until the new configuration can go on without it). Stepping down
   * at once could strand the others: in a two-voter cluster the survivor may not know the
   * removal committed and would wait forever for our vote. So we transfer leadership to the
   * most up-to-date remaining voter and step down once we told it to campaign (sendTimeoutNow),
   * retrying every election timeout. We accept no proposals meanwhile.
   */
  private handOverAfterRemoval(): void {
    if (this.state !== StateRole.Leader || this.prs.has(this.id) || this.leadTransferee !== None) return;
    let best: bigint | undefined;
    let bestMatch = -1n;
    for (const [id, pr] of this.prs) {
      if (pr.isLearner || pr.match <= bestMatch) continue;
      best = id;
      bestMatch = pr.match;
    }
    if (best !== undefined) this.leaderTransfer(best);
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  /** Whether the entries of the current configuration decide commits — for status and tests. */
  isSingleton(): boolean {
    const v = this.voters();
    return v.length === 1 && v[0] === this.id;
  }
}

enum VoteResult {
  Pending,
  Won,
  Lost,
}

function idCtx(id: bigint): Uint8Array {
  return u64ToBytesBE(id);
}
