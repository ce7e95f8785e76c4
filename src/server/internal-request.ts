/**
 * Internal requests: what a Raft log entry carries. One byte of kind, the 8-byte request id
 * (so the proposing member can find its waiter), then the etcd request message in protobuf,
 * encoded with our proto/ definitions (etcd's InternalRaftRequest plays this role there).
 * An entry with empty data is the no-op a new leader appends.
 */
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';
import { toDomain, toWire } from '../api/convert.js';
import type { CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest } from '../api/kv-types.js';
import type { LeaseCheckpointRequest, LeaseGrantRequest, LeaseRevokeRequest } from '../api/lease-types.js';
import { protoRoot } from '../api/descriptor.js';
import { decodeDeleteRangeRequest, decodePutRequest, decodeTxnRequest } from '../api/kv-wire.js';
import type { AlarmRequest } from './alarms.js';

export const RequestKind = {
  Put: 2,
  DeleteRange: 3,
  Txn: 4,
  Compaction: 5,
  Alarm: 6,
  // Lease service (apply-lease.ts); numbered apart so other kinds can be added below.
  LeaseGrant: 20,
  LeaseRevoke: 21,
  LeaseCheckpoint: 22,
  /** A member publishes its name and client URLs (etcd's publish; JSON body, rare). */
  MemberPublish: 30,
  /** MemberUpdate: a member's new peer URLs (JSON body, rare). */
  MemberUpdate: 31,
} as const;

export interface MemberPublish {
  memberId: bigint;
  name: string;
  clientURLs: string[];
}

export interface MemberUpdate {
  memberId: bigint;
  peerURLs: string[];
}

/**
 * `wire`: the client's request exactly as it came (the same protobuf message), which then goes
 * into the entry as it is — no re-encoding on the write path.
 */
export type InternalRequest =
  | { kind: typeof RequestKind.Put; id: bigint; req: PutRequest; wire?: Uint8Array }
  | { kind: typeof RequestKind.DeleteRange; id: bigint; req: DeleteRangeRequest; wire?: Uint8Array }
  | { kind: typeof RequestKind.Txn; id: bigint; req: TxnRequest; wire?: Uint8Array }
  | { kind: typeof RequestKind.Compaction; id: bigint; req: CompactionRequest }
  | { kind: typeof RequestKind.Alarm; id: bigint; req: AlarmRequest }
  | { kind: typeof RequestKind.LeaseGrant; id: bigint; req: LeaseGrantRequest }
  | { kind: typeof RequestKind.LeaseRevoke; id: bigint; req: LeaseRevokeRequest }
  | { kind: typeof RequestKind.LeaseCheckpoint; id: bigint; req: LeaseCheckpointRequest }
  | { kind: typeof RequestKind.MemberPublish; id: bigint; req: MemberPublish }
  | { kind: typeof RequestKind.MemberUpdate; id: bigint; req: MemberUpdate };

const typeNames: Record<number, string> = {
  [RequestKind.Put]: 'etcdserverpb.PutRequest',
  [RequestKind.DeleteRange]: 'etcdserverpb.DeleteRangeRequest',
  [RequestKind.Txn]: 'etcdserverpb.TxnRequest',
  [RequestKind.Compaction]: 'etcdserverpb.CompactionRequest',
  [RequestKind.Alarm]: 'etcdserverpb.AlarmRequest',
  [RequestKind.LeaseGrant]: 'etcdserverpb.LeaseGrantRequest',
  [RequestKind.LeaseRevoke]: 'etcdserverpb.LeaseRevokeRequest',
  [RequestKind.LeaseCheckpoint]: 'etcdserverpb.LeaseCheckpointRequest',
};

const headerBytes = 9;

function frame(kind: number, id: bigint, body: Uint8Array): Uint8Array {
  // From Node's buffer pool: one small view, not an ArrayBuffer, per entry.
  const out = Buffer.allocUnsafe(headerBytes + body.length);
  out[0] = kind;
  u64ToBytesBE(id, out, 1);
  out.set(body, headerBytes);
  return out;
}

export function encodeInternal(r: InternalRequest): Uint8Array {
  if (r.kind === RequestKind.MemberPublish) {
    const { memberId, name, clientURLs } = r.req;
    return frame(r.kind, r.id, Buffer.from(JSON.stringify({ memberId: memberId.toString(), name, clientURLs })));
  }
  if (r.kind === RequestKind.MemberUpdate) {
    return frame(r.kind, r.id, Buffer.from(JSON.stringify({ memberId: r.req.memberId.toString(), peerURLs: r.req.peerURLs })));
  }
  if ((r.kind === RequestKind.Put || r.kind === RequestKind.DeleteRange || r.kind === RequestKind.Txn) && r.wire !== undefined) {
    return frame(r.kind, r.id, r.wire);
  }
  const name = typeNames[r.kind] as string;
  const type = protoRoot.lookupType(name);
  const body = type.encode(type.fromObject(toWire(name, r.req))).finish();
  return frame(r.kind, r.id, body);
}

export function decodeInternal(data: Uint8Array): InternalRequest {
  const kind = data[0] as number;
  if (kind === RequestKind.MemberPublish) {
    const j = JSON.parse(Buffer.from(data.subarray(headerBytes)).toString()) as { memberId: string; name: string; clientURLs: string[] };
    return { kind, id: u64FromBytesBE(data, 1), req: { memberId: BigInt(j.memberId), name: j.name, clientURLs: j.clientURLs } };
  }
  if (kind === RequestKind.MemberUpdate) {
    const j = JSON.parse(Buffer.from(data.subarray(headerBytes)).toString()) as { memberId: string; peerURLs: string[] };
    return { kind, id: u64FromBytesBE(data, 1), req: { memberId: BigInt(j.memberId), peerURLs: j.peerURLs } };
  }
  const name = typeNames[kind];
  assert(name !== undefined, `unknown internal request kind ${kind}`);
  const id = u64FromBytesBE(data, 1);
  // The KV kinds, the hot ones, by the hand-written codecs (views into the entry's bytes).
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (kind === RequestKind.Put) return { kind, id, req: decodePutRequest(buf, headerBytes) };
  if (kind === RequestKind.DeleteRange) return { kind, id, req: decodeDeleteRangeRequest(buf, headerBytes) };
  if (kind === RequestKind.Txn) return { kind, id, req: decodeTxnRequest(buf, headerBytes) };
  const type = protoRoot.lookupType(name);
  const msg = type.decode(data.subarray(headerBytes));
  const obj = type.toObject(msg, { longs: String, defaults: true, oneofs: true });
  return { kind, id, req: toDomain(name, obj) } as InternalRequest;
}
