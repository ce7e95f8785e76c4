/**
 * A small etcd v3 client over grpc-js, used by `ctl` and by tests.
 *
 * - One gRPC channel per endpoint. A call goes to the first endpoint (in the given order) that
 *   is connected; when none is, it waits for whichever connects first, until the call's deadline
 *   (the command timeout). This is how etcdctl 3.4 behaves: a dead endpoint in the list is
 *   skipped, and with no live endpoint a command fails after --command-timeout with
 *   `context deadline exceeded` (the dial timeout does not shorten that).
 * - A read-only call that fails with UNAVAILABLE is retried on another endpoint until the
 *   deadline (clientv3 retries only repeatable requests); a write is never retried once sent.
 * - Every failed attempt is reported through `onRetryWarning` exactly as clientv3's retry
 *   interceptor logs it, so etcdctl's stderr can be reproduced.
 * - 64-bit integers: requests take bigint, responses give bigint (`resp`) and the wire object
 *   with decimal strings (`raw`).
 * - Codecs: the KV calls (range, put, deleteRange, txn) go through the hand codecs of
 *   api/kv-wire-client.ts when the caller does not want `raw` (`keepRaw: false`, as ctl outside
 *   `-w json|protobuf`); every other call, and these with `keepRaw`, through protobufjs
 *   (generic-wire.ts), loaded on first use. So `ctl get/put/del/txn` start without it (issue 13).
 */
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { emptyRangeRequest } from '../api/kv-types.js';
import * as kvWire from '../api/kv-wire-client.js';
import { parseEndpoint, type Endpoint } from './endpoints.js';
import { H2CallError, H2Channel } from './h2-unary.js';
import { ClientError, goStatusText } from './errors.js';
import type { WatchSession } from './watch.js';
import type {
  AlarmList,
  AuthHeaderOnly,
  AuthRoleGet,
  AuthRoleList,
  AuthStatus,
  AuthUserGet,
  AuthUserList,
  Authenticate,
  CallResult,
  Compaction,
  Defragment,
  HashKV,
  SnapshotChunk,
  CompactionRequest,
  DeleteRange,
  DeleteRangeRequest,
  LeaseGrant,
  LeaseLeases,
  LeaseRevoke,
  LeaseTimeToLive,
  MemberAdd,
  MemberChange,
  MemberList,
  MoveLeader,
  Put,
  PutRequest,
  Range,
  RangeRequest,
  Status,
  Txn,
  TxnRequest,
  WireMessage,
} from './types.js';

export interface ClientOptions {
  /** `host:port` or `http(s)://host:port`; at least one. */
  endpoints: string[];
  /** Longest wait for one endpoint's connection before trying the next (etcdctl --dial-timeout). */
  dialTimeoutMs?: number;
  /** Deadline of every call (etcdctl --command-timeout). */
  commandTimeoutMs?: number;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  /** Auth token sent as the `token` metadata on every call. */
  token?: string;
  /** Called for every failed attempt, with clientv3's log fields. */
  onRetryWarning?: (w: RetryWarning) => void;
  /**
   * TLS for every endpoint (etcdctl --cacert/--cert/--key, or --insecure-transport=false);
   * without it only `https://` endpoints use TLS, with the system's roots.
   */
  tls?: ClientTls;
  /**
   * Results of the KV calls carry the wire object (`raw`); default true. False: they are
   * decoded by the hand codecs and `raw` throws (only json/protobuf printing reads it).
   */
  keepRaw?: boolean;
}

export interface ClientTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Do not verify the server's certificate (etcdctl --insecure-skip-tls-verify). */
  skipVerify?: boolean;
}

export interface RetryWarning {
  /** clientv3's gRPC target: `endpoint://client-<uuid>/<first endpoint>` or `passthrough:///<ep>`. */
  target: string;
  attempt: number;
  /** grpc-go's status text of the failure. */
  error: string;
}

