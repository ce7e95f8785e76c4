/**
 * Response shapes the client returns: etcd's messages with proto field names, 64-bit integers as
 * bigint, bytes as Buffer (api/convert.ts does the conversion from the wire). Every call also
 * returns the wire object itself (`raw`, 64-bit integers as decimal strings, as proto-loader
 * gives them) and its message type, because etcdctl's json/protobuf printers print the whole
 * response as received.
 */
import type {
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../api/kv-types.js';

export interface ResponseHeader {
  cluster_id: bigint;
  member_id: bigint;
  revision: bigint;
  raft_term: bigint;
}

export type WireMessage = Record<string, unknown>;

export interface CallResult<T> {
  /** Fully-qualified message type, e.g. `etcdserverpb.RangeResponse`. */
  type: string;
  /** The response as received (proto-loader object: int64 as string, bytes as Buffer). */
  raw: WireMessage;
  /** The same response with bigint and Buffer fields. */
  resp: T;
}

export type Range = Omit<RangeResponse, 'header'> & { header: ResponseHeader };
export type Put = Omit<PutResponse, 'header'> & { header: ResponseHeader };
export type DeleteRange = Omit<DeleteRangeResponse, 'header'> & { header: ResponseHeader };
export type Txn = Omit<TxnResponse, 'header'> & { header: ResponseHeader };
export interface Compaction {
  header: ResponseHeader;
}

export interface LeaseGrant {
  header: ResponseHeader;
  ID: bigint;
  TTL: bigint;
  error: string;
}

export interface LeaseRevoke {
  header: ResponseHeader;
}

export interface LeaseKeepAlive {
  header: ResponseHeader;
  ID: bigint;
  TTL: bigint;
}

export interface LeaseTimeToLive {
  header: ResponseHeader;
  ID: bigint;
  TTL: bigint;
  grantedTTL: bigint;
  keys: Buffer[];
}

export interface LeaseLeases {
  header: ResponseHeader;
  leases: { ID: bigint }[];
}

export interface Member {
  ID: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MemberList {
  header: ResponseHeader;
  members: Member[];
}

export interface MemberAdd {
  header: ResponseHeader;
  member: Member | null;
  members: Member[];
}

/** MemberRemove, MemberUpdate and MemberPromote answer the member list after the change. */
export interface MemberChange {
  header: ResponseHeader;
  members: Member[];
}

export interface MoveLeader {
  header: ResponseHeader | null;
}

export interface Status {
  header: ResponseHeader;
  version: string;
  dbSize: bigint;
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  dbSizeInUse: bigint;
  isLearner: boolean;
}

export interface AlarmMember {
  memberID: bigint;
  alarm: number;
}

export interface AlarmList {
  /** etcd answers Alarm without a header. */
  header: ResponseHeader | null;
  alarms: AlarmMember[];
}

export interface HashKV {
  header: ResponseHeader;
  hash: number;
  compact_revision: bigint;
  hash_revision: bigint;
}

export interface Defragment {
  header: ResponseHeader | null;
}

export interface SnapshotChunk {
  header: ResponseHeader | null;
  remaining_bytes: bigint;
  blob: Buffer;
}

export interface Authenticate {
  header: ResponseHeader;
  token: string;
}

export type {
  CompactionRequest,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  TxnRequest,
};

/** Auth responses with a header only (add, delete, grant, revoke, enable, disable, passwd). */
export interface AuthHeaderOnly {
  header: ResponseHeader;
}

export interface AuthUserGet {
  header: ResponseHeader;
  roles: string[];
}

export interface AuthUserList {
  header: ResponseHeader;
  users: string[];
}

export interface AuthRoleList {
  header: ResponseHeader;
  roles: string[];
}

export interface AuthPermission {
  permType: number;
  key: Buffer;
  range_end: Buffer;
}

export interface AuthRoleGet {
  header: ResponseHeader;
  perm: AuthPermission[];
}

export interface AuthStatus {
  header: ResponseHeader;
  enabled: boolean;
  authRevision: bigint;
}
