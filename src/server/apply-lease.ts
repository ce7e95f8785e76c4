/**
 * Apply of the lease requests (etcd applierV3backend LeaseGrant/LeaseRevoke/LeaseCheckpoint).
 * Synchronous, and reading only the request, the lessor's replicated state and the store, so
 * every member computes the same result from the same entry (the lessor reads its clock only
 * to arm the leader's local timers, never to decide an outcome).
 *
 * Invariants: a request that fails changes nothing; a revoke deletes every attached key in ONE
 * write transaction (one revision, DELETE events in key order), or consumes no revision when the
 * lease holds no key; the lease record goes in the same batch as the deletions.
 */
import { EtcdError, Errors } from '../api/errors.js';
import type { Event } from '../api/kv-types.js';
import type {
  LeaseCheckpointRequest,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
} from '../api/lease-types.js';
import type { Lessor } from '../lease/lessor.js';
import type { KvStore } from '../mvcc/kv-store.js';
import type { WriteBatch } from '../storage/backend.js';
import type { WriteResult } from './apply-kv.js';
import { AlarmType } from './alarms.js';
import { RequestKind, type InternalRequest } from './internal-request.js';

export interface LeaseCheckpointResponse {
  header: { revision: bigint };
}

export function applyLeaseGrant(lessor: Lessor, kv: KvStore, batch: WriteBatch, r: LeaseGrantRequest): WriteResult<LeaseGrantResponse> {
  const l = lessor.grant(r.ID, r.TTL, batch);
  return { resp: { header: { revision: kv.rev() }, ID: l.id, TTL: l.ttl, error: '' }, events: [] };
}

export function applyLeaseRevoke(lessor: Lessor, kv: KvStore, batch: WriteBatch, r: LeaseRevokeRequest): WriteResult<LeaseRevokeResponse> {
  if (!lessor.exists(r.ID)) throw new EtcdError(Errors.LeaseNotFound);
  const keys = lessor.keysOf(r.ID);
  let events: Event[] = [];
  if (keys.length > 0) {
    const txn = kv.write(batch);
    for (const k of keys) txn.deleteRange(k, null);
    events = txn.end();
  }
  lessor.revoke(r.ID, batch);
  return { resp: { header: { revision: kv.rev() } }, events };
}

export function applyLeaseCheckpoint(lessor: Lessor, kv: KvStore, batch: WriteBatch, r: LeaseCheckpointRequest): WriteResult<LeaseCheckpointResponse> {
  for (const cp of r.checkpoints) lessor.checkpoint(cp.ID, cp.remaining_TTL, batch);
  return { resp: { header: { revision: kv.rev() } }, events: [] };
}

/**
 * etcd applierV3Corrupt / applierV3Capped for the lease requests: with CORRUPT active, grant and
 * revoke fail with "corrupt cluster"; with NOSPACE active, grant fails with "database space
 * exceeded" (a revoke frees space, a checkpoint is bookkeeping: both go on).
 */
export function leaseAlarmCheck(hasAlarm: (alarm: number) => boolean, kind: number): EtcdError | null {
  if (kind === RequestKind.LeaseCheckpoint) return null;
  if (hasAlarm(AlarmType.CORRUPT)) return new EtcdError(Errors.Corrupt);
  if (kind === RequestKind.LeaseGrant && hasAlarm(AlarmType.NOSPACE)) return new EtcdError(Errors.NoSpace);
  return null;
}

type LeaseRequest = Extract<
  InternalRequest,
  { kind: typeof RequestKind.LeaseGrant | typeof RequestKind.LeaseRevoke | typeof RequestKind.LeaseCheckpoint }
>;

/** The one entry point the apply chain (apply-chain.ts BackendStage) calls for the three lease kinds. */
export function applyLease(lessor: Lessor, kv: KvStore, batch: WriteBatch, r: LeaseRequest): WriteResult<unknown> {
  switch (r.kind) {
    case RequestKind.LeaseGrant:
      return applyLeaseGrant(lessor, kv, batch, r.req);
    case RequestKind.LeaseRevoke:
      return applyLeaseRevoke(lessor, kv, batch, r.req);
    case RequestKind.LeaseCheckpoint:
      return applyLeaseCheckpoint(lessor, kv, batch, r.req);
  }
}
