/**
 * EtcdServer: one member. It owns the backend, the durable log, the consensus core and its
 * loop (raft-node.ts), the MVCC store and apply, and offers the KV operations to the rpc layer.
 *
 * Write path: check → encode as an internal request with a fresh id → register a waiter →
 * propose → (loop) persist with fsync → apply → the waiter gets the apply result. A write is
 * acknowledged only after its entry is durable (single member: durable locally = committed).
 * Linearizable reads: a ReadIndex round (batched: reads arriving during a round share the next
 * one), then the read once applied ≥ that index. Serializable reads are served at once.
 *
 * Invariants: the consistent index in the backend equals the index of the last applied entry,
 * and is written in the same batch as that entry's effects; apply reads only the entry and the
 * store (deterministic); every waiter is settled (result, error, timeout or stop).
 */
import path from 'node:path';
import { assert } from '../base/assert.js';
import type { Logger } from '../base/logger.js';
import { hex } from '../base/int64.js';
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
import { Backend, WriteBatch } from '../storage/backend.js';
import { RaftLog } from '../storage/raft-log.js';
import { metaKey, prefix } from '../storage/schema.js';
import { KvStore } from '../mvcc/kv-store.js';
import { applyCompaction, applyDeleteRange, applyPut, applyRange, applyTxn } from './apply-kv.js';
import { AlarmAction, AlarmStore, AlarmType, putCost, txnCost, type AlarmRequest, type AlarmResponse } from './alarms.js';
import { Quota } from './maintenance.js';
import { decodeInternal, encodeInternal, RequestKind, type InternalRequest } from './internal-request.js';
import { RaftNode, type CrashPoint } from './raft-node.js';
import { RequestIdGenerator } from './request-id.js';
import { SoloCore, type Entry, type ReadState } from './solo-core.js';
import { WaitRegistry } from './wait.js';

