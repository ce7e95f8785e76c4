/**
 * EtcdServer: one member of a Raft-replicated cluster (or a cluster of one) — the composition
 * root of server/. It composes what bootstrap.ts opens (backend, WAL and raft storage, lessor,
 * MVCC store, auth, Raft core) with the loop that drives the core (raft-node.ts), the peer
 * transport (member-peers.ts), the request front (kv-front.ts), the proposer (proposer.ts:
 * propose / wait / timeouts), the batched ReadIndex reads (read-index.ts), the apply chain
 * (apply-chain.ts: corrupt → capped → auth → backend), Raft snapshots (raft-snapshots.ts),
 * membership (cluster-ops.ts, member-publish.ts), leases (lease-server.ts), alarms and
 * corruption checks; and it offers the member to rpc/ through ServerApi (server-api.ts), the
 * only view rpc/ has of it.
 *
 * Write path: check → proposer (fresh id, waiter, core; a follower's core forwards it to the
 * leader; with no leader known it waits here until one is elected or the request times out) →
 * the entry commits on a quorum, each of which has fsynced it → every member applies it → the
 * proposing member's waiter gets the result. So a write is acknowledged only after it is durable
 * on a quorum. Linearizable reads: a batched ReadIndex round confirmed by a quorum, then the read
 * once the local applied index reaches the read index. Serializable reads are served locally.
 *
 * Invariants: the loop's effects (persist, send, apply, restore) run only from the loop, one
 * Ready at a time; after a snapshot install every component that caches store state (kv,
 * watchable, lessor, alarms, auth, members, the apply indexes) is reloaded before reads are
 * released; every waiter and reader is settled (result, error, timeout or stop); a member that
 * cannot go on stops serving and tells its owner once (onFatal), never staying half-dead.
 *
 * Why this file is past ~500 lines: it is wiring only — each component's host (a few closures
 * each), start and stop in their order, the loop's effects that touch several components
 * (persist, send, restore, soft state), and ServerApi's one-line methods; the logic of every
 * concern lives in the files named above.
 */
import { metrics } from '../base/metrics.js';
import { hex } from '../base/int64.js';
import { realRuntime, type Runtime, type TimerHandle } from '../base/runtime.js';
import { EtcdError, Errors } from '../api/errors.js';
import type { CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RangeRequest, RangeResponse, TxnRequest, TxnResponse } from '../api/kv-types.js';
import type { Ready } from '../raft/raw-node.js';
import { type Entry, EntryType, None, type Snapshot, type SoftState, StateRole } from '../raft/types.js';
import type { Backend } from '../storage/backend.js';
import { metaKey } from '../storage/schema.js';
import type { Disk } from '../storage/disk.js';
import { realStorage } from '../storage/storage-io.js';
import { KvStore } from '../mvcc/kv-store.js';
import { checkpointFile, removeIndexCheckpoint } from '../mvcc/index-checkpoint.js';
import { WatchableStore } from '../mvcc/watchable-store.js';
import { MemberStore } from '../membership/member-store.js';
import type { Transport } from '../peer/transport.js';
import { AlarmAction, AlarmStore, AlarmType, type AlarmRequest, type AlarmResponse } from './alarms.js';
import { dbSizeInUse, defragment, hashKV, Quota, type HashKvResult } from './maintenance.js';
import { LeaseServer } from './lease-server.js';
import type { AuthStamp } from './internal-request.js';
import type { AuthGate } from './auth-gate.js';
import type { AuthOp, AuthOpResult } from '../auth/auth-ops.js';
import { RaftNode } from './raft-node.js';
import { ReadIndexBatcher } from './read-index.js';
import { fire } from './failpoints.js';
import type { DurableRaftStorage } from './raft-storage.js';
import { CorruptionChecker } from './corruption-check.js';
import { openTransport, sendMessages } from './member-peers.js';
import { ClusterOps, type MemberAddResult } from './cluster-ops.js';
import { Applier, isClientRequest } from './apply-chain.js';
import { logStarting, newRaftCore, openAuth, openMember, saveIndexCheckpoint, type OpenedMember } from './bootstrap.js';
import { MemberPublisher } from './member-publish.js';
import { KvFront } from './kv-front.js';
import { Proposer } from './proposer.js';
import { RaftSnapshots } from './raft-snapshots.js';
import type { MemberInfo, ResponseHeaderFields, ServerApi } from './server-api.js';
import type { ServerOptions } from './server-options.js';
import { hashStore } from './store-hash.js';
import { writeSnapshotFile, type SnapshotFile } from './snapshot.js';

