/**
 * Bootstrap: opening a member's data dir, as etcd's bootstrap (server/etcdserver/bootstrap.go):
 * the backend; the member and cluster ids — a new data dir takes them (and the member list, the
 * cluster token, "joining") from the flags, a bootstrapped one keeps its own and ignores the
 * --initial-* flags (refusing only a data dir of another cluster's token, a removed member, or
 * one not in its own list); the WAL and raft storage; whether the cluster starts here (a data dir
 * with no Raft state and not joining: the core bootstraps with the members as voters); the
 * lessor; the key index checkpoint; the MVCC store; auth; and the Raft core over the storage.
 * And the counterpart at a graceful stop: saving the key index checkpoint.
 *
 * Invariants: a failed open closes the backend it opened before throwing (no half-open member);
 * the ids and member list recorded for a new data dir are written (synced) before anything reads
 * them; the core restarts at min(consistent index, durable commit), so entries whose effects are
 * in the store are not handed out again for apply; the order of the opens (and so of the clock
 * and seeded-random reads the simulator replays) is the order of this file.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { hex } from '../base/int64.js';
import { SeededRand } from '../base/random.js';
import type { Runtime } from '../base/runtime.js';
import { RawNode } from '../raft/raw-node.js';
import { Backend, WriteBatch, backendBatchIntervalMsDefault, backendBatchLimitDefault } from '../storage/backend.js';
import { metaKey } from '../storage/schema.js';
import type { Disk } from '../storage/disk.js';
import type { StorageIo } from '../storage/storage-io.js';
import { KvStore } from '../mvcc/kv-store.js';
import { checkpointFile, readIndexCheckpoint } from '../mvcc/index-checkpoint.js';
import { MemberStore, encodeMembers } from '../membership/member-store.js';
import { AuthGate } from './auth-gate.js';
import { LeaseServer } from './lease-server.js';
import { requestTimeoutMsOf } from './proposer.js';
import { DurableRaftStorage } from './raft-storage.js';
import type { ServerOptions } from './server-options.js';

/** A member's data dir, opened (what EtcdServer is composed of). */
export interface OpenedMember {
  backend: Backend;
  storage: DurableRaftStorage;
  kv: KvStore;
  leases: LeaseServer;
  memberId: bigint;
  clusterId: bigint;
  members: MemberStore;
  /** The voters the core bootstraps with: non-empty only when the cluster starts here. */
  voters: bigint[];
  /** No Raft state and not joining: this start bootstraps a new cluster. */
  bootstrapping: boolean;
  /** The key index checkpoint's revision, if one was read. */
  checkpointRevision: number | undefined;
  /** Where start-up time went (ms), logged as etcd logs "recovered v3 backend ... took". */
  took: { backend: number; wal: number; leases: number; mvcc: number };
}

export async function openMember(opts: ServerOptions, rt: Runtime, io: StorageIo): Promise<OpenedMember> {
  const t0 = rt.now();
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
  const walDir = path.join(opts.dataDir, 'member', 'wal');
  let storage = await DurableRaftStorage.open(backend, walDir, io.disk, io.walSegmentBytes);
  const joined = backend.getSync(metaKey.joinExisting) !== undefined;
  let hs = storage.diskHardState();
  // A member that bootstraps a new cluster writes its first Ready — the members' conf change
  // entries, committed, and a hard state with commit ≥ 1 — in one WAL append; every later hard
  // state keeps commit ≥ 1. A WAL with entries but commit 0 is that first append torn by a crash
  // (entries kept, hard state lost): nothing in it was ever acknowledged to anyone, and a core
  // restarted from it has uncommitted conf entries and no configuration, so it never campaigns
  // (simulator seed 90448). Such a log is discarded and the member bootstraps again.
  if (!joined && hs.commit === 0n && storage.snapshot().metadata.index === 0n && storage.lastIndex() > 0n) {
    opts.logger.warn('discarding a torn bootstrap write-ahead log (entries without a committed hard state)', {
      'wal-dir': walDir,
      'last-index': storage.lastIndex().toString(),
    });
    await storage.close();
    const disk = io.disk;
    for (const f of await disk.list(walDir)) if (f.endsWith('.wal')) await disk.remove(path.join(walDir, f));
    await disk.syncDir(walDir);
    storage = await DurableRaftStorage.open(backend, walDir, io.disk, io.walSegmentBytes);
    hs = storage.diskHardState();
  }
  const tWal = rt.now();
  // A data dir with no Raft state at all (new, or made by `snapshot restore`) bootstraps the
  // cluster from its member list, as etcd's startNode does from --initial-cluster.
  const fresh = storage.lastIndex() === 0n && hs.term === 0n && storage.snapshot().metadata.index === 0n;
  const voters = fresh && !joined ? members.all().filter((m) => !m.isLearner).map((m) => m.id) : [];
  const leases = await LeaseServer.open(backend, { ...opts, runtime: rt, requestTimeoutMs: requestTimeoutMsOf(opts.electionTimeoutMs) });
  const tLeases = rt.now();
  // A key index checkpoint from the last graceful stop spares reading every record.
  const ckpt = await readIndexCheckpoint(checkpointFile(opts.dataDir), backend, io.disk).catch((e: unknown) => {
    opts.logger.warn('ignoring the key index checkpoint', { error: e instanceof Error ? e.message : String(e) });
    return null;
  });
  const kv = await KvStore.open(backend, { leases: leases.lessor, soon: (fn) => rt.soon(fn), checkpoint: ckpt });
  const tKv = rt.now();
  return {
    backend,
    storage,
    kv,
    leases,
    memberId,
    clusterId,
    members,
    voters,
    bootstrapping: fresh && !joined,
    checkpointRevision: ckpt === null ? undefined : ckpt.revision,
    took: { backend: tBackend - t0, wal: tWal - tBackend, leases: tLeases - tWal, mvcc: tKv - tLeases },
  };
}

