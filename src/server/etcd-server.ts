/**
 * EtcdServer: one member of a Raft-replicated cluster (or a cluster of one). It owns the
 * backend, the Raft core (src/raft RawNode) over durable storage, the loop that drives it
 * (raft-node.ts), the peer transport, the MVCC store and apply, and offers the KV operations to
 * the rpc layer.
 *
 * Write path: check → encode as an internal request with a fresh id → register a waiter →
 * propose (a follower's core forwards it to the leader; with no leader known the proposal waits
 * here until one is elected or the request times out) → the entry commits on a quorum, each of
 * which has fsynced it → every member applies it → the proposing member's waiter gets the
 * result. So a write is acknowledged only after it is durable on a quorum.
 * Linearizable reads: one ReadIndex round at a time confirmed by a quorum (reads arriving during
 * a round share the next one; a round with no answer is re-asked every readIndexRetryMs), then
 * the read once the local applied index reaches the read index. Serializable reads are served
 * locally at once.
 *
 * Invariants: the consistent index in the backend equals the index of the last entry whose
 * effects are in the store, written in the same batch as those effects; entries at or below it
 * are never applied to the store again (after a restart or a snapshot install) — but conf
 * changes among them are still given to the Raft core, whose configuration is not in the store;
 * apply reads only the entry and the store (deterministic); every waiter is settled (result,
 * error, timeout or stop).
 *
 * Why this file is past ~500 lines: it is the one owner of the loop's effects and of the
 * member's request API, so every service hooks in here; the logic of each concern lives beside
 * it (apply-kv.ts, apply-lease.ts, lease-server.ts, cluster-ops.ts, alarms.ts,
 * corruption-check.ts, state-snapshot.ts). The next split moves the ReadIndex batching and the
 * proposal/wait path into files of their own.
 */
import { metrics } from '../base/metrics.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { assert } from '../base/assert.js';
import type { Logger } from '../base/logger.js';
import type { TlsMaterial } from '../base/tls.js';
import { hex } from '../base/int64.js';
import { SeededRand } from '../base/random.js';
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
import { ErrProposalDropped } from '../raft/errors.js';
import { RawNode, type Ready } from '../raft/raw-node.js';
import { type Entry, EntryType, type Message, MessageType, None, type Snapshot, type SoftState, StateRole } from '../raft/types.js';
import { Backend, WriteBatch, backendBatchIntervalMsDefault, backendBatchLimitDefault } from '../storage/backend.js';
import { metaKey } from '../storage/schema.js';
import type { Disk } from '../storage/disk.js';
import { realStorage, type StorageIo } from '../storage/storage-io.js';
import { KvStore } from '../mvcc/kv-store.js';
import { checkpointFile, readIndexCheckpoint, removeIndexCheckpoint } from '../mvcc/index-checkpoint.js';
import { WatchableStore } from '../mvcc/watchable-store.js';
import { type Member, MemberStore, encodeMembers } from '../membership/member-store.js';
import { createPeerTransport, type PeerHandler, type Transport } from '../peer/transport.js';
import { applyCompaction, applyDeleteRange, applyPut, applyRange, applyTxn } from './apply-kv.js';
import { AlarmAction, AlarmStore, AlarmType, putCost, txnCost, type AlarmRequest, type AlarmResponse } from './alarms.js';
import { hashKV, Quota } from './maintenance.js';
import { applyLease, leaseAlarmCheck } from './apply-lease.js';
import { LeaseServer } from './lease-server.js';
import { decodeInternal, encodeInternal, internalKind, RequestKind, type AuthStamp, type InternalRequest } from './internal-request.js';
import { AuthGate } from './auth-gate.js';
import { applyAuth } from './apply-auth.js';
import type { AuthOp, AuthOpResult } from '../auth/auth-ops.js';
import { RaftNode } from './raft-node.js';
import { ReadIndexBatcher } from './read-index.js';
import { fire, type Failpoints } from './failpoints.js';
import { DurableRaftStorage } from './raft-storage.js';
import { RequestIdGenerator } from './request-id.js';
import { dumpState, installOps, parseStateFile, storeStateFile } from './state-snapshot.js';
import { WaitRegistry } from './wait.js';
import { CorruptionChecker, hashKvPeerRequest } from './corruption-check.js';
import { ClusterOps, type MemberAddResult } from './cluster-ops.js';