export type { ServerOptions } from './server-options.js';
export type { MemberInfo, ResponseHeaderFields, ServerApi } from './server-api.js';
export { clusterVersion, serverVersion } from './server-api.js';
export { readIndexRetryMs } from './read-index.js';
export { pendingProposalsMax } from './proposer.js';
export { applyBatchesInFlightMax, slowApplyMs } from './apply-chain.js';
/** How often request deadlines are checked (a timeout fires up to this much late). */
export const waitSweepMs = 100;
export { publishRetryMs } from './member-publish.js';

export class EtcdServer implements ServerApi {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  private memberStore: MemberStore;
  /** Propose, request ids, waiters and their timeouts (proposer.ts). */
  private readonly proposer: Proposer;
  /** The entry loop and the apply chain; owns the consistent and applied indexes (apply-chain.ts). */
  private readonly apply: Applier;
  /** Linearizable reads: batched ReadIndex rounds (read-index.ts). */
  private readonly reads: ReadIndexBatcher;
  /** The request front: quota, propose or ReadIndex, local reads (kv-front.ts). */
  private readonly front: KvFront;
  /** Publishes this member's attributes once a leader is known (member-publish.ts). */
  private readonly publisher: MemberPublisher;
  /** Raft snapshots: made every --snapshot-count entries, sent, received, installed (raft-snapshots.ts). */
  private readonly snapshots: RaftSnapshots;
  private stopped = false;
  private fatal: unknown = null;
  private ticker: TimerHandle | null = null;
  private sweeper: TimerHandle | null = null;
  /** Clocks, timers and randomness (base/runtime.ts): Node's, or the simulator's. */
  readonly rt: Runtime;
  /** The disk of snapshot files (storage/disk.ts): node:fs, or the simulator's. */
  private readonly disk: Disk;
  private leaderId: bigint = None;
  private role: StateRole = StateRole.Follower;
  private campaignedAlone = false;
  readonly requestTimeoutMs: number;
  /** Replicated alarms (alarms.ts) and the backend quota (maintenance.ts). */
  readonly alarms = new AlarmStore();
  readonly quota: Quota;
  /** The leader's periodic HashKV comparison with its peers (--experimental-corrupt-check-time). */
  readonly corruption: CorruptionChecker;
  readonly transport: Transport | null;
  private readonly node: RaftNode;
  /** Runtime membership and MoveLeader (cluster-ops.ts). */
  private readonly cluster: ClusterOps;
  /** Watchers over kv, told of each apply batch once it lands (mvcc/watchable-store.ts). */
  readonly watchable: WatchableStore;
  readonly backend: Backend;
  private readonly storage: DurableRaftStorage;
  public kv: KvStore;
  /** The Lease service (lease-server.ts); bound to this member in start(). */
  readonly leases: LeaseServer;
  /** Users, roles, tokens and every permission check (auth-gate.ts); opened in start(). */
  auth!: AuthGate;