export const dialTimeoutMsDefault = 2000;
export const commandTimeoutMsDefault = 5000;
export const keepaliveTimeMsDefault = 2000;
export const keepaliveTimeoutMsDefault = 6000;
/** clientv3 defaults: 2 MiB requests, responses up to MaxInt32. */
const sendBytesMax = 2 * 1024 * 1024;
const recvBytesMax = 2 ** 31 - 1;

interface Conn {
  endpoint: Endpoint;
  /** Unary calls (h2-unary.ts). */
  h2: H2Channel;
  /** Streams: a grpc-js client, made when the first stream is opened (grpc-js loads then). */
  grpc: grpc.Client | null;
}

/** The protobufjs codec path, loaded with the first call that needs it. */
let genericWire: Promise<typeof import('./generic-wire.js')> | null = null;
function loadGenericWire(): Promise<typeof import('./generic-wire.js')> {
  genericWire ??= import('./generic-wire.js');
  return genericWire;
}

/** A call's request bytes and how to read its answer. */
interface CallCodec<T> {
  request: Uint8Array;
  decode(bytes: Buffer): { raw: WireMessage; resp: T };
}

/** What a result decoded by a hand codec answers when asked for its wire object. */
const noRaw = (): WireMessage => {
  throw new Error('this client keeps no wire objects (keepRaw: false)');
};

/** grpc-js and the client constructors, loaded with the first stream. */
type GrpcModules = { grpc: typeof import('@grpc/grpc-js'); proto: typeof import('../api/proto.js') };
let grpcModules: Promise<GrpcModules> | null = null;
function loadGrpc(): Promise<GrpcModules> {
  grpcModules ??= Promise.all([import('@grpc/grpc-js'), import('../api/proto.js')]).then(([m, proto]) => {
    // grpc-js is CommonJS: its exports are the namespace (node) or its default (a bundle's interop).
    const grpc = ('credentials' in m ? m : (m as unknown as { default: typeof m }).default) as typeof import('@grpc/grpc-js');
    return { grpc, proto };
  });
  return grpcModules;
}

interface CallSpec {
  /** Full service name, e.g. etcdserverpb.KV */
  service: string;
  method: string;
  requestType: string;
  responseType: string;
  /** Safe to repeat after an UNAVAILABLE that may have reached the server. */
  readOnly: boolean;
}

const noConnectionText = 'latest balancer error: all SubConns are in TransientFailure';

export class EtcdClient {
  readonly endpoints: readonly Endpoint[];
  readonly commandTimeoutMs: number;
  readonly dialTimeoutMs: number;
  /** clientv3's target name, used in retry warnings. */
  readonly target: string;
  private readonly conns: Conn[];
  private readonly onRetryWarning: (w: RetryWarning) => void;
  private token: string | undefined;
  private closed = false;

  constructor(opts: ClientOptions) {
    if (opts.endpoints.length === 0) throw new Error('no endpoints given');
    this.endpoints = opts.endpoints.map(parseEndpoint);
    this.commandTimeoutMs = opts.commandTimeoutMs ?? commandTimeoutMsDefault;
    this.dialTimeoutMs = opts.dialTimeoutMs ?? dialTimeoutMsDefault;
    this.token = opts.token;
    this.onRetryWarning = opts.onRetryWarning ?? (() => undefined);
    this.target = `endpoint://client-${randomUUID()}/${(this.endpoints[0] as Endpoint).hostPort}`;
    this.opts = opts;
    this.conns = this.endpoints.map((endpoint) => ({ endpoint, h2: new H2Channel(endpoint, { tls: opts.tls }), grpc: null }));
  }

  private readonly opts: ClientOptions;

  /** The grpc-js client of a connection (for streams), made on first use. */
  private async streamClient(idx: number): Promise<grpc.Client> {
    const c = this.conns[idx] as Conn;
    if (c.grpc) return c.grpc;
    const { grpc } = await loadGrpc();
    if (c.grpc) return c.grpc;
    const tls = this.opts.tls;
    c.grpc = new grpc.Client(
      c.endpoint.hostPort,
      tls ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, tls.skipVerify ? { rejectUnauthorized: false } : {}) : c.endpoint.secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
      {
        'grpc.keepalive_time_ms': this.opts.keepaliveTimeMs ?? keepaliveTimeMsDefault,
        'grpc.keepalive_timeout_ms': this.opts.keepaliveTimeoutMs ?? keepaliveTimeoutMsDefault,
        'grpc.max_send_message_length': sendBytesMax,
        'grpc.max_receive_message_length': recvBytesMax,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      },
    );
    return c.grpc;
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  /** The auth token sent with every call (after authenticate), if any. */
  get authToken(): string | undefined {
    return this.token;
  }