export type MemberInfo = Member;

export interface ServerOptions {
  name: string;
  dataDir: string;
  memberId: bigint;
  clusterId: bigint;
  /** The bootstrap member list (used only when the data dir is new). */
  members: MemberInfo[];
  /** --experimental-corrupt-check-time in ms (0: no periodic corruption check, etcd's default). */
  corruptCheckTimeMs?: number;
  /** --initial-cluster-state: with 'new', a data dir of another cluster is refused. */
  initialClusterState?: 'new' | 'existing';
  /** --initial-cluster-token, recorded in a new data dir. */
  initialClusterToken?: string;
  /** This member's client URLs, published to the cluster once it runs. */
  advertiseClientUrls: string[];
  maxTxnOps: number;
  maxRequestBytes: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  quotaBackendBytes: number;
  /** Applied entries between two Raft snapshots (--snapshot-count). */
  snapshotCount: number;
  /** --backend-batch-interval (ms) and --backend-batch-limit: 0 or absent is etcd's default. */
  backendBatchIntervalMs?: number;
  backendBatchLimit?: number;
  /** Entries kept in the log behind a snapshot for slow followers (--experimental-snapshot-catchup-entries). */
  snapshotCatchupEntries: number;
  preVote: boolean;
  logger: Logger;
  /** Where to serve peer traffic (--listen-peer-urls): the gRPC peer transport listens there. */
  listenPeerUrls?: string[];
  /** Peer TLS (base/tls.ts): https:// peer URLs are served and dialed with it. */
  peerTls?: TlsMaterial | null;
  /** Builds the peer transport instead (tests: an in-memory network). Neither this nor
   *  listenPeerUrls ⇒ a member that talks to nobody. */
  transport?: (args: { memberId: bigint; clusterId: bigint; handler: PeerHandler }) => Transport;
  /** Test hook: armed failpoints (failpoints.ts), each firing in a Ready that carries a client request. */
  failpoints?: Failpoints;
  /**
   * Called once the member cannot go on (its raft loop failed, an apply batch could not be
   * written, an invariant broke), after it stopped serving. bin/etcdts exits non-zero here, as
   * etcd panics, so that a supervisor restarts it; without it the member only stops serving.
   */
  onFatal?: (err: unknown) => void;
  /** --strict-reconfig-check (default true). */
  strictReconfigCheck?: boolean;
  /** Joining an existing cluster (--initial-cluster-state existing): `members` is the list
   *  fetched from its peers, and the Raft core waits for the leader instead of bootstrapping. */
  join?: boolean;
  /** Clocks, timers and randomness (default: Node's); the simulator passes its own. */
  runtime?: Runtime;
  /** The KV engine and the disk of the WAL and snapshot files (default: classic-level and
   *  node:fs); the simulator passes in-memory ones that it can crash mid-write. */
  storage?: StorageIo;
  /** Called once this member was removed from the cluster and has stopped serving. */
  onRemoved?: (reason: string) => void;
  /** Auth (auth-gate.ts): --auth-token-ttl in seconds (default 300), --bcrypt-cost (default 10),
   *  --client-cert-auth (the certificate's CN is the user when no token is sent). */
  authTokenTtlSeconds?: number;
  /** --auth-token: "simple" or "jwt,pub-key=...,priv-key=...,sign-method=...,ttl=...". */
  authToken?: string;
  bcryptCost?: number;
  clientCertAuth?: boolean;
}

export interface ResponseHeaderFields {
  cluster_id: bigint;
  member_id: bigint;
  revision: bigint;
  raft_term: bigint;
}

export const serverVersion = '3.5.0';
export const clusterVersion = '3.5.0';

export { readIndexRetryMs } from './read-index.js';
/** Proposals held while no leader is known (each also has its own timeout). */
export const pendingProposalsMax = 10_000;
/** Apply batches written to classic-level but not yet landed (their records sit in memory). */
export const applyBatchesInFlightMax = 8;
/** How often request deadlines are checked (a timeout fires up to this much late). */
export const waitSweepMs = 100;
/** How often a member retries publishing its attributes until it succeeds. */
export const publishRetryMs = 2_000;
/** etcd's --experimental-warning-apply-duration default: an entry applied slower counts as slow. */
export const slowApplyMs = 100;