  private constructor(
    readonly opts: ServerOptions,
    m: OpenedMember,
  ) {
    this.rt = opts.runtime ?? realRuntime;
    this.disk = (opts.storage ?? realStorage).disk;
    this.backend = m.backend;
    this.storage = m.storage;
    this.kv = m.kv;
    this.leases = m.leases;
    this.memberId = m.memberId;
    this.clusterId = m.clusterId;
    this.memberStore = m.members;
    this.watchable = new WatchableStore(m.kv);
    const consistentIndex = m.backend.getU64(metaKey.consistentIndex) ?? 0n;
    this.proposer = new Proposer({
      rt: this.rt,
      memberId: this.memberId,
      electionTimeoutMs: opts.electionTimeoutMs,
      maxRequestBytes: opts.maxRequestBytes,
      input: (fn) => this.node.input(fn),
      proposeToCore: (data) => this.node.core.propose(data),
      checkServing: () => this.checkServing(),
    });
    this.requestTimeoutMs = this.proposer.requestTimeoutMs;
    this.quota = new Quota(m.backend, opts.quotaBackendBytes, () => this.rt.now());
    // The hosts below read some components through getters: kv and members change with a snapshot install, auth opens after this constructor.
    const me = this;
    this.apply = new Applier(
      {
        alarms: this.alarms,
        backend: m.backend,
        failpoints: opts.failpoints,
        get kv() { return me.kv; },
        get leases() { return me.leases; },
        get auth() { return me.auth; },
        get members() { return me.memberStore; },
        get cluster() { return me.cluster; },
        get core() { return me.node.core; },
        trigger: (id, res, entry) => this.proposer.trigger(id, res, entry),
        releaseReads: () => this.reads.release(),
        onFatal: (e) => this.onFatal(e),
      },
      consistentIndex,
    );
    const core = newRaftCore(opts, this.rt, this.memberId, m.voters, m.storage, consistentIndex);
    this.node = new RaftNode(core, {
      persist: (rd) => this.persist(rd),
      send: (msgs) => sendMessages(this.transport, this.snapshots, msgs),
      restore: (snap) => this.restore(snap),
      apply: (entries) => this.apply.applyEntries(entries),
      onSoftState: (s) => this.onSoftState(s),
      onReadStates: (s) => this.reads.onReadStates(s),
      afterAdvance: () => this.afterAdvance(),
      onFatal: (err) => this.onFatal(err),
      failpoint:
        opts.failpoints && opts.failpoints.size > 0
          ? (p, rd) => {
              const action = opts.failpoints?.get(p);
              if (action === undefined) return;
              // Only in a Ready that carries a client request, so start-up itself survives.
              const hasRequest = (es: Entry[]): boolean => es.some((e) => e.type === EntryType.Normal && isClientRequest(e.data));
              if (hasRequest(rd.entries) || hasRequest(rd.committedEntries.filter((e) => e.index > this.apply.readyBaseIndex))) fire(p, action);
            }
          : undefined,
    }, (fn) => this.rt.soon(fn));
    this.reads = new ReadIndexBatcher({
      rt: this.rt,
      requestTimeoutMs: this.requestTimeoutMs,
      input: (fn) => this.node.input(fn),
      readIndex: (ctx) => this.node.core.readIndex(ctx),
      nextContext: () => this.proposer.ids.next().toString(16),
      applied: () => this.apply.appliedIndex,
      stopped: () => this.stopped,
    });
    this.front = new KvFront({
      memberId: this.memberId,
      proposer: this.proposer,
      quota: this.quota,
      get kv() { return me.kv; },
      get auth() { return me.auth; },
      checkServing: () => this.checkServing(),
      linearizableRead: () => this.linearizableRead(),
    });
    this.publisher = new MemberPublisher({
      rt: this.rt,
      memberId: this.memberId,
      clusterId: this.clusterId,
      name: opts.name,
      clientURLs: opts.advertiseClientUrls,
      logger: opts.logger,
      members: () => this.memberStore,
      propose: (make) => this.proposer.propose(make),
      stopped: () => this.stopped,
    });
    this.snapshots = new RaftSnapshots(opts, this.disk, m.backend, m.storage);
    this.transport = openTransport(opts, this.memberId, this.clusterId, {
      input: (fn) => this.node.input(fn),
      get core() { return me.node.core; },
      get snapshots() { return me.snapshots; },
      get corruption() { return me.corruption; },
      get cluster() { return me.cluster; },
      get leases() { return me.leases; },
    });
    this.corruption = new CorruptionChecker(
      {
        memberId: this.memberId,
        isLeader: () => this.isLeader(),
        peers: () => this.members.filter((m) => m.id !== this.memberId && !m.isLearner).map((m) => m.id),
        currentRev: () => this.kv.rev(),
        hash: (rev) => hashKV(this.kv, this.backend, rev),
        request: (to, kind, body, timeoutMs) =>
          this.transport ? this.transport.request(to, kind, body, timeoutMs) : Promise.reject(new Error('no peer transport')),
        raiseCorrupt: (id) => this.alarm({ action: AlarmAction.ACTIVATE, memberID: id, alarm: AlarmType.CORRUPT }),
        logger: opts.logger,
        rt: this.rt,
      },
      opts.corruptCheckTimeMs ?? 0,
    );
    this.cluster = new ClusterOps({
      rt: this.rt,
      memberId: this.memberId,
      clusterId: this.clusterId,
      logger: opts.logger,
      strictReconfigCheck: opts.strictReconfigCheck ?? true,
      requestTimeoutMs: this.requestTimeoutMs,
      electionTimeoutMs: opts.electionTimeoutMs,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      transport: this.transport,
      peerTls: opts.peerTls ?? null,
      members: () => this.memberStore,
      leader: () => this.leaderId,
      nextRequestId: () => this.proposer.ids.next(),
      withCore: (fn) =>
        new Promise((resolve, reject) => {
          if (this.stopped || this.fatal !== null) return reject(new EtcdError(Errors.Stopped));
          this.node.input(() => {
            try {
              resolve(fn(this.node.core));
            } catch (e) {
              reject(e);
            }
          });
        }),
      register: (id) => this.proposer.waits.register(id),
      fail: (id, err) => void this.proposer.waits.fail(id, err),
      propose: (make) => this.proposer.propose(make),
      stopRemoved: (reason) => void this.stop().then(() => opts.onRemoved?.(reason)),
      stopped: () => this.stopped || this.fatal !== null,
    });
  }