  // ---- KV ----

  range(req: Partial<RangeRequest> & { key: Buffer }): Promise<CallResult<Range>> {
    const full: RangeRequest = { ...emptyRangeRequest(req.key), ...req };
    return this.call(kv('Range', 'RangeRequest', 'RangeResponse', true), full, undefined, () => hand(kvWire.encodeRangeRequest(full), kvWire.decodeRangeResponse as (b: Buffer) => Range));
  }

  put(req: Partial<PutRequest> & { key: Buffer }): Promise<CallResult<Put>> {
    const full: PutRequest = {
      value: Buffer.alloc(0),
      lease: 0n,
      prev_kv: false,
      ignore_value: false,
      ignore_lease: false,
      ...req,
    };
    return this.call(kv('Put', 'PutRequest', 'PutResponse', false), full, undefined, () => hand(kvWire.encodePutRequest(full), kvWire.decodePutResponse as (b: Buffer) => Put));
  }

  deleteRange(req: Partial<DeleteRangeRequest> & { key: Buffer }): Promise<CallResult<DeleteRange>> {
    const full: DeleteRangeRequest = { range_end: Buffer.alloc(0), prev_kv: false, ...req };
    return this.call(kv('DeleteRange', 'DeleteRangeRequest', 'DeleteRangeResponse', false), full, undefined, () =>
      hand(kvWire.encodeDeleteRangeRequest(full), kvWire.decodeDeleteRangeResponse as (b: Buffer) => DeleteRange),
    );
  }

  txn(req: TxnRequest): Promise<CallResult<Txn>> {
    return this.call(kv('Txn', 'TxnRequest', 'TxnResponse', isReadOnlyTxn(req)), req, undefined, () => hand(kvWire.encodeTxnRequest(req), kvWire.decodeTxnResponse as (b: Buffer) => Txn));
  }

  compact(req: CompactionRequest): Promise<CallResult<Compaction>> {
    return this.call(kv('Compact', 'CompactionRequest', 'CompactionResponse', false), req);
  }

  // ---- Lease (the keepalive stream: lease-keepalive.ts) ----

  /** LeaseGrant; ID 0 lets the server choose. */
  leaseGrant(TTL: bigint, ID = 0n): Promise<CallResult<LeaseGrant>> {
    return this.call(lease('LeaseGrant', 'LeaseGrantRequest', 'LeaseGrantResponse', false), { TTL, ID });
  }

  leaseRevoke(ID: bigint): Promise<CallResult<LeaseRevoke>> {
    return this.call(lease('LeaseRevoke', 'LeaseRevokeRequest', 'LeaseRevokeResponse', false), { ID });
  }

  leaseTimeToLive(ID: bigint, keys = false): Promise<CallResult<LeaseTimeToLive>> {
    return this.call(lease('LeaseTimeToLive', 'LeaseTimeToLiveRequest', 'LeaseTimeToLiveResponse', true), { ID, keys });
  }

  leaseLeases(): Promise<CallResult<LeaseLeases>> {
    return this.call(lease('LeaseLeases', 'LeaseLeasesRequest', 'LeaseLeasesResponse', true), {});
  }

