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
import { protoRoot } from '../api/proto.js';
import type { AlarmRequest } from './alarms.js';

export const RequestKind = {
  Put: 2,
  DeleteRange: 3,
  Txn: 4,
  Compaction: 5,
  Alarm: 6,
} as const;

export type InternalRequest =
  | { kind: typeof RequestKind.Put; id: bigint; req: PutRequest }
  | { kind: typeof RequestKind.DeleteRange; id: bigint; req: DeleteRangeRequest }
  | { kind: typeof RequestKind.Txn; id: bigint; req: TxnRequest }
  | { kind: typeof RequestKind.Compaction; id: bigint; req: CompactionRequest }
  | { kind: typeof RequestKind.Alarm; id: bigint; req: AlarmRequest };

const typeNames: Record<number, string> = {
  [RequestKind.Put]: 'etcdserverpb.PutRequest',
  [RequestKind.DeleteRange]: 'etcdserverpb.DeleteRangeRequest',
  [RequestKind.Txn]: 'etcdserverpb.TxnRequest',
  [RequestKind.Compaction]: 'etcdserverpb.CompactionRequest',
  [RequestKind.Alarm]: 'etcdserverpb.AlarmRequest',
};

const headerBytes = 9;

export function encodeInternal(r: InternalRequest): Uint8Array {
  const name = typeNames[r.kind] as string;
  const type = protoRoot.lookupType(name);
  const body = type.encode(type.fromObject(toWire(name, r.req))).finish();
  const out = new Uint8Array(headerBytes + body.length);
  out[0] = r.kind;
  u64ToBytesBE(r.id, out, 1);
  out.set(body, headerBytes);
  return out;
}

export function decodeInternal(data: Uint8Array): InternalRequest {
  const kind = data[0] as number;
  const name = typeNames[kind];
  assert(name !== undefined, `unknown internal request kind ${kind}`);
  const id = u64FromBytesBE(data, 1);
  const type = protoRoot.lookupType(name);
  const msg = type.decode(data.subarray(headerBytes));
  const obj = type.toObject(msg, { longs: String, defaults: true, oneofs: true });
  return { kind, id, req: toDomain(name, obj) } as InternalRequest;
}