  static async start(opts: ServerOptions): Promise<EtcdServer> {
    const rt = opts.runtime ?? realRuntime;
    const m = await openMember(opts, rt, opts.storage ?? realStorage);
    const s = new EtcdServer(opts, m);
    s.auth = await openAuth(opts, rt, m.backend);
    m.leases.bind({
      isLeader: () => s.isLeader(),
      propose: (make) => s.proposer.propose(make),
      nextId: () => s.proposer.ids.next(),
      revision: () => s.kv.rev(),
      waitApplied: () => s.linearizableRead(),
      confirmLeadership: async () => {
        const term = s.term();
        if (!s.isLeader()) return false;
        try {
          await s.linearizableRead();
        } catch {
          return false;
        }
        return s.isLeader() && s.term() === term;
      },
      checkQuota: (cost) => s.checkQuota(cost),
      forwardToLeader: s.transport
        ? (kind, body, timeoutMs) => (s.leaderId === None ? Promise.reject(new EtcdError(Errors.NoLeader)) : (s.transport as Transport).request(s.leaderId, kind, body, timeoutMs))
        : undefined,
    });
    logStarting(opts, m, s.apply.consistentIndex, s.snapshots.index);
    await s.alarms.load(m.backend);
    if (s.transport) {
      for (const x of m.members.all()) if (x.id !== m.memberId) s.transport.addPeer(x.id, x.peerURLs);
      s.cluster.syncTransport();
      try {
        await s.transport.start();
      } catch (e) {
        await m.backend.close();
        throw e;
      }
    }
    s.ticker = s.rt.every(opts.heartbeatIntervalMs, () => s.node.input(() => s.node.core.tick()));
    // Request deadlines (proposals and linearizable reads) are swept here, not timed one by one.
    s.sweeper = s.rt.every(waitSweepMs, () => s.expireWaits());
    s.cluster.startRemovedCheck();
    s.corruption.start();
    s.campaignIfAlone();
    s.node.kick();
    return s;
  }

  // ---- accessors used by rpc ----

  get members(): MemberInfo[] {
    return this.memberStore.all();
  }

  term(): bigint {
    return this.node.core.raft.term;
  }

  leader(): bigint {
    return this.leaderId;
  }

  isLeader(): boolean {
    return this.role === StateRole.Leader;
  }

  /** Status raftIndex: the committed index, as etcd's (RaftStatusGetter.CommittedIndex). */
  raftIndex(): bigint {
    return this.node.core.raft.log.committed;
  }

  applied(): bigint {
    return this.apply.appliedIndex;
  }

  isLearner(): boolean {
    return this.memberStore.get(this.memberId)?.isLearner ?? false;
  }

