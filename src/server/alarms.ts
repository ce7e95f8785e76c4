/**
 * Alarms (etcd etcdserver/api/v3alarm + apply.go Alarm): a set of (member id, alarm type) pairs,
 * replicated — every change enters the Raft log as an AlarmRequest and is applied by every
 * member — and persisted under schema.ts alarmKey in the apply batch, so alarms survive a
 * restart. While an alarm is active the apply path is restricted as etcd restricts it:
 *   NOSPACE: Put, Txn with puts (and LeaseGrant) fail with `etcdserver: mvcc: database space
 *            exceeded`; reads, deletes, compaction, defrag and alarm changes still work
 *            (etcd applierV3Capped);
 *   CORRUPT: every KV request fails with `etcdserver: corrupt cluster` (applierV3Corrupt).
 *
 * Invariants: the in-memory set equals the persisted records once the apply batch holding the
 * change has landed (load() rebuilds it at start-up); apply reads only the request and the
 * set (deterministic); ACTIVATE of type NONE and unknown types change nothing.
 */
import { assert } from '../base/assert.js';
import { EtcdError, Errors } from '../api/errors.js';
import type { TxnRequest } from '../api/kv-types.js';
import { Backend, WriteBatch } from '../storage/backend.js';
import { alarmKey, idOfKey, prefix, prefixUpper } from '../storage/schema.js';

/** etcdserverpb.AlarmType. */
export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;
/** etcdserverpb.AlarmRequest.AlarmAction. */
export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const;

/** The KV requests an active alarm may refuse in apply. */
export type KvApplyKind = 'put' | 'txn' | 'deleteRange' | 'compaction';

export const alarmTypeNames: Record<number, string> = { 0: 'NONE', 1: 'NOSPACE', 2: 'CORRUPT' };

export interface AlarmMember {
  memberID: bigint;
  alarm: number;
}

export interface AlarmRequest {
  action: number;
  memberID: bigint;
  alarm: number;
}

export interface AlarmResponse {
  alarms: AlarmMember[];
}

function keyOf(m: AlarmMember): string {
  return `${m.alarm}/${m.memberID}`;
}

function byTypeThenMember(a: AlarmMember, b: AlarmMember): number {
  if (a.alarm !== b.alarm) return a.alarm - b.alarm;
  return a.memberID < b.memberID ? -1 : a.memberID > b.memberID ? 1 : 0;
}

/** Go's `%+v` of a *pb.AlarmMember, as etcd puts it in Status.errors and etcdctl prints it. */
export function alarmText(m: AlarmMember): string {
  return `memberID:${m.memberID} alarm:${alarmTypeNames[m.alarm] ?? String(m.alarm)} `;
}

export class AlarmStore {
  private readonly active = new Map<string, AlarmMember>();

  /** Rebuilds the set from the persisted records (start-up, before any apply). */
  async load(backend: Backend): Promise<void> {
    assert(this.active.size === 0, 'alarms loaded twice');
    for await (const [k] of backend.entries(prefix.alarm, prefixUpper(prefix.alarm))) {
      assert(k.length === 10, 'bad alarm key');
      const m = { memberID: idOfKey(k), alarm: k[9] as number };
      this.active.set(keyOf(m), m);
    }
  }

  /** Replaces the set with the persisted records (after a Raft snapshot install). */
  async reload(backend: Backend): Promise<void> {
    this.active.clear();
    await this.load(backend);
  }

  /** Active alarms of a type (NONE: all), in (type, member) order. */
  get(alarm: number): AlarmMember[] {
    return [...this.active.values()].filter((m) => alarm === AlarmType.NONE || m.alarm === alarm).sort(byTypeThenMember);
  }

  has(alarm: number): boolean {
    for (const m of this.active.values()) if (m.alarm === alarm) return true;
    return false;
  }

  /** Applies an AlarmRequest (etcd applierV3backend.Alarm); persistence goes into batch. */
  apply(req: AlarmRequest, batch: WriteBatch): AlarmResponse {
    switch (req.action) {
      case AlarmAction.GET:
        return { alarms: this.get(req.alarm) };
      case AlarmAction.ACTIVATE: {
        if (alarmTypeNames[req.alarm] === undefined || req.alarm === AlarmType.NONE) return { alarms: [] };
        const m = { memberID: req.memberID, alarm: req.alarm };
        const existing = this.active.get(keyOf(m));
        if (existing) return { alarms: [existing] };
        this.active.set(keyOf(m), m);
        batch.put(alarmKey(m.memberID, m.alarm), Buffer.alloc(0));
        return { alarms: [m] };
      }
      case AlarmAction.DEACTIVATE: {
        const m = this.active.get(keyOf({ memberID: req.memberID, alarm: req.alarm }));
        if (!m) return { alarms: [] };
        this.active.delete(keyOf(m));
        batch.del(alarmKey(m.memberID, m.alarm));
        return { alarms: [m] };
      }
      default:
        // etcd answers an unknown action with an empty response.
        return { alarms: [] };
    }
  }

  /**
   * The error a request must fail with in apply because of an active alarm, if any (etcd swaps
   * its applier for applierV3Corrupt / applierV3Capped).
   */
  applyCheck(kind: KvApplyKind, txn?: TxnRequest): EtcdError | null {
    return this.corruptError() ?? this.cappedError(kind, txn);
  }

  /** etcd applierV3Corrupt: with CORRUPT active, every KV request fails (apply-chain.ts). */
  corruptError(): EtcdError | null {
    return this.has(AlarmType.CORRUPT) ? new EtcdError(Errors.Corrupt) : null;
  }

  /**
   * etcd applierV3Capped: with NOSPACE active, a put and a txn with puts fail; deletes, reads
   * and compaction go on (they free space or cost none) (apply-chain.ts).
   */
  cappedError(kind: KvApplyKind, txn?: TxnRequest): EtcdError | null {
    if (!this.has(AlarmType.NOSPACE)) return null;
    if (kind === 'put') return new EtcdError(Errors.NoSpace);
    if (kind === 'txn' && txn && txnCost(txn) > 0) return new EtcdError(Errors.NoSpace);
    return null;
  }
}

// ---- request cost (etcd etcdserver/quota.go) ----

/** etcd's estimate of a key's metadata in the backend (quota.go kvOverhead). */
export const kvOverheadBytes = 256;
/** etcd's estimate of a lease record (quota.go leaseOverhead). */
export const leaseOverheadBytes = 64;

export function putCost(key: Uint8Array, value: Uint8Array): number {
  return kvOverheadBytes + key.length + value.length;
}

/**
 * etcd costTxn: the larger of the success and failure branches' put costs. Like etcd 3.4/3.5,
 * only top-level puts count (a nested txn costs 0): the same requests pass or fail as in etcd.
 */
export function txnCost(t: TxnRequest): number {
  const branch = (ops: TxnRequest['success']): number => {
    let n = 0;
    for (const op of ops) if (op.request === 'request_put' && op.request_put) n += putCost(op.request_put.key, op.request_put.value);
    return n;
  };
  return Math.max(branch(t.success), branch(t.failure));
}
