/**
 * EtcdServer: one member of a Raft-replicated cluster (or a cluster of one) — the composition
 * root of server/. It composes what bootstrap.ts opens (backend, WAL and raft storage, lessor,
 * MVCC store, Raft core) with the loop that drives the core (raft-node.ts), the peer transport,
 * the proposer (proposer.ts: propose / wait / timeouts), the batched ReadIndex reads
 * (read-index.ts), the apply chain (apply-chain.ts: corrupt → capped → auth → backend), the
 * incoming snapshots (snapshot-inbox.ts), membership (cluster-ops.ts), leases (lease-server.ts),
 * auth (auth-gate.ts), alarms and corruption checks; and it offers the member to rpc/ through
 * ServerApi (server-api.ts), the only view rpc/ has of it.
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
 */
import { metrics } from '../base/metrics.js';
import { hex } from '../base/int64.js';
import { realRuntime, type Runtime, type TimerHandle } from '../base/runtime.js';
import { EtcdError, Errors } from '../api/errors.js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../api/kv-types.js';
import type { Ready } from '../raft/raw-node.js';
import { type Entry, EntryType, type Message, MessageType, None, type Snapshot, type SoftState, StateRole } from '../raft/types.js';
import { Backend, WriteBatch } from '../storage/backend.js';
import { metaKey } from '../storage/schema.js';
import type { Disk } from '../storage/disk.js';
import { realStorage } from '../storage/storage-io.js';
import { KvStore } from '../mvcc/kv-store.js';
import { checkpointFile, removeIndexCheckpoint } from '../mvcc/index-checkpoint.js';
import { WatchableStore } from '../mvcc/watchable-store.js';
import { type Member, MemberStore } from '../membership/member-store.js';
import { createPeerTransport, type PeerHandler, type Transport } from '../peer/transport.js';
import { applyRange, applyTxn } from './apply-kv.js';
import { AlarmAction, AlarmStore, AlarmType, putCost, txnCost, type AlarmRequest, type AlarmResponse } from './alarms.js';
import { dbSizeInUse, defragment, hashKV, Quota, type HashKvResult } from './maintenance.js';
import { LeaseServer } from './lease-server.js';
import { RequestKind, type AuthStamp } from './internal-request.js';
import { AuthGate } from './auth-gate.js';
import type { AuthOp, AuthOpResult } from '../auth/auth-ops.js';
import { RaftNode } from './raft-node.js';
import { ReadIndexBatcher } from './read-index.js';
import { fire } from './failpoints.js';
import type { DurableRaftStorage } from './raft-storage.js';
import { dumpState } from './state-snapshot.js';
import { CorruptionChecker, hashKvPeerRequest } from './corruption-check.js';
import { ClusterOps, type MemberAddResult } from './cluster-ops.js';
import { Applier, isClientRequest } from './apply-chain.js';
import { newRaftCore, openMember, type OpenedMember } from './bootstrap.js';
import { Proposer } from './proposer.js';
import { SnapshotInbox } from './snapshot-inbox.js';
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
/** How often a member retries publishing its attributes until it succeeds. */
export const publishRetryMs = 2_000;