type ApplyResult = { ok: true; value: unknown } | { ok: false; err: unknown };

interface CompactApplied {
  revision: bigint;
  physical: Promise<void>;
}


export class EtcdServer {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  private memberStore: MemberStore;
  private readonly waits = new WaitRegistry<ApplyResult>();
  private readonly ids: RequestIdGenerator;
  private appliedIndex: bigint;
  /** Index of the last entry whose effects are in the store (the consistent index). */
  private consistentIndex: bigint;
  /** Linearizable reads: batched ReadIndex rounds (read-index.ts). */
  private readonly reads: ReadIndexBatcher;
  private pendingProposals: { id: bigint; data: Uint8Array }[] = [];
  private applyInFlight: Promise<void>[] = [];
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
  private markPublished!: () => void;
  /** Settles once this member's attributes are in the cluster (etcd's ReadyNotify). */
  private readonly publishedPromise = new Promise<void>((resolve) => (this.markPublished = resolve));
  private leaderId: bigint = None;
  /** When the current leader was elected (ms since epoch; 0 before any). */
  private leaderElectedAt = 0;
  private role: StateRole = StateRole.Follower;
  private snapshotIndex: bigint;
  /** The consistent index when the Ready in flight started (crash points only count new entries). */
  private readyBaseIndex = 0n;
  private campaignedAlone = false;
  private readonly incomingSnapshots = new Map<bigint, string>();
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