export interface MemberInfo {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface ServerOptions {
  name: string;
  dataDir: string;
  memberId: bigint;
  clusterId: bigint;
  members: MemberInfo[];
  maxTxnOps: number;
  maxRequestBytes: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  quotaBackendBytes: number;
  logger: Logger;
  /** Test hook: exit the process at this point of the loop (integration crash tests). */
  crashAt?: CrashPoint;
}

export interface ResponseHeaderFields {
  cluster_id: bigint;
  member_id: bigint;
  revision: bigint;
  raft_term: bigint;
}

export const serverVersion = '3.5.0';
export const clusterVersion = '3.5.0';

type ApplyResult = { ok: true; value: unknown } | { ok: false; err: unknown };

interface CompactApplied {
  revision: bigint;
  physical: Promise<void>;
}

export class EtcdServer {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly members: MemberInfo[];
  private readonly waits = new WaitRegistry<ApplyResult>();
  private readonly ids: RequestIdGenerator;
  private appliedIndex: bigint;
  private readWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private readRound: { ctx: string; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | null = null;
  private stopped = false;
  private fatal: unknown = null;
  readonly requestTimeoutMs: number;
  /** Replicated alarms (alarms.ts) and the backend quota (maintenance.ts). */
  readonly alarms = new AlarmStore();
  readonly quota: Quota;

  private constructor(
    readonly opts: ServerOptions,
    readonly backend: Backend,
    private readonly log: RaftLog,
    readonly kv: KvStore,
    private readonly core: SoloCore,
    applied: bigint,
    ids: { memberId: bigint; clusterId: bigint; members: MemberInfo[] },
  ) {
    this.memberId = ids.memberId;
    this.clusterId = ids.clusterId;
    this.members = ids.members;
    this.appliedIndex = applied;
    this.ids = new RequestIdGenerator(this.memberId, Date.now());
    // etcd: ReqTimeout = 5s + 2 × election timeout.
    this.requestTimeoutMs = 5000 + 2 * opts.electionTimeoutMs;
    this.quota = new Quota(backend, opts.quotaBackendBytes);
    this.node = new RaftNode(
      core,
      { save: (hs, entries, sync) => this.log.save(hs, entries, sync) },
      { apply: (entries) => this.applyEntries(entries) },
      {
        onReadStates: (s) => this.onReadStates(s),
        onFatal: (err) => this.onFatal(err),
        crashPoint: opts.crashAt
          ? (p, rd) => {
              // Only in a Ready that carries a client request, so start-up itself survives.
              const hasRequest = (es: Entry[]): boolean => es.some((e) => e.data.length > 0);
              if (p === opts.crashAt && (hasRequest(rd.entries) || hasRequest(rd.committedEntries))) {
                process.kill(process.pid, 'SIGKILL');
              }
            }
          : undefined,
      },
    );
  }

  private readonly node: RaftNode;

  static async start(opts: ServerOptions): Promise<EtcdServer> {
    const backend = await Backend.open(path.join(opts.dataDir, 'member', 'db'));
    // A restarted member uses what its data dir says, not the initial flags (as etcd).
    let memberId = backend.getU64(metaKey.memberId);
    let clusterId = backend.getU64(metaKey.clusterId);
    let members: MemberInfo[];
    if (memberId === undefined || clusterId === undefined) {
      memberId = opts.memberId;
      clusterId = opts.clusterId;
      members = opts.members;
      const b = new WriteBatch();
      b.put(metaKey.memberId, Backend.u64(memberId));
      b.put(metaKey.clusterId, Backend.u64(clusterId));
      b.put(metaKey.members, Buffer.from(JSON.stringify(members.map((m) => ({ ...m, id: m.id.toString() })))));
      await backend.commit(b, true);
    } else {
      const raw = backend.getSync(metaKey.members);
      const parsed = raw ? (JSON.parse(raw.toString()) as (Omit<MemberInfo, 'id'> & { id: string })[]) : [];
      members = parsed.map((m) => ({ ...m, id: BigInt(m.id) }));
    }
    const log = await RaftLog.open(backend.db, prefix.raftEntry, prefix.hardState);
    const kv = await KvStore.open(backend);
    const applied = backend.getU64(metaKey.consistentIndex) ?? 0n;
    const hardState = log.hardState();
    const lastIndex = log.lastIndex();
    const lastEntry = lastIndex > 0n ? log.entry(lastIndex) : undefined;
    assert(applied <= lastIndex, `applied index ${applied} beyond the log's last index ${lastIndex}`);
    const toApply = (await log.entries(applied + 1n, lastIndex + 1n)) as Entry[];
    const core = new SoloCore({
      id: memberId,
      hardState,
      lastIndex,
      lastTerm: lastEntry?.term ?? 0n,
      applied,
      toApply,
    });
    const s = new EtcdServer(opts, backend, log, kv, core, applied, { memberId, clusterId, members });
    opts.logger.info('starting etcdts member', {
      'local-member-id': hex(memberId),
      'cluster-id': hex(clusterId),
      'applied-index': applied.toString(),
      'last-index': lastIndex.toString(),
      'replaying-entries': toApply.length,
      'current-revision': kv.rev().toString(),
    });
    await s.alarms.load(backend);
    s.node.kick();
    return s;
  }

  term(): bigint {
    return this.core.status().term;
  }

  leader(): bigint {
    return this.core.status().leader;
  }

  raftIndex(): bigint {
    return this.core.status().lastIndex;
  }

  applied(): bigint {
    return this.appliedIndex;
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

  // ---- apply ----

  private async applyEntries(entries: Entry[]): Promise<void> {
    const batch = new WriteBatch();
    const results: [bigint, ApplyResult][] = [];
    for (const e of entries) {
      if (e.data.length === 0) continue;
      const r = decodeInternal(e.data);
      results.push([r.id, this.applyOne(r, batch)]);
    }
    const last = entries[entries.length - 1];
    if (last) batch.put(metaKey.consistentIndex, Backend.u64(last.index));
    await this.backend.commit(batch);
    if (last) this.appliedIndex = last.index;
    for (const [id, res] of results) this.waits.trigger(id, res);
  }

  private applyOne(r: InternalRequest, batch: WriteBatch): ApplyResult {
    try {
      const capped = r.kind === RequestKind.Alarm ? null : this.alarms.applyCheck(applyKinds[r.kind], r.kind === RequestKind.Txn ? r.req : undefined);
      if (capped) return { ok: false, err: capped };
      switch (r.kind) {
        case RequestKind.Alarm:
          return { ok: true, value: this.alarms.apply(r.req, batch) };
        case RequestKind.Put:
          return { ok: true, value: applyPut(this.kv, batch, r.req).resp };
        case RequestKind.DeleteRange:
          return { ok: true, value: applyDeleteRange(this.kv, batch, r.req).resp };
        case RequestKind.Txn:
          return { ok: true, value: applyTxn(this.kv, batch, r.req).resp };
        case RequestKind.Compaction:
          return { ok: true, value: applyCompaction(this.kv, batch, r.req) };
      }
    } catch (err) {
      // Operating errors (compacted, lease not found...) are results; anything else is a bug
      // that would make members diverge, so it stops the loop (as etcd panics).
      if (err instanceof EtcdError) return { ok: false, err };
      throw err;
    }
  }

  private onFatal(err: unknown): void {
    this.fatal = err;
    this.opts.logger.error('raft loop failed; member stops serving', { error: String(err) });
    this.waits.failAll(new EtcdError(Errors.Stopped));
    for (const w of this.readWaiters) w.reject(new EtcdError(Errors.Stopped));
    this.readWaiters = [];
  }

  // ---- proposals ----

  private async propose<T>(make: (id: bigint) => InternalRequest): Promise<T> {
    this.checkServing();
    const id = this.ids.next();
    const data = encodeInternal(make(id));
    if (data.length > this.opts.maxRequestBytes) throw new EtcdError(Errors.RequestTooLarge);
    const wait = this.waits.register(id);
    this.core.propose(data);
    this.node.kick();
    const timer = setTimeout(() => this.waits.fail(id, new EtcdError(Errors.Timeout)), this.requestTimeoutMs);
    try {
      const res = await wait;
      if (!res.ok) throw res.err;
      return res.value as T;
    } finally {
      clearTimeout(timer);
    }
  }

  async put(req: PutRequest): Promise<PutResponse> {
    await this.checkQuota(putCost(req.key, req.value));
    return this.propose((id) => ({ kind: RequestKind.Put, id, req }));
  }

  /** etcd quotaKVServer: over quota, raise NOSPACE (through Raft) and refuse the request. */
  private async checkQuota(cost: number): Promise<void> {
    if (await this.quota.available(cost)) return;
    await this.alarm({ action: AlarmAction.ACTIVATE, memberID: this.memberId, alarm: AlarmType.NOSPACE }).catch(() => undefined);
    throw new EtcdError(Errors.NoSpace);
  }

  /** Maintenance.Alarm: every action goes through Raft, as etcd's. */
  alarm(req: AlarmRequest): Promise<AlarmResponse> {
    return this.propose((id) => ({ kind: RequestKind.Alarm, id, req }));
  }

  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.propose((id) => ({ kind: RequestKind.DeleteRange, id, req }));
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    await this.checkQuota(txnCost(req));
    if (isReadOnlyTxn(req)) {
      // etcd serves read-only txns like reads: after a ReadIndex round, locally.
      await this.linearizableRead();
      const res = applyTxn(this.kv, new WriteBatch(), req);
      return res.resp;
    }
    return this.propose((id) => ({ kind: RequestKind.Txn, id, req }));
  }

  async compact(req: CompactionRequest): Promise<CompactionResponse> {
    const res = await this.propose<CompactApplied>((id) => ({ kind: RequestKind.Compaction, id, req }));
    if (req.physical) await res.physical;
    return { header: { revision: res.revision } };
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    this.checkServing();
    if (!req.serializable) await this.linearizableRead();
    return applyRange(this.kv, req);
  }

  // ---- linearizable reads (ReadIndex, batched) ----

  linearizableRead(): Promise<void> {
    this.checkServing();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new EtcdError(Errors.Timeout));
      }, this.requestTimeoutMs);
      this.readWaiters.push({
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.startReadRound();
    });
  }

  private startReadRound(): void {
    if (this.readRound !== null || this.readWaiters.length === 0) return;
    const ctx = this.ids.next().toString(16);
    this.readRound = { ctx, waiters: this.readWaiters };
    this.readWaiters = [];
    this.core.readIndex(Buffer.from(ctx));
    this.node.kick();
  }

  private onReadStates(states: ReadState[]): void {
    for (const s of states) {
      const round = this.readRound;
      if (!round || Buffer.from(s.ctx).toString() !== round.ctx) continue;
      // The loop releases read states after applying the entries of the same Ready, so the
      // applied index has reached the read index here.
      assert(this.appliedIndex >= s.index, 'read state released before apply reached it');
      this.readRound = null;
      for (const w of round.waiters) w.resolve();
    }
    this.startReadRound();
  }

  // ---- status ----

  dbSize(): number {
    return this.backend.sizeOnDisk();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.node.stop();
    this.waits.failAll(new EtcdError(Errors.Stopped));
    await this.backend.close();
  }
}

const applyKinds = {
  [RequestKind.Put]: 'put',
  [RequestKind.DeleteRange]: 'deleteRange',
  [RequestKind.Txn]: 'txn',
  [RequestKind.Compaction]: 'compaction',
} as const;

function isReadOnlyTxn(t: TxnRequest): boolean {
  const ops = [...t.success, ...t.failure];
  return ops.every((op) => op.request === 'request_range' || (op.request === 'request_txn' && !!op.request_txn && isReadOnlyTxn(op.request_txn)));
}