interface CompactApplied {
  revision: bigint;
  physical: Promise<void>;
}

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
  /** State files of incoming Raft snapshots (snapshot-inbox.ts). */
  private readonly inbox: SnapshotInbox;
  private stopped = false;
  private fatal: unknown = null;
  private ticker: TimerHandle | null = null;
  private sweeper: TimerHandle | null = null;
  private publishTimer: TimerHandle | null = null;
  /** Clocks, timers and randomness (base/runtime.ts): Node's, or the simulator's. */
  readonly rt: Runtime;
  /** The disk of snapshot files (storage/disk.ts): node:fs, or the simulator's. */
  private readonly disk: Disk;
  private published = false;
  private leaderId: bigint = None;
  private role: StateRole = StateRole.Follower;
  private snapshotIndex: bigint;
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
    this.snapshotIndex = m.storage.snapshot().metadata.index;
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
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters of the apply host read this member's current components
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
        trigger: (id, res) => this.proposer.trigger(id, res),
        releaseReads: () => this.reads.release(),
        onFatal: (e) => this.onFatal(e),
      },
      consistentIndex,
    );
    const core = newRaftCore(opts, this.rt, this.memberId, m.voters, m.storage, consistentIndex);
    this.node = new RaftNode(core, {
      persist: (rd) => this.persist(rd),
      send: (msgs) => this.send(msgs),
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
    this.inbox = new SnapshotInbox(opts.dataDir, this.disk, m.backend, opts.logger);
    const handler: PeerHandler = {
      process: (m) => this.node.input(() => this.node.core.step(m)),
      reportUnreachable: (id) => this.node.input(() => this.node.core.reportUnreachable(id)),
      reportSnapshot: (id, ok) => this.node.input(() => this.node.core.reportSnapshot(id, ok)),
      receiveSnapshot: (m, data) => this.inbox.receive(m, data),
      onRequest: async (from, kind, body) => {
        if (kind === hashKvPeerRequest) return this.corruption.answer(body);
        const membership = this.cluster.onPeerRequest(kind, body);
        if (membership !== undefined) return membership;
        const answer = await this.leases.onPeerRequest(kind, body);
        if (answer === undefined) throw new Error(`unknown peer request ${kind} from ${hex(from)}`);
        return answer;
      },
      clusterInfo: () => this.cluster.clusterInfo(),
    };
    const self = { memberId: this.memberId, clusterId: this.clusterId };
    if (opts.transport) this.transport = opts.transport({ ...self, handler });
    else if (opts.listenPeerUrls && opts.listenPeerUrls.length > 0) {
      this.transport = createPeerTransport({ ...self, listenPeerUrls: opts.listenPeerUrls, logger: opts.logger, handler, tls: opts.peerTls });
    } else this.transport = null;
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
    s.auth = await AuthGate.open(m.backend, {
      authToken: opts.authToken,
      tokenTtlMs: (opts.authTokenTtlSeconds ?? 300) * 1000,
      bcryptCost: opts.bcryptCost ?? 10,
      clientCertAuth: opts.clientCertAuth ?? false,
      logger: opts.logger,
      runtime: rt,
    });
    m.leases.bind({
      isLeader: () => s.isLeader(),
      propose: (make) => s.proposer.propose(make),
      nextId: () => s.proposer.ids.next(),
      revision: () => s.kv.rev(),
      waitApplied: () => s.linearizableRead(),
      checkQuota: (cost) => s.checkQuota(cost),
      forwardToLeader: s.transport
        ? (kind, body, timeoutMs) => (s.leaderId === None ? Promise.reject(new EtcdError(Errors.NoLeader)) : (s.transport as Transport).request(s.leaderId, kind, body, timeoutMs))
        : undefined,
    });
    opts.logger.info('starting etcdts member', {
      'local-member-id': hex(m.memberId),
      'cluster-id': hex(m.clusterId),
      'bootstrapping-new-cluster': m.bootstrapping,
      'consistent-index': s.apply.consistentIndex.toString(),
      'snapshot-index': s.snapshotIndex.toString(),
      'last-index': m.storage.lastIndex().toString(),
      'current-revision': m.kv.rev().toString(),
      members: m.members.all().map((x) => `${hex(x.id)}=${x.peerURLs.join(',')}`),
      // Where start-up time went (etcd logs "recovered v3 backend ... took" likewise).
      'open-backend-took-ms': m.took.backend,
      'load-wal-took-ms': m.took.wal,
      'load-leases-took-ms': m.took.leases,
      'restore-mvcc-took-ms': m.took.mvcc,
      'index-checkpoint-revision': m.checkpointRevision,
      'mvcc-restored-from': m.kv.restoredFrom,
      keys: m.kv.keyCount(),
    });
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
      const ops = await this.inbox.installOps(rd.snapshot);
      await this.storage.saveWithSnapshot(rd.snapshot, ops, rd.hardState, rd.entries);
    } else {
      await this.storage.save(rd.hardState, rd.entries, rd.mustSync);
    }
  }

  private send(msgs: Message[]): void {
    if (!this.transport) return;
    const plain: Message[] = [];
    for (const m of msgs) {
      if (m.type === MessageType.Snap) {
        // The core's snapshot carries metadata only; the state itself streams from the store.
        this.opts.logger.info('sending database snapshot', {
          'remote-peer-id': hex(m.to),
          'snapshot-index': m.snapshot?.metadata.index.toString(),
        });
        this.transport.sendSnapshot(m, () => dumpState(this.backend));
      } else {
        plain.push(m);
      }
    }
    if (plain.length > 0) this.transport.send(plain);
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
    this.syncPeers(before);
    this.cluster.syncTransport();
    this.cluster.afterApply();
    this.apply.reset(this.backend.getU64(metaKey.consistentIndex) ?? 0n, index);
    this.snapshotIndex = index;
    await this.inbox.installed(index);
    this.opts.logger.info('applied incoming snapshot', {
      'snapshot-index': index.toString(),
      'consistent-index': this.apply.consistentIndex.toString(),
      'current-revision': this.kv.rev().toString(),
    });
    this.reads.release();
  }

  private syncPeers(before: Member[]): void {
    if (!this.transport) return;
    const now = this.memberStore.all();
    for (const m of now) {
      if (m.id === this.memberId) continue;
      const old = before.find((b) => b.id === m.id);
      if (!old) this.transport.addPeer(m.id, m.peerURLs);
      else if (old.peerURLs.join(',') !== m.peerURLs.join(',')) this.transport.updatePeer(m.id, m.peerURLs);
    }
    for (const b of before) if (b.id !== this.memberId && !now.some((m) => m.id === b.id)) this.transport.removePeer(b.id);
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
        this.schedulePublish(0);
      }
    }
  }

  private async afterAdvance(): Promise<void> {
    this.campaignIfAlone();
    await this.maybeSnapshot();
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

  private async maybeSnapshot(): Promise<void> {
    const applied = this.node.core.raft.log.applied;
    if (applied - this.snapshotIndex < BigInt(this.opts.snapshotCount)) return;
    await this.backend.drain();
    const compactTo = applied - BigInt(this.opts.snapshotCatchupEntries);
    await this.storage.createSnapshot(applied, this.node.core.raft.confState(), compactTo);
    this.opts.logger.info('saved snapshot', {
      'snapshot-index': applied.toString(),
      'compacted-to': (compactTo > 0n ? compactTo : 0n).toString(),
    });
    this.snapshotIndex = applied;
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

  // ---- requests ----

  /**
   * `wire`: the request's protobuf bytes as the client sent them (they become the entry).
   * `auth`: who asks, while auth is enabled (auth-gate.ts checks it at apply).
   */
  put(req: PutRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<PutResponse> {
    const cost = putCost(req.key, req.value);
    // Within the quota by the cached figure: no await on the way to propose.
    if (this.quota.availableNow(cost)) return this.proposer.propose((id) => ({ kind: RequestKind.Put, id, req, wire, auth }));
    return this.checkQuota(cost).then(() => this.proposer.propose((id) => ({ kind: RequestKind.Put, id, req, wire, auth })));
  }

  /**
   * etcd quotaKVServer / quotaLeaseServer: over quota, raise NOSPACE (through Raft) and refuse
   * the request. `cost` from alarms.ts putCost / txnCost / leaseOverheadBytes.
   */
  async checkQuota(cost: number): Promise<void> {
    if (await this.quota.available(cost)) return;
    await this.alarm({ action: AlarmAction.ACTIVATE, memberID: this.memberId, alarm: AlarmType.NOSPACE }).catch(() => undefined);
    throw new EtcdError(Errors.NoSpace);
  }

  /** Maintenance.Alarm: every action goes through Raft, as etcd's. */
  alarm(req: AlarmRequest): Promise<AlarmResponse> {
    return this.proposer.propose((id) => ({ kind: RequestKind.Alarm, id, req }));
  }

  deleteRange(req: DeleteRangeRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<DeleteRangeResponse> {
    return this.proposer.propose((id) => ({ kind: RequestKind.DeleteRange, id, req, wire, auth }));
  }

  async txn(req: TxnRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<TxnResponse> {
    await this.checkQuota(txnCost(req));
    if (isReadOnlyTxn(req)) {
      // etcd serves read-only txns like reads: after a ReadIndex round, locally.
      await this.linearizableRead();
      this.auth.checkTxn(auth ?? null, req);
      const res = applyTxn(this.kv, new WriteBatch(), req);
      this.auth.checkStillCurrent(auth ?? null);
      return res.resp;
    }
    return this.proposer.propose((id) => ({ kind: RequestKind.Txn, id, req, wire, auth }));
  }

  async compact(req: CompactionRequest, auth?: AuthStamp): Promise<CompactionResponse> {
    const res = await this.proposer.propose<CompactApplied>((id) => ({ kind: RequestKind.Compaction, id, req, auth }));
    if (req.physical) await res.physical;
    return { header: { revision: res.revision } };
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    this.checkServing();
    if (!req.serializable) await this.linearizableRead();
    metrics.mvcc.range++;
    return applyRange(this.kv, req);
  }

  /** An Auth service request through Raft (auth-gate.ts checks it at apply). */
  authRequest(op: AuthOp, auth?: AuthStamp): Promise<AuthOpResult> {
    return this.proposer.propose((id) => ({ kind: RequestKind.Auth, id, req: op, auth }));
  }

  // ---- membership: publish this member's attributes (etcd's publish) ----

  private schedulePublish(delayMs: number): void {
    if (this.published || this.stopped || this.publishTimer !== null) return;
    this.publishTimer = this.rt.after(delayMs, () => {
      this.publishTimer = null;
      void this.publish();
    });
  }

  private async publish(): Promise<void> {
    const self = this.memberStore.get(this.memberId);
    const want = { name: this.opts.name, clientURLs: this.opts.advertiseClientUrls };
    if (self && self.name === want.name && self.clientURLs.join(',') === want.clientURLs.join(',')) {
      this.published = true;
      return;
    }
    try {
      await this.proposer.propose((id) => ({ kind: RequestKind.MemberPublish, id, req: { memberId: this.memberId, ...want } }));
      this.published = true;
      this.opts.logger.info('published local member to cluster through raft', {
        'local-member-id': hex(this.memberId),
        'local-member-attributes': `{Name:${want.name} ClientURLs:[${want.clientURLs.join(' ')}]}`,
        'cluster-id': hex(this.clusterId),
      });
    } catch (e) {
      if (this.stopped) return;
      this.opts.logger.warn('failed to publish local member to cluster through raft', { error: String(e) });
      this.schedulePublish(publishRetryMs);
    }
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
    this.publishTimer?.cancel();
    this.cluster.stop();
    await this.node.stop();
    this.leases.stop();
    this.auth.stop();
    this.proposer.failAll(new EtcdError(Errors.Stopped));
    this.reads.failAll(new EtcdError(Errors.Stopped));
    this.watchable.close();
    if (this.transport) await this.transport.stop();
    await this.storage.close();
    if (this.fatal === null) await this.checkpointIndex();
    await this.backend.close();
  }

  /** Writes the key index checkpoint (mvcc/index-checkpoint.ts) for the next start. */
  private async checkpointIndex(): Promise<void> {
    try {
      await this.backend.drain();
      const t0 = this.rt.now();
      // An injected runtime (the simulator) names the checkpoint from its seeded random source.
      const id = this.opts.runtime ? Buffer.from(Array.from({ length: 8 }, () => this.rt.random.int(256))) : undefined;
      const bytes = await this.kv.writeCheckpoint(checkpointFile(this.opts.dataDir), this.disk, id);
      this.opts.logger.info('saved key index checkpoint', { keys: this.kv.keyCount(), revision: this.kv.rev().toString(), bytes, took: `${this.rt.now() - t0}ms` });
    } catch (e) {
      this.opts.logger.warn('failed to save key index checkpoint; the next start reads every record', { error: e instanceof Error ? e.message : String(e) });
    }
  }
}

function isReadOnlyTxn(t: TxnRequest): boolean {
  const ops = [...t.success, ...t.failure];
  return ops.every((op) => op.request === 'request_range' || (op.request === 'request_txn' && !!op.request_txn && isReadOnlyTxn(op.request_txn)));
}

