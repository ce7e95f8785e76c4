/**
 * Internal requests: what a Raft log entry carries. One byte of kind, the 8-byte request id
 * (so the proposing member can find its waiter), then the etcd request message in protobuf,
 * encoded with our proto/ definitions (etcd's InternalRaftRequest plays this role there).
 * An entry with empty data is the no-op a new leader appends.
 *
 * A request made while auth is enabled carries who made it (etcd's RequestHeader username and
 * auth_revision): the kind byte has its high bit set and the id is followed by the auth revision
 * (u64) and the user name (u16 length + UTF-8). Apply checks permissions against that
 * (server/apply-auth.ts). Without auth nothing is added, so the plain path costs nothing.
 */
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';
import { toDomain, toWire } from '../api/convert.js';
import type { CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest } from '../api/kv-types.js';
import type { LeaseCheckpointRequest, LeaseGrantRequest, LeaseRevokeRequest } from '../api/lease-types.js';
import { protoRoot } from '../api/descriptor.js';
import { decodeDeleteRangeRequest, decodePutRequest, decodeTxnRequest } from '../api/kv-wire.js';
import { decodeAuthOp, encodeAuthOp, type AuthOp } from '../auth/auth-ops.js';
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
  /** Every Auth service request (auth/auth-ops.ts, JSON body, rare). */
  Auth: 40,
} as const;

/** The high bit of the kind byte: an auth stamp follows the id. */
const stampedBit = 0x80;

/** Who proposed a request while auth was enabled (etcd's username + auth_revision header). */
export interface AuthStamp {
  username: string;
  revision: bigint;
}

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
 * into the entry as it is — no re-encoding on the write path. `auth`: the stamp (see above).
 */
export type InternalRequest = (
  | { kind: typeof RequestKind.Put; id: bigint; req: PutRequest; wire?: Uint8Array }
  | { kind: typeof RequestKind.DeleteRange; id: bigint; req: DeleteRangeRequest; wire?: Uint8Array }
  | { kind: typeof RequestKind.Txn; id: bigint; req: TxnRequest; wire?: Uint8Array }
  | { kind: typeof RequestKind.Compaction; id: bigint; req: CompactionRequest }
  | { kind: typeof RequestKind.Alarm; id: bigint; req: AlarmRequest }
  | { kind: typeof RequestKind.LeaseGrant; id: bigint; req: LeaseGrantRequest }
  | { kind: typeof RequestKind.LeaseRevoke; id: bigint; req: LeaseRevokeRequest }
  | { kind: typeof RequestKind.LeaseCheckpoint; id: bigint; req: LeaseCheckpointRequest }
  | { kind: typeof RequestKind.MemberPublish; id: bigint; req: MemberPublish }
  | { kind: typeof RequestKind.MemberUpdate; id: bigint; req: MemberUpdate }
  | { kind: typeof RequestKind.Auth; id: bigint; req: AuthOp }
) & { auth?: AuthStamp };

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

function frame(kind: number, id: bigint, body: Uint8Array, stamp?: AuthStamp): Uint8Array {
  if (stamp !== undefined) {
    const user = Buffer.from(stamp.username, 'utf8');
    assert(user.length <= 0xffff, 'user name too long for an auth stamp');
    const out = Buffer.allocUnsafe(headerBytes + 10 + user.length + body.length);
    out[0] = kind | stampedBit;
    u64ToBytesBE(id, out, 1);
    u64ToBytesBE(stamp.revision, out, headerBytes);
    out[headerBytes + 8] = user.length >> 8;
    out[headerBytes + 9] = user.length & 0xff;
    out.set(user, headerBytes + 10);
    out.set(body, headerBytes + 10 + user.length);
    return out;
  }
  // From Node's buffer pool: one small view, not an ArrayBuffer, per entry.
  const out = Buffer.allocUnsafe(headerBytes + body.length);
  out[0] = kind;
  u64ToBytesBE(id, out, 1);
  out.set(body, headerBytes);
  return out;
}

/** The request kind of an entry's data (without the stamp bit). */
export function internalKind(data: Uint8Array): number {
  return (data[0] as number) & ~stampedBit;
}

export function encodeInternal(r: InternalRequest): Uint8Array {
  return frame(r.kind, r.id, encodeBody(r), r.auth);
}

function encodeBody(r: InternalRequest): Uint8Array {
  if (r.kind === RequestKind.MemberPublish) {
    const { memberId, name, clientURLs } = r.req;
    return Buffer.from(JSON.stringify({ memberId: memberId.toString(), name, clientURLs }));
  }
  if (r.kind === RequestKind.MemberUpdate) {
    return Buffer.from(JSON.stringify({ memberId: r.req.memberId.toString(), peerURLs: r.req.peerURLs }));
  }
  if (r.kind === RequestKind.Auth) return encodeAuthOp(r.req);
  if ((r.kind === RequestKind.Put || r.kind === RequestKind.DeleteRange || r.kind === RequestKind.Txn) && r.wire !== undefined) return r.wire;
  const name = typeNames[r.kind] as string;
  const type = protoRoot.lookupType(name);
  return type.encode(type.fromObject(toWire(name, r.req))).finish();
}

export function decodeInternal(raw: Uint8Array): InternalRequest {
  const id = u64FromBytesBE(raw, 1);
  if (((raw[0] as number) & stampedBit) === 0) return decodeBody(raw[0] as number, id, raw, headerBytes);
  const userBytes = ((raw[headerBytes + 8] as number) << 8) | (raw[headerBytes + 9] as number);
  const auth: AuthStamp = {
    revision: u64FromBytesBE(raw, headerBytes),
    username: Buffer.from(raw.buffer, raw.byteOffset + headerBytes + 10, userBytes).toString('utf8'),
  };
  return { ...decodeBody(internalKind(raw), id, raw, headerBytes + 10 + userBytes), auth };
}

/** The request of kind `kind` whose body starts at `at`. */
function decodeBody(kind: number, id: bigint, data: Uint8Array, at: number): InternalRequest {
  if (kind === RequestKind.MemberPublish) {
    const j = JSON.parse(Buffer.from(data.subarray(at)).toString()) as { memberId: string; name: string; clientURLs: string[] };
    return { kind, id, req: { memberId: BigInt(j.memberId), name: j.name, clientURLs: j.clientURLs } };
  }
  if (kind === RequestKind.MemberUpdate) {
    const j = JSON.parse(Buffer.from(data.subarray(at)).toString()) as { memberId: string; peerURLs: string[] };
    return { kind, id, req: { memberId: BigInt(j.memberId), peerURLs: j.peerURLs } };
  }
  if (kind === RequestKind.Auth) return { kind, id, req: decodeAuthOp(data.subarray(at)) };
  const name = typeNames[kind];
  assert(name !== undefined, `unknown internal request kind ${kind}`);
  // The KV kinds, the hot ones, by the hand-written codecs (views into the entry's bytes).
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (kind === RequestKind.Put) return { kind, id, req: decodePutRequest(buf, at) };
  if (kind === RequestKind.DeleteRange) return { kind, id, req: decodeDeleteRangeRequest(buf, at) };
  if (kind === RequestKind.Txn) return { kind, id, req: decodeTxnRequest(buf, at) };
  const type = protoRoot.lookupType(name);
  const msg = type.decode(data.subarray(at));
  const obj = type.toObject(msg, { longs: String, defaults: true, oneofs: true });
  return { kind, id, req: toDomain(name, obj) } as InternalRequest;
}
