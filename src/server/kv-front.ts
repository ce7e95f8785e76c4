/**
 * The member's request front (etcd's v3_server.go): each KV, alarm and auth request on its way
 * in — the quota check (etcd's quotaKVServer: over quota, raise NOSPACE through Raft and refuse),
 * then either a proposal through Raft (proposer.ts) or, for reads and read-only txns, a ReadIndex
 * round (read-index.ts) and a local read of the store.
 *
 * Invariants: a write is answered only with its apply result (or an error), never before its
 * entry applied; a linearizable read reads only after the applied index reached a read index
 * confirmed after the call; a read-only txn is served like a read (no Raft entry), with the auth
 * check against the same auth revision before and after the read. Cost: no await on a put's way
 * to propose while the cached quota figure decides (hot path: one closure, the request object).
 */
import { metrics } from '../base/metrics.js';
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
import type { AuthOp, AuthOpResult } from '../auth/auth-ops.js';
import type { KvStore } from '../mvcc/kv-store.js';
import { WriteBatch } from '../storage/backend.js';
import { applyRange, applyTxn } from './apply-kv.js';
import { AlarmAction, AlarmType, putCost, txnCost, type AlarmRequest, type AlarmResponse } from './alarms.js';
import type { AuthGate } from './auth-gate.js';
import { RequestKind, type AuthStamp } from './internal-request.js';
import type { Quota } from './maintenance.js';
import type { Proposer } from './proposer.js';

export interface KvFrontHost {
  readonly memberId: bigint;
  readonly proposer: Pick<Proposer, 'propose'>;
  readonly quota: Pick<Quota, 'availableNow' | 'available'>;
  /** Getters: the store is replaced by a snapshot install, auth is opened after the member. */
  readonly kv: KvStore;
  readonly auth: Pick<AuthGate, 'checkTxn' | 'checkStillCurrent'>;
  checkServing(): void;
  linearizableRead(): Promise<void>;
}

interface CompactApplied {
  revision: bigint;
  physical: Promise<void>;
}

export class KvFront {
  constructor(private readonly h: KvFrontHost) {}

  /**
   * `wire`: the request's protobuf bytes as the client sent them (they become the entry).
   * `auth`: who asks, while auth is enabled (auth-gate.ts checks it at apply).
   */
  put(req: PutRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<PutResponse> {
    const cost = putCost(req.key, req.value);
    // Within the quota by the cached figure: no await on the way to propose.
    if (this.h.quota.availableNow(cost)) return this.h.proposer.propose((id) => ({ kind: RequestKind.Put, id, req, wire, auth }));
    return this.checkQuota(cost).then(() => this.h.proposer.propose((id) => ({ kind: RequestKind.Put, id, req, wire, auth })));
  }

  /**
   * etcd quotaKVServer / quotaLeaseServer: over quota, raise NOSPACE (through Raft) and refuse
   * the request. `cost` from alarms.ts putCost / txnCost / leaseOverheadBytes.
   */
  async checkQuota(cost: number): Promise<void> {
    if (await this.h.quota.available(cost)) return;
    await this.alarm({ action: AlarmAction.ACTIVATE, memberID: this.h.memberId, alarm: AlarmType.NOSPACE }).catch(() => undefined);
    throw new EtcdError(Errors.NoSpace);
  }

  /** Maintenance.Alarm: every action goes through Raft, as etcd's. */
  alarm(req: AlarmRequest): Promise<AlarmResponse> {
    return this.h.proposer.propose((id) => ({ kind: RequestKind.Alarm, id, req }));
  }

  deleteRange(req: DeleteRangeRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<DeleteRangeResponse> {
    return this.h.proposer.propose((id) => ({ kind: RequestKind.DeleteRange, id, req, wire, auth }));
  }

  async txn(req: TxnRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<TxnResponse> {
    await this.checkQuota(txnCost(req));
    if (isReadOnlyTxn(req)) {
      // etcd serves read-only txns like reads: after a ReadIndex round, locally.
      await this.h.linearizableRead();
      this.h.auth.checkTxn(auth ?? null, req);
      const res = applyTxn(this.h.kv, new WriteBatch(), req);
      this.h.auth.checkStillCurrent(auth ?? null);
      return res.resp;
    }
    return this.h.proposer.propose((id) => ({ kind: RequestKind.Txn, id, req, wire, auth }));
  }

  async compact(req: CompactionRequest, auth?: AuthStamp): Promise<CompactionResponse> {
    const res = await this.h.proposer.propose<CompactApplied>((id) => ({ kind: RequestKind.Compaction, id, req, auth }));
    if (req.physical) await res.physical;
    return { header: { revision: res.revision } };
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    this.h.checkServing();
    if (!req.serializable) await this.h.linearizableRead();
    metrics.mvcc.range++;
    return applyRange(this.h.kv, req);
  }

  /** An Auth service request through Raft (auth-gate.ts checks it at apply). */
  authRequest(op: AuthOp, auth?: AuthStamp): Promise<AuthOpResult> {
    return this.h.proposer.propose((id) => ({ kind: RequestKind.Auth, id, req: op, auth }));
  }
}

function isReadOnlyTxn(t: TxnRequest): boolean {
  const ops = [...t.success, ...t.failure];
  return ops.every((op) => op.request === 'request_range' || (op.request === 'request_txn' && !!op.request_txn && isReadOnlyTxn(op.request_txn)));
}