  /**
   * Opens a LeaseKeepAlive stream on a connected endpoint (waiting up to the command timeout
   * for one). Messages are wire objects (int64 as decimal strings).
   */
  async leaseKeepAliveStream(): Promise<grpc.ClientDuplexStream<WireMessage, WireMessage>> {
    const deadline = Date.now() + this.commandTimeoutMs;
    const idx = await this.pick(deadline);
    if (idx === null) throw ClientError.deadline(goStatusText(4, noConnectionText));
    const { grpc, proto } = await loadGrpc();
    const def = proto.LeaseClient.service['LeaseKeepAlive'];
    if (!def) throw new Error('no method LeaseKeepAlive');
    const md = new grpc.Metadata();
    if (this.token !== undefined) md.set('token', this.token);
    return (await this.streamClient(idx)).makeBidiStreamRequest(
      def.path,
      def.requestSerialize as (v: WireMessage) => Buffer,
      def.responseDeserialize as (b: Buffer) => WireMessage,
      md,
      {},
    );
  }

  // ---- Cluster, Maintenance, Auth ----

  memberList(): Promise<CallResult<MemberList>> {
    return this.call(
      { service: 'etcdserverpb.Cluster', method: 'MemberList', requestType: 'MemberListRequest', responseType: 'MemberListResponse', readOnly: true },
      {},
    );
  }

  memberAdd(peerURLs: string[], isLearner: boolean): Promise<CallResult<MemberAdd>> {
    return this.call(
      { service: 'etcdserverpb.Cluster', method: 'MemberAdd', requestType: 'MemberAddRequest', responseType: 'MemberAddResponse', readOnly: false },
      { peerURLs, isLearner },
    );
  }

  memberRemove(id: bigint): Promise<CallResult<MemberChange>> {
    return this.call(
      { service: 'etcdserverpb.Cluster', method: 'MemberRemove', requestType: 'MemberRemoveRequest', responseType: 'MemberRemoveResponse', readOnly: false },
      { ID: id },
    );
  }

  memberUpdate(id: bigint, peerURLs: string[]): Promise<CallResult<MemberChange>> {
    return this.call(
      { service: 'etcdserverpb.Cluster', method: 'MemberUpdate', requestType: 'MemberUpdateRequest', responseType: 'MemberUpdateResponse', readOnly: false },
      { ID: id, peerURLs },
    );
  }

  memberPromote(id: bigint): Promise<CallResult<MemberChange>> {
    return this.call(
      { service: 'etcdserverpb.Cluster', method: 'MemberPromote', requestType: 'MemberPromoteRequest', responseType: 'MemberPromoteResponse', readOnly: false },
      { ID: id },
    );
  }

  /** Maintenance.MoveLeader (etcdctl sends it through a client of the leader's endpoint alone). */
  moveLeader(targetID: bigint, endpointIndex?: number): Promise<CallResult<MoveLeader>> {
    return this.call(
      { service: 'etcdserverpb.Maintenance', method: 'MoveLeader', requestType: 'MoveLeaderRequest', responseType: 'MoveLeaderResponse', readOnly: false },
      { targetID },
      endpointIndex,
    );
  }

  /**
   * Maintenance.Status of one endpoint (by index into `endpoints`, default the first), as
   * clientv3's `Status(ctx, endpoint)` dials that endpoint alone.
   */
  status(endpointIndex = 0): Promise<CallResult<Status>> {
    return this.call(
      { service: 'etcdserverpb.Maintenance', method: 'Status', requestType: 'StatusRequest', responseType: 'StatusResponse', readOnly: true },
      {},
      endpointIndex,
    );
  }

  alarmList(): Promise<CallResult<AlarmList>> {
    return this.alarm(0, 0n, 0);
  }

  /** Maintenance.Alarm (action GET 0, ACTIVATE 1, DEACTIVATE 2). */
  alarm(action: number, memberID: bigint, alarm: number): Promise<CallResult<AlarmList>> {
    return this.call(
      { service: 'etcdserverpb.Maintenance', method: 'Alarm', requestType: 'AlarmRequest', responseType: 'AlarmResponse', readOnly: action === 0 },
      { action, memberID, alarm },
    );
  }

  /** Maintenance.HashKV of one endpoint (clientv3 HashKV dials it alone). */
  hashKV(revision: bigint, endpointIndex = 0): Promise<CallResult<HashKV>> {
    return this.call(
      { service: 'etcdserverpb.Maintenance', method: 'HashKV', requestType: 'HashKVRequest', responseType: 'HashKVResponse', readOnly: true },
      { revision },
      endpointIndex,
    );
  }