  /** Proposals waiting for their apply (etcd_server_proposals_pending). */
  pendingProposalCount(): number {
    return this.proposer.waits.size;
  }

  /** Proposals that failed: timed out, or the member stopped (etcd_server_proposals_failed_total). */
  failedProposalCount(): number {
    return this.proposer.waits.failed;
  }

  header(revision: bigint = 0n): ResponseHeaderFields {
    return {
      cluster_id: this.clusterId,
      member_id: this.memberId,
      revision: revision === 0n ? this.kv.rev() : revision,
      raft_term: this.term(),
    };
  }

  private checkServing(): void {
    if (this.fatal !== null || this.stopped) throw new EtcdError(Errors.Stopped);
  }

  // ---- the loop's effects ----

  private async persist(rd: Ready): Promise<void> {
    this.apply.readyBaseIndex = this.apply.consistentIndex;
    if (rd.snapshot) {
      const ops = await this.snapshots.installOps(rd.snapshot);
      await this.storage.saveWithSnapshot(rd.snapshot, ops, rd.hardState, rd.entries);
    } else {
      await this.storage.save(rd.hardState, rd.entries, rd.mustSync);
    }
  }

  /** After a snapshot install: the store, members and indexes now come from the leader's state. */
  private async restore(snap: Snapshot): Promise<void> {
    const index = snap.metadata.index;
    await this.leases.lessor.load(this.backend);
    // The database is the leader's now: a checkpoint of ours no longer describes it.
    await removeIndexCheckpoint(checkpointFile(this.opts.dataDir), this.disk);
    this.kv = await KvStore.open(this.backend, { leases: this.leases.lessor, soon: (fn) => this.rt.soon(fn) });
    this.watchable.restore(this.kv);
    await this.alarms.reload(this.backend);
    await this.auth.reload(this.backend);
    const before = this.memberStore.all();
    this.memberStore = await MemberStore.load(this.backend);
    this.cluster.syncPeersSince(before);
    this.cluster.afterApply();
    this.apply.reset(this.backend.getU64(metaKey.consistentIndex) ?? 0n, index);
    await this.snapshots.installed(index);
    this.opts.logger.info('applied incoming snapshot', {
      'snapshot-index': index.toString(),
      'consistent-index': this.apply.consistentIndex.toString(),
      'current-revision': this.kv.rev().toString(),
    });
    this.reads.release();
  }

  private onSoftState(s: SoftState): void {
    const prev = this.leaderId;
    this.leaderId = s.leader;
    this.role = s.role;
    this.leases.onRoleChange(s.role === StateRole.Leader);
    if (s.leader !== prev) {
      this.opts.logger.info(s.leader === None ? 'raft lost leader' : 'raft elected leader', {
        'local-member-id': hex(this.memberId),
        leader: hex(s.leader),
        term: this.term().toString(),
      });
      // etcd's linearizableReadLoop: reads in flight across a leader change fail with it.
      if (prev !== None) this.reads.onLeaderChanged();
      if (s.leader !== None) {
        metrics.server.leaderChanges++;
        // Held proposals go to the core again, queued behind this Ready (proposer.ts).
        this.proposer.onLeaderElected();
        this.node.input(() => this.reads.startRound());
        this.publisher.schedule(0);
      }
    }
  }

  private async afterAdvance(): Promise<void> {
    this.campaignIfAlone();
    await this.snapshots.maybeCreate(this.node.core, () => this.node.applyDeferred());
  }

  /**
   * A cluster of one need not wait an election timeout to lead (once its configuration,
   * possibly from the bootstrap entries just applied, says it is the only voter) — at start-up
   * too: a restarted single member leads at once, as etcd's initial-election-tick-advance does.
   */
  private campaignIfAlone(): void {
    if (this.campaignedAlone || this.role === StateRole.Leader) return;
    const cs = this.node.core.raft.confState();
    if (cs.voters.length === 1 && cs.voters[0] === this.memberId) {
      this.campaignedAlone = true;
      this.node.input(() => this.node.core.campaign());
    }
  }

