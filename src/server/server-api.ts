/**
 * ServerApi: what the rpc/ layer may ask of a member — the narrow interface DESIGN.md's module
 * table asks for ("server, through a narrow interface, not the class"). rpc/*.ts import this
 * type only; EtcdServer (etcd-server.ts, the composition root) implements it. Nothing here
 * hands out the backend, the Raft core or the apply chain: store-wide maintenance (hash,
 * defragment, snapshot file, size in use) is a method of the member, and the sub-services are
 * typed by the few members rpc calls (Pick), so a new use from rpc/ is a visible change here.
 *
 * Invariants: type-only at run time (this module holds no state; the version constants are
 * plain strings); every method settles its promise (result, etcd error, timeout or "server
 * stopped"); header() is cheap (no allocation beyond the header object itself), since every
 * response calls it.
 */
import type { Logger } from '../base/logger.js';
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
import type { Member } from '../membership/member-store.js';
import type { KvStore } from '../mvcc/kv-store.js';
import type { WatchableStore } from '../mvcc/watchable-store.js';
import type { AuthOp, AuthOpResult } from '../auth/auth-ops.js';
import type { AlarmRequest, AlarmResponse, AlarmStore } from './alarms.js';
import type { AuthGate } from './auth-gate.js';
import type { MemberAddResult } from './cluster-ops.js';
import type { AuthStamp } from './internal-request.js';
import type { LeaseServer } from './lease-server.js';
import type { HashKvResult } from './maintenance.js';
import type { SnapshotFile } from './snapshot.js';

export type MemberInfo = Member;

export const serverVersion = '3.5.0';
export const clusterVersion = '3.5.0';

export interface ResponseHeaderFields {
  cluster_id: bigint;
  member_id: bigint;
  revision: bigint;
  raft_term: bigint;
}

/** The options rpc/ reads (a subset of ServerOptions, server-options.ts). */
export interface ServerApiOptions {
  readonly dataDir: string;
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  readonly electionTimeoutMs: number;
  readonly quotaBackendBytes: number;
  readonly logger: Logger;
}

export interface ServerApi {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly opts: ServerApiOptions;

  // ---- KV (writes through Raft; `wire` is the request as the client sent it, `auth` who asks) ----
  range(req: RangeRequest): Promise<RangeResponse>;
  put(req: PutRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<PutResponse>;
  deleteRange(req: DeleteRangeRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<DeleteRangeResponse>;
  txn(req: TxnRequest, wire?: Uint8Array, auth?: AuthStamp): Promise<TxnResponse>;
  compact(req: CompactionRequest, auth?: AuthStamp): Promise<CompactionResponse>;
  /** Resolves once a local read sees everything committed before the call (ReadIndex). */
  linearizableRead(): Promise<void>;

  // ---- maintenance ----
  alarm(req: AlarmRequest): Promise<AlarmResponse>;
  authRequest(op: AuthOp, auth?: AuthStamp): Promise<AuthOpResult>;
  /** Maintenance.Hash over the whole store (store-hash.ts). */
  hashStore(): Promise<{ hash: number; revision: bigint }>;
  /** Maintenance.HashKV up to `revision` (0: the current one). */
  hashKV(revision: bigint): Promise<HashKvResult>;
  defragment(): Promise<void>;
  /** Writes a consistent snapshot of the backend to `file` (Maintenance.Snapshot streams it). */
  writeSnapshotFile(file: string): Promise<SnapshotFile>;
  dbSize(): number;
  dbSizeInUse(): Promise<number>;

  // ---- membership ----
  readonly members: MemberInfo[];
  memberAdd(peerURLs: string[], isLearner: boolean): Promise<MemberAddResult>;
  memberRemove(id: bigint): Promise<MemberInfo[]>;
  memberUpdate(id: bigint, peerURLs: string[]): Promise<MemberInfo[]>;
  memberPromote(id: bigint): Promise<MemberInfo[]>;
  moveLeader(target: bigint): Promise<void>;

  // ---- status ----
  header(revision?: bigint): ResponseHeaderFields;
  term(): bigint;
  leader(): bigint;
  isLeader(): boolean;
  isLearner(): boolean;
  raftIndex(): bigint;
  applied(): bigint;
  pendingProposalCount(): number;
  failedProposalCount(): number;

  // ---- sub-services, by the members rpc/ uses ----
  readonly kv: Pick<KvStore, 'rev' | 'keyCount' | 'compactRev'>;
  readonly watchable: Pick<WatchableStore, 'newStream' | 'streamCount' | 'stats'>;
  readonly alarms: Pick<AlarmStore, 'get'>;
  readonly leases: Pick<LeaseServer, 'grant' | 'revoke' | 'renew' | 'timeToLive' | 'leases'>;
  readonly auth: Pick<
    AuthGate,
    | 'enabled'
    | 'store'
    | 'jwt'
    | 'info'
    | 'checkPassword'
    | 'hashPassword'
    | 'checkRange'
    | 'checkTxn'
    | 'checkStillCurrent'
    | 'watchPermitted'
    | 'checkAdmin'
    | 'checkMaintenance'
  >;
}