/** The Raft core over the member's storage, restarted where the store is. */
export function newRaftCore(opts: ServerOptions, rt: Runtime, memberId: bigint, voters: bigint[], storage: DurableRaftStorage, consistentIndex: bigint): RawNode {
  const electionTick = Math.max(2, Math.round(opts.electionTimeoutMs / opts.heartbeatIntervalMs));
  return new RawNode({
    id: memberId,
    peers: voters.length > 0 ? voters : undefined,
    electionTick,
    heartbeatTick: 1,
    storage,
    // Restart at the consistent index: entries up to it are in the store, and the stored
    // configuration (initialState) is as of it.
    applied: restartApplied(storage, consistentIndex),
    rand: new SeededRand(opts.runtime ? rt.random.int(0x1_0000_0000) : randomBytes(4).readUInt32BE(0)),
    preVote: opts.preVote,
    checkQuorum: true,
  });
}

function restartApplied(storage: DurableRaftStorage, consistentIndex: bigint): bigint | undefined {
  const snap = storage.snapshot().metadata.index;
  const commit = storage.diskHardState().commit;
  const applied = consistentIndex < commit ? consistentIndex : commit;
  return applied > snap ? applied : undefined;
}

/** Users, roles and tokens from the backend, with the auth flags (auth-gate.ts). */
export function openAuth(opts: ServerOptions, rt: Runtime, backend: Backend): Promise<AuthGate> {
  return AuthGate.open(backend, {
    authToken: opts.authToken,
    tokenTtlMs: (opts.authTokenTtlSeconds ?? 300) * 1000,
    bcryptCost: opts.bcryptCost ?? 10,
    clientCertAuth: opts.clientCertAuth ?? false,
    logger: opts.logger,
    runtime: rt,
  });
}

/** The start-up line: who this member is, where it restarts, and where start-up time went. */
export function logStarting(opts: ServerOptions, m: OpenedMember, consistentIndex: bigint, snapshotIndex: bigint): void {
  opts.logger.info('starting etcdts member', {
    'local-member-id': hex(m.memberId),
    'cluster-id': hex(m.clusterId),
    'bootstrapping-new-cluster': m.bootstrapping,
    'consistent-index': consistentIndex.toString(),
    'snapshot-index': snapshotIndex.toString(),
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
}

/**
 * At a graceful stop: the key index checkpoint (mvcc/index-checkpoint.ts) that spares the next
 * start reading every record. A failure only costs that next start time.
 */
export async function saveIndexCheckpoint(opts: ServerOptions, rt: Runtime, disk: Disk, backend: Backend, kv: KvStore): Promise<void> {
  try {
    await backend.drain();
    const t0 = rt.now();
    // An injected runtime (the simulator) names the checkpoint from its seeded random source.
    const id = opts.runtime ? Buffer.from(Array.from({ length: 8 }, () => rt.random.int(256))) : undefined;
    const bytes = await kv.writeCheckpoint(checkpointFile(opts.dataDir), disk, id);
    opts.logger.info('saved key index checkpoint', { keys: kv.keyCount(), revision: kv.rev().toString(), bytes, took: `${rt.now() - t0}ms` });
  } catch (e) {
    opts.logger.warn('failed to save key index checkpoint; the next start reads every record', { error: e instanceof Error ? e.message : String(e) });
  }
}