  /** The member cannot go on: stop serving, say why, and let the owner end the process. */
  private onFatal(err: unknown): void {
    if (this.fatal !== null) return;
    this.fatal = err;
    this.opts.logger.error('raft loop failed; member stops serving', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    this.proposer.failAll(new EtcdError(Errors.Stopped));
    this.reads.failAll(new EtcdError(Errors.Stopped));
    this.ticker?.cancel();
    this.sweeper?.cancel();
    this.opts.onFatal?.(err);
  }

  // ---- requests (kv-front.ts) ----

  put(req: PutRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<PutResponse> {
    return this.front.put(req, wire, auth);
  }

  deleteRange(req: DeleteRangeRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<DeleteRangeResponse> {
    return this.front.deleteRange(req, wire, auth);
  }

  txn(req: TxnRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<TxnResponse> {
    return this.front.txn(req, wire, auth);
  }

  compact(req: CompactionRequest, auth?: AuthStamp): Promise<CompactionResponse> {
    return this.front.compact(req, auth);
  }

  range(req: RangeRequest): Promise<RangeResponse> {
    return this.front.range(req);
  }

  checkQuota(cost: number): Promise<void> {
    return this.front.checkQuota(cost);
  }

  alarm(req: AlarmRequest): Promise<AlarmResponse> {
    return this.front.alarm(req);
  }

  authRequest(op: AuthOp, auth?: AuthStamp): Promise<AuthOpResult> {
    return this.front.authRequest(op, auth);
  }

  /**
   * Resolves once this member has joined its cluster and published its name and client URLs
   * (etcd's ReadyNotify, which etcd waits for before it tells systemd it is ready).
   */
  whenPublished(): Promise<void> {
    return this.publisher.whenPublished;
  }

  // ---- linearizable reads (ReadIndex, batched) ----

  linearizableRead(): Promise<void> {
    this.checkServing();
    return this.reads.read();
  }

  /** Fails proposals and reads past their deadline (the sweeper's tick). */
  private expireWaits(): void {
    const now = this.rt.now();
    this.proposer.expire(now);
    this.reads.expire(now);
  }

  // ---- membership (cluster-ops.ts) ----

  memberAdd(peerURLs: string[], isLearner: boolean): Promise<MemberAddResult> {
    this.checkServing();
    return this.cluster.memberAdd(peerURLs, isLearner);
  }

  memberRemove(id: bigint): Promise<MemberInfo[]> {
    this.checkServing();
    return this.cluster.memberRemove(id);
  }

  memberUpdate(id: bigint, peerURLs: string[]): Promise<MemberInfo[]> {
    this.checkServing();
    return this.cluster.memberUpdate(id, peerURLs);
  }

  memberPromote(id: bigint): Promise<MemberInfo[]> {
    this.checkServing();
    return this.cluster.memberPromote(id);
  }

  moveLeader(target: bigint): Promise<void> {
    this.checkServing();
    return this.cluster.moveLeader(target);
  }

  // ---- status and store-wide maintenance (rpc/ reaches the backend only through these) ----

  dbSize(): number {
    return this.backend.sizeOnDisk();
  }

  dbSizeInUse(): Promise<number> {
    return dbSizeInUse(this.backend);
  }

  hashStore(): Promise<{ hash: number; revision: bigint }> {
    return hashStore(this.kv, this.backend);
  }

  hashKV(revision: bigint): Promise<HashKvResult> {
    return hashKV(this.kv, this.backend, revision);
  }

  defragment(): Promise<void> {
    return defragment(this.backend);
  }

  writeSnapshotFile(file: string): Promise<SnapshotFile> {
    return writeSnapshotFile(this.backend, file);
  }

  async stop(): Promise<void> {
    this.corruption.stop();
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.cancel();
    this.sweeper?.cancel();
    this.publisher.stop();
    this.cluster.stop();
    await this.node.stop();
    this.leases.stop();
    this.auth.stop();
    this.proposer.failAll(new EtcdError(Errors.Stopped));
    this.reads.failAll(new EtcdError(Errors.Stopped));
    this.watchable.close();
    if (this.transport) await this.transport.stop();
    await this.storage.close();
    if (this.fatal === null) await saveIndexCheckpoint(this.opts, this.rt, this.disk, this.backend, this.kv);
    await this.backend.close();
  }
}