  /** Maintenance.Defragment of one endpoint. */
  defragment(endpointIndex = 0): Promise<CallResult<Defragment>> {
    return this.call(
      { service: 'etcdserverpb.Maintenance', method: 'Defragment', requestType: 'DefragmentRequest', responseType: 'DefragmentResponse', readOnly: false },
      {},
      endpointIndex,
    );
  }

  /**
   * Maintenance.Snapshot of one endpoint: the chunks as they arrive (the last one is the
   * SHA-256 of the rest). No deadline: a snapshot takes as long as it takes (clientv3 too).
   */
  async *snapshot(endpointIndex = 0): AsyncGenerator<SnapshotChunk> {
    const conn = this.conns[endpointIndex];
    if (!conn) throw new Error(`no endpoint #${endpointIndex}`);
    const idx = await this.ready(endpointIndex, Date.now() + this.commandTimeoutMs);
    if (idx === null) {
      throw ClientError.deadline(goStatusText(4, refusedText(conn.endpoint)));
    }
    const { grpc, proto } = await loadGrpc();
    const { toDomain } = await loadGenericWire();
    const def = proto.MaintenanceClient.service['Snapshot'];
    if (!def) throw new Error('no method Snapshot');
    const md = new grpc.Metadata();
    if (this.token !== undefined) md.set('token', this.token);
    const stream = (await this.streamClient(endpointIndex)).makeServerStreamRequest(
      def.path,
      def.requestSerialize as (v: WireMessage) => Buffer,
      def.responseDeserialize as (b: Buffer) => WireMessage,
      {},
      md,
    );
    try {
      for await (const raw of stream as AsyncIterable<WireMessage>) {
        yield toDomain<SnapshotChunk>('etcdserverpb.SnapshotResponse', raw);
      }
    } catch (e) {
      const err = asServiceError(e);
      throw new ClientError(err.code, err.details);
    } finally {
      stream.cancel();
    }
  }

  /** Auth.Authenticate; on success the token is used for every later call. */
  async authenticate(name: string, password: string): Promise<CallResult<Authenticate>> {
    // clientv3 authenticates on a connection of its own, without the old token.
    this.token = undefined;
    const r = await this.call<Authenticate>(
      { service: 'etcdserverpb.Auth', method: 'Authenticate', requestType: 'AuthenticateRequest', responseType: 'AuthenticateResponse', readOnly: false },
      { name, password },
    );
    this.token = r.resp.token;
    return r;
  }

  /** An Auth service call (etcdctl user/role/auth). Never retried: most change state. */
  authCall<T>(method: string, requestType: string, responseType: string, req: unknown): Promise<CallResult<T>> {
    return this.call<T>({ service: 'etcdserverpb.Auth', method, requestType, responseType, readOnly: false }, req);
  }

