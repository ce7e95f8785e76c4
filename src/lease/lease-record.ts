/**
 * The persisted form of a lease under the schema's lease prefix (`'l' + id`): the granted TTL
 * and the last checkpointed remaining TTL, both in seconds as signed 64-bit big-endian
 * (etcd leasepb.Lease {ID, TTL, RemainingTTL}; the id is in the key). Attached keys are not
 * stored here: they are rebuilt from the MVCC records (KvStore.open re-attaches), as etcd does.
 */
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';

export interface LeaseRecord {
  ttl: bigint;
  /** 0 = no checkpoint since the last renewal (the whole TTL remains). */
  remaining: bigint;
}

export const leaseRecordBytes = 16;

export function encodeLeaseRecord(r: LeaseRecord): Buffer {
  const b = Buffer.allocUnsafe(leaseRecordBytes);
  u64ToBytesBE(BigInt.asUintN(64, r.ttl), b, 0);
  u64ToBytesBE(BigInt.asUintN(64, r.remaining), b, 8);
  return b;
}

export function decodeLeaseRecord(b: Uint8Array): LeaseRecord {
  assert(b.length === leaseRecordBytes, `lease record of ${b.length} bytes`);
  return { ttl: BigInt.asIntN(64, u64FromBytesBE(b, 0)), remaining: BigInt.asIntN(64, u64FromBytesBE(b, 8)) };
}