  private constructor(
    readonly opts: ServerOptions,
    readonly backend: Backend,
    private readonly storage: DurableRaftStorage,
    public kv: KvStore,
    ids: { memberId: bigint; clusterId: bigint; members: MemberStore },
    bootstrapVoters: bigint[],
  ) {
    this.rt = opts.runtime ?? realRuntime;
    this.disk = (opts.storage ?? realStorage).disk;
    this.memberId = ids.memberId;
    this.clusterId = ids.clusterId;
    this.memberStore = ids.members;
    this.watchable = new WatchableStore(kv);
    this.consistentIndex = backend.getU64(metaKey.consistentIndex) ?? 0n;
    this.snapshotIndex = storage.snapshot().metadata.index;
    this.appliedIndex = this.consistentIndex;
    this.ids = new RequestIdGenerator(this.memberId, this.rt.now());
    // etcd: ReqTimeout = 5s + 2 × election timeout.
    this.requestTimeoutMs = 5000 + 2 * opts.electionTimeoutMs;
    this.quota = new Quota(backend, opts.quotaBackendBytes, () => this.rt.now());
    const electionTick = Math.max(2, Math.round(opts.electionTimeoutMs / opts.heartbeatIntervalMs));
    const core = new RawNode({
      id: this.memberId,
      peers: bootstrapVoters.length > 0 ? bootstrapVoters : undefined,
      electionTick,
      heartbeatTick: 1,
      storage,
      // Restart at the consistent index: entries up to it are in the store, and the stored
      // configuration (initialState) is as of it.
      applied: restartApplied(storage, this.consistentIndex),
      rand: new SeededRand(opts.runtime ? this.rt.random.int(0x1_0000_0000) : randomBytes(4).readUInt32BE(0)),
      preVote: opts.preVote,
      checkQuorum: true,
    });
    this.node = new RaftNode(core, {
      persist: (rd) => this.persist(rd),
      send: (msgs) => this.send(msgs),
      restore: (snap) => this.restore(snap),
      apply: (entries) => this.applyEntries(entries),
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
              if (hasRequest(rd.entries) || hasRequest(rd.committedEntries.filter((e) => e.index > this.readyBaseIndex))) fire(p, action);
            }
          : undefined,
    }, (fn) => this.rt.soon(fn));
    this.reads = new ReadIndexBatcher({
      rt: this.rt,
      requestTimeoutMs: this.requestTimeoutMs,
      input: (fn) => this.node.input(fn),
      readIndex: (ctx) => this.node.core.readIndex(ctx),
      nextContext: () => this.ids.next().toString(16),
      applied: () => this.appliedIndex,
      stopped: () => this.stopped,
    });
    const handler: PeerHandler = {
      process: (m) => this.node.input(() => this.node.core.step(m)),
      reportUnreachable: (id) => this.node.input(() => this.node.core.reportUnreachable(id)),
      reportSnapshot: (id, ok) => this.node.input(() => this.node.core.reportSnapshot(id, ok)),
      receiveSnapshot: (m, data) => this.receiveSnapshot(m, data),
      onRequest: async (from, kind, body) => {
        if (kind === hashKvPeerRequest) return this.corruption.answer(body);
        const membership = this.cluster.onPeerRequest(kind, body);
        if (membership !== undefined) return membership;
        const answer = await this.leases.onPeerRequest(kind, body);
        if (answer === undefined) throw new Error(`unknown peer request ${kind} from ${hex(from)}`);
        return answer;
      },
      clusterInfo: () => this.cluster.clusterInfo(),
      unknownPeer: (id) => this.cluster.remotes.onUnknownPeer(id),
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
      nextRequestId: () => this.ids.next(),
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
      register: (id) => this.waits.register(id),
      fail: (id, err) => void this.waits.fail(id, err),
      propose: (make) => this.propose(make),
      stopRemoved: (reason) => void this.stop().then(() => opts.onRemoved?.(reason)),
      stopped: () => this.stopped || this.fatal !== null,
    });
  }

  /** The Lease service (lease-server.ts); bound to this member in start(). */
  leases!: LeaseServer;
  /** Users, roles, tokens and every permission check (auth-gate.ts); opened in start(). */
  auth!: AuthGate;

  static async start(opts: ServerOptions): Promise<EtcdServer> {
    const rt = opts.runtime ?? realRuntime;
    const t0 = rt.now();
    const io = opts.storage ?? realStorage;
    const backend = await Backend.open(path.join(opts.dataDir, 'member', 'db'), {
      batchIntervalMs: opts.backendBatchIntervalMs || backendBatchIntervalMsDefault,
      batchLimit: opts.backendBatchLimit || backendBatchLimitDefault,
      engine: io.engine,
      after: opts.runtime ? (ms, fn) => rt.after(ms, fn) : undefined,
    });
    // A restarted member uses what its data dir says, not the initial flags (as etcd).
    let memberId = backend.getU64(metaKey.memberId);
    let clusterId = backend.getU64(metaKey.clusterId);
    if (memberId === undefined || clusterId === undefined) {
      memberId = opts.memberId;
      clusterId = opts.clusterId;
      const b = new WriteBatch();
      b.put(metaKey.memberId, Backend.u64(memberId));
      b.put(metaKey.clusterId, Backend.u64(clusterId));
      if (opts.initialClusterToken !== undefined) b.put(metaKey.clusterToken, Buffer.from(opts.initialClusterToken));
      if (backend.getSync(metaKey.members) === undefined) b.put(metaKey.members, encodeMembers(opts.members));
      if (opts.join) b.put(metaKey.joinExisting, Buffer.alloc(0));
      await backend.commit(b, true);
    } else if (clusterId !== opts.clusterId && opts.initialClusterState !== 'existing') {
      // etcd ignores the --initial-* flags of a bootstrapped data dir. So do we (peer URLs and
      // members may have changed since), except that a data dir bootstrapped with another
      // --initial-cluster-token is another cluster's: almost surely a mistake.
      const token = backend.getSync(metaKey.clusterToken)?.toString();
      if (token !== undefined && opts.initialClusterToken !== undefined && token !== opts.initialClusterToken) {
        await backend.close();
        throw new Error(
          `data dir ${opts.dataDir} belongs to member ${hex(memberId)} of cluster ${hex(clusterId)} (--initial-cluster-token ` +
            `${JSON.stringify(token)}), not to a cluster with --initial-cluster-token ${JSON.stringify(opts.initialClusterToken)}; ` +
            `start it with the flags it was created with, or give this member a new --data-dir`,
        );
      }
      opts.logger.warn('ignoring --initial-cluster flags: the data dir is already bootstrapped', {
        'data-dir': opts.dataDir,
        'cluster-id': hex(clusterId),
        'flags-cluster-id': hex(opts.clusterId),
      });
    }
    const members = await MemberStore.load(backend);
    if (members.isRemoved(memberId)) {
      await backend.close();
      throw new Error(`data dir ${opts.dataDir}: member ${hex(memberId)}: the member has been permanently removed from the cluster; the data-dir used by this member must be removed`);
    }
    if (members.get(memberId) === undefined) {
      await backend.close();
      throw new Error(`data dir ${opts.dataDir}: member ${hex(memberId)} is not in its own member list`);
    }
    const tBackend = rt.now();
    const storage = await DurableRaftStorage.open(backend, path.join(opts.dataDir, 'member', 'wal'), io.disk, io.walSegmentBytes);
    const tWal = rt.now();
    const hs = storage.diskHardState();
    // A data dir with no Raft state at all (new, or made by `snapshot restore`) bootstraps the
    // cluster from its member list, as etcd's startNode does from --initial-cluster.
    const fresh = storage.lastIndex() === 0n && hs.term === 0n && storage.snapshot().metadata.index === 0n;
    const joined = backend.getSync(metaKey.joinExisting) !== undefined;
    const voters = fresh && !joined ? members.all().filter((m) => !m.isLearner).map((m) => m.id) : [];
    const leases = await LeaseServer.open(backend, { ...opts, runtime: rt, requestTimeoutMs: 5000 + 2 * opts.electionTimeoutMs });
    const tLeases = rt.now();
    // A key index checkpoint from the last graceful stop spares reading every record.
    const ckpt = await readIndexCheckpoint(checkpointFile(opts.dataDir), backend, io.disk).catch((e: unknown) => {
      opts.logger.warn('ignoring the key index checkpoint', { error: e instanceof Error ? e.message : String(e) });
      return null;
    });
    const kv = await KvStore.open(backend, { leases: leases.lessor, soon: (fn) => rt.soon(fn), checkpoint: ckpt });
    const tKv = rt.now();
    const s = new EtcdServer(opts, backend, storage, kv, { memberId, clusterId, members }, voters);
    s.leases = leases;
    s.auth = await AuthGate.open(backend, {
      authToken: opts.authToken,
      tokenTtlMs: (opts.authTokenTtlSeconds ?? 300) * 1000,
      bcryptCost: opts.bcryptCost ?? 10,
      clientCertAuth: opts.clientCertAuth ?? false,
      logger: opts.logger,
      runtime: rt,
    });
    leases.bind({
      isLeader: () => s.isLeader(),
      propose: (make) => s.propose(make),
      nextId: () => s.ids.next(),
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
    opts.logger.info('starting etcdts member', {
      'local-member-id': hex(memberId),
      'cluster-id': hex(clusterId),
      'bootstrapping-new-cluster': fresh && !joined,
      'consistent-index': s.consistentIndex.toString(),
      'snapshot-index': s.snapshotIndex.toString(),
      'last-index': storage.lastIndex().toString(),
      'current-revision': kv.rev().toString(),
      members: members.all().map((m) => `${hex(m.id)}=${m.peerURLs.join(',')}`),
      // Where start-up time went (etcd logs "recovered v3 backend ... took" likewise).
      'open-backend-took-ms': tBackend - t0,
      'load-wal-took-ms': tWal - tBackend,
      'load-leases-took-ms': tLeases - tWal,
      'restore-mvcc-took-ms': tKv - tLeases,
      'index-checkpoint-revision': ckpt === null ? undefined : ckpt.revision,
      'mvcc-restored-from': kv.restoredFrom,
      keys: kv.keyCount(),
    });
    await s.alarms.load(backend);
    if (s.transport) {
      for (const m of members.all()) if (m.id !== memberId) s.transport.addPeer(m.id, m.peerURLs);
      s.cluster.syncTransport();
      try {
        await s.transport.start();
      } catch (e) {
        await backend.close();
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
    return this.appliedIndex;
  }

  isLearner(): boolean {
    return this.memberStore.get(this.memberId)?.isLearner ?? false;
  }

  /** Proposals waiting for their apply (etcd_server_proposals_pending). */
  pendingProposalCount(): number {
    return this.waits.size;
  }

  /** Proposals that failed: timed out, or the member stopped (etcd_server_proposals_failed_total). */
  failedProposalCount(): number {
    return this.waits.failed;
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
    this.readyBaseIndex = this.consistentIndex;
    if (rd.snapshot) {
      const file = this.incomingSnapshots.get(rd.snapshot.metadata.index);
      assert(file !== undefined, `snapshot ${rd.snapshot.metadata.index} handed out without its data`);
      const records = await parseStateFile(await this.disk.readFile(file));
      // Apply batches still landing must land before the scan that lists what to delete.
      await this.backend.drain();
      const ops = await installOps(this.backend, records);
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

  private async receiveSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const index = m.snapshot?.metadata.index ?? 0n;
    const file = path.join(this.opts.dataDir, 'member', 'snap', `${hex(m.term)}-${hex(index)}.state`);
    await storeStateFile(file, data, this.disk);
    this.incomingSnapshots.set(index, file);
    this.opts.logger.info('received database snapshot', { 'remote-peer-id': hex(m.from), 'snapshot-index': index.toString() });
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
    this.consistentIndex = this.backend.getU64(metaKey.consistentIndex) ?? 0n;
    assert(this.consistentIndex >= index, `installed state at ${this.consistentIndex} is older than snapshot ${index}`);
    this.appliedIndex = this.consistentIndex;
    this.snapshotIndex = index;
    // Files of this snapshot and older ones are done with. A newer one may have arrived while
    // this one was installed (the leader compacted past it meanwhile): its MsgSnap is still to
    // be stepped, and its file must still be there when the core hands it out.
    for (const [i, f] of [...this.incomingSnapshots]) {
      if (i > index) continue;
      this.incomingSnapshots.delete(i);
      await this.disk.remove(f);
    }
    this.opts.logger.info('applied incoming snapshot', {
      'snapshot-index': index.toString(),
      'consistent-index': this.consistentIndex.toString(),
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

  private async applyEntries(entries: Entry[]): Promise<void> {
    const batch = new WriteBatch();
    const results: [bigint, ApplyResult][] = [];
    let last: bigint | undefined;
    for (const e of entries) {
      if (e.type === EntryType.ConfChange) {
        // The core's configuration is not in the store: give it every conf change, even one
        // whose store effects the consistent index says are already there (after a snapshot
        // install the core's configuration is the snapshot's, older than the installed store).
        const res = this.cluster.applyConfChange(this.node.core, e, e.index > this.consistentIndex ? batch : null);
        if (res && e.index > this.consistentIndex) results.push(res);
      }
      if (e.index <= this.consistentIndex) continue;
      last = e.index;
      // etcd applyEntryNormal: a leader's lessor is promoted when its term's empty entry applies.
      if (e.type === EntryType.Normal && e.data.length === 0) this.leases.onTermStartApplied();
      if (e.type !== EntryType.Normal || e.data.length === 0) continue;
      const r = decodeInternal(e.data);
      const t0 = performance.now();
      results.push([r.id, this.applyOne(r, batch, e.index)]);
      if (performance.now() - t0 > slowApplyMs) metrics.server.slowApply++;
    }
    if (last !== undefined) {
      batch.put(metaKey.consistentIndex, Backend.u64(last));
      // The raft log is the durable record, so apply answers as soon as the effects are in the
      // store's memory (its overlay serves reads until the batch lands), without waiting for
      // classic-level — etcd likewise answers before its backend batch commits. The backend
      // gathers apply batches into one write per --backend-batch-interval or -limit; writes land
      // in order; at most applyBatchesInFlightMax writes wait, bounding the overlay's memory.
      const fp = this.opts.failpoints?.get('backendBeforeCommit');
      if (fp !== undefined && entries.some((e) => e.index > this.readyBaseIndex && e.type === EntryType.Normal && isClientRequest(e.data))) fire('backendBeforeCommit', fp);
      const landed = this.backend.commit(batch);
      if (this.applyInFlight[this.applyInFlight.length - 1] !== landed) {
        // A new write (group): count it once.
        landed.catch((e: unknown) => this.onFatal(e));
        this.applyInFlight.push(landed);
        void landed.then(() => {
          const k = this.applyInFlight.indexOf(landed);
          if (k >= 0) this.applyInFlight.splice(k, 1);
        });
        if (this.applyInFlight.length >= applyBatchesInFlightMax) await this.applyInFlight.shift();
      }
      this.consistentIndex = last;
    }
    this.appliedIndex = (entries[entries.length - 1] as Entry).index;
    if (this.appliedIndex < this.consistentIndex) this.appliedIndex = this.consistentIndex;
    for (const [id, res] of results) this.waits.trigger(id, res);
    this.reads.release();
    this.cluster.afterApply();
  }

  private applyOne(r: InternalRequest, batch: WriteBatch, index: bigint): ApplyResult {
    try {
      const kvKind = kvApplyKinds[r.kind as keyof typeof kvApplyKinds] as (typeof kvApplyKinds)[keyof typeof kvApplyKinds] | undefined;
      const capped = kvKind ? this.alarms.applyCheck(kvKind, r.kind === RequestKind.Txn ? r.req : undefined) : null;
      if (capped) return { ok: false, err: capped };
      // etcd's auth applier (after capped, as etcd chains them): one boolean while auth is off.
      const denied = this.auth.applyCheck(r, (id) => this.leases.lessor.keysOf(id));
      if (denied) return { ok: false, err: denied };
      switch (r.kind) {
        case RequestKind.Alarm:
          return { ok: true, value: this.alarms.apply(r.req, batch) };
        case RequestKind.Put:
          metrics.mvcc.put++;
          return { ok: true, value: applyPut(this.kv, batch, r.req).resp };
        case RequestKind.DeleteRange:
          metrics.mvcc.delete++;
          return { ok: true, value: applyDeleteRange(this.kv, batch, r.req).resp };
        case RequestKind.Txn:
          metrics.mvcc.txn++;
          return { ok: true, value: applyTxn(this.kv, batch, r.req).resp };
        case RequestKind.Compaction:
          return { ok: true, value: applyCompaction(this.kv, batch, r.req) };
        case RequestKind.LeaseGrant:
        case RequestKind.LeaseRevoke:
        case RequestKind.LeaseCheckpoint: {
          const refused = leaseAlarmCheck((a) => this.alarms.has(a), r.kind);
          if (refused) return { ok: false, err: refused };
          return { ok: true, value: applyLease(this.leases.lessor, this.kv, batch, r).resp };
        }
        case RequestKind.MemberPublish:
          return { ok: true, value: this.memberStore.setAttributes(r.req.memberId, r.req.name, r.req.clientURLs, batch) };
        case RequestKind.MemberUpdate:
          return { ok: true, value: this.cluster.applyUpdate(r.req, batch) };
        case RequestKind.Auth:
          return { ok: true, value: applyAuth(this.auth, r.req, batch, index) };
      }
    } catch (err) {
      // Operating errors (compacted, lease not found...) are results; anything else is a bug
      // that would make members diverge, so it stops the loop (as etcd panics).
      if (err instanceof EtcdError) return { ok: false, err };
      throw err;
    }
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
        this.leaderElectedAt = this.rt.now();
        const pending = this.pendingProposals;
        this.pendingProposals = [];
        // Queued behind this Ready, so they reach the core after advance().
        for (const p of pending) if (this.waits.has(p.id)) this.node.input(() => this.submit(p.id, p.data));
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
    this.waits.failAll(new EtcdError(Errors.Stopped));
    this.failReads(new EtcdError(Errors.Stopped));
    this.ticker?.cancel();
    this.sweeper?.cancel();
    this.opts.onFatal?.(err);
  }

  // ---- proposals ----

  /** Give a proposal to the core; with no leader known, hold it until one is elected. */
  private submit(id: bigint, data: Uint8Array): void {
    try {
      this.node.core.propose(data);
    } catch (e) {
      if (!(e instanceof ErrProposalDropped)) throw e;
      if (this.pendingProposals.length < pendingProposalsMax) this.pendingProposals.push({ id, data });
    }
  }

  private async propose<T>(make: (id: bigint) => InternalRequest): Promise<T> {
    this.checkServing();
    const id = this.ids.next();
    const data = encodeInternal(make(id));
    if (data.length > this.opts.maxRequestBytes) throw new EtcdError(Errors.RequestTooLarge);
    // The request timeout is a deadline swept by one timer (see start()), not a timer each.
    const wait = this.waits.register(id, this.rt.now() + this.requestTimeoutMs);
    this.node.input(() => this.submit(id, data));
    const res = await wait;
    if (!res.ok) throw res.err;
    return res.value as T;
  }

  /**
   * etcd's parseProposeCtxErr: a proposal made shortly before the current leader was elected
   * (within two election timeouts) most likely died with the previous leader.
   */
  private timeoutError(start: number): EtcdError {
    const elected = this.leaderElectedAt;
    if (elected !== 0 && start >= elected - 2 * this.opts.electionTimeoutMs && start <= elected) {
      return new EtcdError(Errors.TimeoutDueToLeaderFail);
    }
    return new EtcdError(Errors.Timeout);
  }

  /**
   * `wire`: the request's protobuf bytes as the client sent them (they become the entry).
   * `auth`: who asks, while auth is enabled (auth-gate.ts checks it at apply).
   */
  put(req: PutRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<PutResponse> {
    const cost = putCost(req.key, req.value);
    // Within the quota by the cached figure: no await on the way to propose.
    if (this.quota.availableNow(cost)) return this.propose((id) => ({ kind: RequestKind.Put, id, req, wire, auth }));
    return this.checkQuota(cost).then(() => this.propose((id) => ({ kind: RequestKind.Put, id, req, wire, auth })));
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
    return this.propose((id) => ({ kind: RequestKind.Alarm, id, req }));
  }

  deleteRange(req: DeleteRangeRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<DeleteRangeResponse> {
    return this.propose((id) => ({ kind: RequestKind.DeleteRange, id, req, wire, auth }));
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
    return this.propose((id) => ({ kind: RequestKind.Txn, id, req, wire, auth }));
  }

  async compact(req: CompactionRequest, auth?: AuthStamp): Promise<CompactionResponse> {
    const res = await this.propose<CompactApplied>((id) => ({ kind: RequestKind.Compaction, id, req, auth }));
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
    return this.propose((id) => ({ kind: RequestKind.Auth, id, req: op, auth }));
  }

  // ---- membership: publish this member's attributes (etcd's publish) ----

  /**
   * Resolves once this member has joined its cluster and published its name and client URLs
   * (etcd's ReadyNotify, which etcd waits for before it tells systemd it is ready).
   */
  whenPublished(): Promise<void> {
    return this.publishedPromise;
  }

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
      this.markPublished();
      return;
    }
    try {
      await this.propose((id) => ({ kind: RequestKind.MemberPublish, id, req: { memberId: this.memberId, ...want } }));
      this.published = true;
      this.markPublished();
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
    this.waits.expire(now, (deadline) => this.timeoutError(deadline - this.requestTimeoutMs));
    this.reads.expire(now);
  }

  private failReads(err: EtcdError): void {
    this.reads.failAll(err);
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

  // ---- status ----

  dbSize(): number {
    return this.backend.sizeOnDisk();
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
    this.waits.failAll(new EtcdError(Errors.Stopped));
    this.failReads(new EtcdError(Errors.Stopped));
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

/** KV requests an active alarm may refuse in apply (alarms.ts applyCheck). */
const kvApplyKinds = {
  [RequestKind.Put]: 'put',
  [RequestKind.DeleteRange]: 'deleteRange',
  [RequestKind.Txn]: 'txn',
  [RequestKind.Compaction]: 'compaction',
} as const;

function restartApplied(storage: DurableRaftStorage, consistentIndex: bigint): bigint | undefined {
  const snap = storage.snapshot().metadata.index;
  const commit = storage.diskHardState().commit;
  const applied = consistentIndex < commit ? consistentIndex : commit;
  return applied > snap ? applied : undefined;
}

/** A client's KV request (not the member's own bookkeeping such as publish). */
function isClientRequest(data: Uint8Array): boolean {
  return internalKind(data) in kvApplyKinds;
}

function isReadOnlyTxn(t: TxnRequest): boolean {
  const ops = [...t.success, ...t.failure];
  return ops.every((op) => op.request === 'request_range' || (op.request === 'request_txn' && !!op.request_txn && isReadOnlyTxn(op.request_txn)));
}