  userAdd(name: string, password: string, noPassword: boolean): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('UserAdd', 'AuthUserAddRequest', 'AuthUserAddResponse', { name, password, options: noPassword ? { no_password: true } : null });
  }

  userGet(name: string): Promise<CallResult<AuthUserGet>> {
    return this.authCall('UserGet', 'AuthUserGetRequest', 'AuthUserGetResponse', { name });
  }

  userList(): Promise<CallResult<AuthUserList>> {
    return this.authCall('UserList', 'AuthUserListRequest', 'AuthUserListResponse', {});
  }

  userDelete(name: string): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('UserDelete', 'AuthUserDeleteRequest', 'AuthUserDeleteResponse', { name });
  }

  userChangePassword(name: string, password: string): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('UserChangePassword', 'AuthUserChangePasswordRequest', 'AuthUserChangePasswordResponse', { name, password });
  }

  userGrantRole(user: string, role: string): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('UserGrantRole', 'AuthUserGrantRoleRequest', 'AuthUserGrantRoleResponse', { user, role });
  }

  userRevokeRole(name: string, role: string): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('UserRevokeRole', 'AuthUserRevokeRoleRequest', 'AuthUserRevokeRoleResponse', { name, role });
  }

  roleAdd(name: string): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('RoleAdd', 'AuthRoleAddRequest', 'AuthRoleAddResponse', { name });
  }

  roleGet(role: string): Promise<CallResult<AuthRoleGet>> {
    return this.authCall('RoleGet', 'AuthRoleGetRequest', 'AuthRoleGetResponse', { role });
  }

  roleList(): Promise<CallResult<AuthRoleList>> {
    return this.authCall('RoleList', 'AuthRoleListRequest', 'AuthRoleListResponse', {});
  }

  roleDelete(role: string): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('RoleDelete', 'AuthRoleDeleteRequest', 'AuthRoleDeleteResponse', { role });
  }

  /** permType: 0 READ, 1 WRITE, 2 READWRITE. */
  roleGrantPermission(name: string, permType: number, key: Buffer, rangeEnd: Buffer): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('RoleGrantPermission', 'AuthRoleGrantPermissionRequest', 'AuthRoleGrantPermissionResponse', {
      name,
      perm: { permType, key, range_end: rangeEnd },
    });
  }

  roleRevokePermission(role: string, key: Buffer, rangeEnd: Buffer): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('RoleRevokePermission', 'AuthRoleRevokePermissionRequest', 'AuthRoleRevokePermissionResponse', { role, key, range_end: rangeEnd });
  }

  authEnable(): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('AuthEnable', 'AuthEnableRequest', 'AuthEnableResponse', {});
  }

  authDisable(): Promise<CallResult<AuthHeaderOnly>> {
    return this.authCall('AuthDisable', 'AuthDisableRequest', 'AuthDisableResponse', {});
  }

  authStatus(): Promise<CallResult<AuthStatus>> {
    return this.authCall('AuthStatus', 'AuthStatusRequest', 'AuthStatusResponse', {});
  }

  // ---- Watch ----

  /**
   * A watch session (watch.ts) starting on the first connected endpoint, moving to the next
   * ones if its stream breaks.
   */
  async watchSession(): Promise<WatchSession> {
    const first = (await this.pick(Date.now() + this.commandTimeoutMs)) ?? 0;
    const { grpc } = await loadGrpc();
    const clients = await Promise.all(this.conns.map((_, i) => this.streamClient((first + i) % this.conns.length)));
    const { WatchSession: Session } = await import('./watch.js');
    return new Session({
      clients,
      metadata: () => {
        const md = new grpc.Metadata();
        if (this.token !== undefined) md.set('token', this.token);
        return md;
      },
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.conns) {
      c.h2.close();
      c.grpc?.close();
    }
  }

  // ---- the call path ----

  /** `handCodec`: the call's hand codec (KV calls), used unless the caller keeps wire objects. */
  private async call<T>(spec: CallSpec, req: unknown, only?: number, handCodec?: () => CallCodec<T>): Promise<CallResult<T>> {
    const deadline = Date.now() + this.commandTimeoutMs;
    const codec = handCodec !== undefined && this.opts.keepRaw === false ? handCodec() : await this.genericCodec<T>(spec, req);
    const target = only === undefined ? this.target : `passthrough:///${(this.endpoints[only] as Endpoint).hostPort}`;
    let attempt = 0;
    let everConnected = false;
    for (;;) {
      const idx = only === undefined ? await this.pick(deadline) : await this.ready(only, deadline);
      if (idx === null) {
        const text = everConnected
          ? goStatusText(4, 'context deadline exceeded')
          : goStatusText(4, only === undefined ? noConnectionText : refusedText(this.endpoints[only] as Endpoint));
        this.onRetryWarning({ target, attempt, error: text });
        throw ClientError.deadline(text);
      }
      everConnected = true;
      try {
        const bytes = await this.unary(this.conns[idx] as Conn, spec, codec.request, deadline);
        const { raw, resp } = codec.decode(bytes);
        return raw === noRawMarker ? { type: `etcdserverpb.${spec.responseType}`, get raw() { return noRaw(); }, resp } : { type: `etcdserverpb.${spec.responseType}`, raw, resp };
      } catch (e) {
        const err = asServiceError(e);
        if (err.code === statusDeadlineExceeded || Date.now() >= deadline) {
          const text = goStatusText(4, 'context deadline exceeded');
          this.onRetryWarning({ target, attempt, error: text });
          throw ClientError.deadline(text);
        }
        const failure = new ClientError(err.code, err.details);
        this.onRetryWarning({ target, attempt, error: failure.statusText });
        attempt++;
        if (err.code === statusUnavailable && (spec.readOnly || notSent(err))) continue;
        throw failure;
      }
    }
  }

  private async genericCodec<T>(spec: CallSpec, req: unknown): Promise<CallCodec<T>> {
    const g = await loadGenericWire();
    const pkg = spec.service.split('.')[0] as string;
    const respType = `${pkg}.${spec.responseType}`;
    return { request: g.encodeRequest(`${pkg}.${spec.requestType}`, req), decode: (b) => g.decodeResponse<T>(respType, b) };
  }

  private unary(conn: Conn, spec: CallSpec, request: Uint8Array, deadline: number): Promise<Buffer> {
    const md: Record<string, string> = {};
    if (this.token !== undefined) md['token'] = this.token;
    return conn.h2.call(`/${spec.service}/${spec.method}`, request, md, deadline);
  }

  /** The first connected endpoint, in the given order; else the first to connect. */
  private pick(deadline: number): Promise<number | null> {
    const ready = this.firstReady();
    if (ready !== null) return Promise.resolve(ready);
    return new Promise((resolve) => {
      let pending = this.conns.length;
      let done = false;
      this.conns.forEach((c, i) => {
        void c.h2.waitForReady(deadline).then((ok) => {
          if (done) return;
          if (ok) {
            done = true;
            resolve(this.firstReady() ?? i);
          } else if (--pending === 0) {
            done = true;
            resolve(null);
          }
        });
      });
    });
  }

  private ready(idx: number, deadline: number): Promise<number | null> {
    const c = this.conns[idx];
    if (!c) throw new Error(`no endpoint #${idx}`);
    return c.h2.waitForReady(deadline).then((ok) => (ok ? idx : null));
  }

  private firstReady(): number | null {
    for (let i = 0; i < this.conns.length; i++) if ((this.conns[i] as Conn).h2.isReady()) return i;
    return null;
  }
}

const statusDeadlineExceeded = 4;
const statusUnavailable = 14;

function kv(method: string, requestType: string, responseType: string, readOnly: boolean): CallSpec {
  return { service: 'etcdserverpb.KV', method, requestType, responseType, readOnly };
}

/** The wire object a hand codec's result does not have. */
const noRawMarker: WireMessage = {};

function hand<T>(request: Buffer, decode: (b: Buffer) => T): CallCodec<T> {
  return { request, decode: (b) => ({ raw: noRawMarker, resp: decode(b) }) };
}

function lease(method: string, requestType: string, responseType: string, readOnly: boolean): CallSpec {
  return { service: 'etcdserverpb.Lease', method, requestType, responseType, readOnly };
}

function isReadOnlyTxn(req: TxnRequest): boolean {
  const ops = [...req.success, ...req.failure];
  return ops.every((op) => op.request === 'request_range' || (op.request === 'request_txn' && op.request_txn && isReadOnlyTxn(op.request_txn)));
}

function refusedText(ep: Endpoint): string {
  return `latest balancer error: connection error: desc = "transport: Error while dialing dial tcp ${ep.hostPort}: connect: connection refused"`;
}

interface ServiceErrorLike {
  code: number;
  details: string;
}

function asServiceError(e: unknown): ServiceErrorLike {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'number') {
    const se = e as { code: number; details?: unknown; message?: unknown };
    return { code: se.code, details: typeof se.details === 'string' ? se.details : String(se.message ?? '') };
  }
  if (e instanceof H2CallError) return { code: e.code, details: e.details };
  return { code: 2, details: e instanceof Error ? e.message : String(e) };
}

/** grpc-js reports a call that never left the client this way (no stream was created). */
function notSent(err: ServiceErrorLike): boolean {
  return /No connection established|connect ECONNREFUSED/.test(err.details);
}
