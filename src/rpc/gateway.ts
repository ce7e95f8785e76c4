/**
 * etcd's gRPC gateway on the client port: every RPC at its HTTP path (`POST /v3/kv/range`, ...;
 * `/v3beta/...` is the same, as etcd 3.4 rewrites it), with JSON in and out (gateway-json.ts).
 * A call goes to the very method the gRPC server runs (GrpcServer.method), so the answers and
 * errors are the gRPC ones, translated as grpc-gateway v1 does (etcd 3.4):
 *
 * - unary: 200 and the response's JSON; an error status as `{"error","message","code"}` with
 *   HTTP status = HTTPStatusFromCode (400 InvalidArgument/OutOfRange, 404 NotFound, 412
 *   FailedPrecondition, 401, 403, 429, 503, 504, 500 ...), with a Grpc-Trailer-Content-Type
 *   trailer; a body that is not valid JSON for the request: 400, code 3, Go's message.
 * - streams (watch, lease keepalive, election observe, snapshot): the body's JSON values are the
 *   requests; each response is a line `{"result":...}`; an error ends the body with a line
 *   `{"error":{"grpc_code","http_code","message","http_status"}}` (its HTTP status only if nothing
 *   was sent yet); a request body that is not JSON: 500, code 2. The end of the body half-closes
 *   the call, except for Watch: etcd's watch server ignores the client's half-close, so a
 *   `curl -d '{"create_request":...}' /v3/watch` keeps streaming events.
 * - the token: the `Authorization` header becomes the call's `authorization` metadata (etcd reads
 *   the token there too); `Grpc-Metadata-<name>` headers become `<name>`.
 * - other methods than POST on a gateway path: 405; an unknown /v3/ path: 404 `Not Found`.
 *
 * Invariants: every HTTP response ends exactly once; a client that disconnects cancels its call.
 */
import type http from 'node:http';
import { allServiceMethods } from '../api/descriptor.js';
import type { CallStats, CallStatus, GrpcServer, MethodDef, StreamCall } from './h2/grpc-server.js';
import { Status } from './h2/grpc-server.js';
import { JsonError, goJsonString, jsonToMessage, messageToJson, parseJson, type JsonValue } from './gateway-json.js';

/** Gateway paths (after the /v3 prefix) → gRPC method, as etcd 3.4's gateway registers them (plus 3.5's). */
const routes: [string, string][] = [
  ['/kv/range', 'etcdserverpb.KV/Range'],
  ['/kv/put', 'etcdserverpb.KV/Put'],
  ['/kv/deleterange', 'etcdserverpb.KV/DeleteRange'],
  ['/kv/txn', 'etcdserverpb.KV/Txn'],
  ['/kv/compaction', 'etcdserverpb.KV/Compact'],
  ['/watch', 'etcdserverpb.Watch/Watch'],
  ['/lease/grant', 'etcdserverpb.Lease/LeaseGrant'],
  ['/lease/revoke', 'etcdserverpb.Lease/LeaseRevoke'],
  ['/kv/lease/revoke', 'etcdserverpb.Lease/LeaseRevoke'],
  ['/lease/keepalive', 'etcdserverpb.Lease/LeaseKeepAlive'],
  ['/lease/timetolive', 'etcdserverpb.Lease/LeaseTimeToLive'],
  ['/kv/lease/timetolive', 'etcdserverpb.Lease/LeaseTimeToLive'],
  ['/lease/leases', 'etcdserverpb.Lease/LeaseLeases'],
  ['/kv/lease/leases', 'etcdserverpb.Lease/LeaseLeases'],
  ['/cluster/member/add', 'etcdserverpb.Cluster/MemberAdd'],
  ['/cluster/member/remove', 'etcdserverpb.Cluster/MemberRemove'],
  ['/cluster/member/update', 'etcdserverpb.Cluster/MemberUpdate'],
  ['/cluster/member/list', 'etcdserverpb.Cluster/MemberList'],
  ['/cluster/member/promote', 'etcdserverpb.Cluster/MemberPromote'],
  ['/maintenance/alarm', 'etcdserverpb.Maintenance/Alarm'],
  ['/maintenance/status', 'etcdserverpb.Maintenance/Status'],
  ['/maintenance/defragment', 'etcdserverpb.Maintenance/Defragment'],
  // 3.4 registers Hash and HashKV both at /hash; the first (Hash) answers. 3.5 moved HashKV to /hashkv.
  ['/maintenance/hash', 'etcdserverpb.Maintenance/Hash'],
  ['/maintenance/hashkv', 'etcdserverpb.Maintenance/HashKV'],
  ['/maintenance/snapshot', 'etcdserverpb.Maintenance/Snapshot'],
  ['/maintenance/transfer-leadership', 'etcdserverpb.Maintenance/MoveLeader'],
  ['/maintenance/downgrade', 'etcdserverpb.Maintenance/Downgrade'],
  ['/auth/enable', 'etcdserverpb.Auth/AuthEnable'],
  ['/auth/disable', 'etcdserverpb.Auth/AuthDisable'],
  ['/auth/status', 'etcdserverpb.Auth/AuthStatus'],
  ['/auth/authenticate', 'etcdserverpb.Auth/Authenticate'],
  ['/auth/user/add', 'etcdserverpb.Auth/UserAdd'],
  ['/auth/user/get', 'etcdserverpb.Auth/UserGet'],
  ['/auth/user/list', 'etcdserverpb.Auth/UserList'],
  ['/auth/user/delete', 'etcdserverpb.Auth/UserDelete'],
  ['/auth/user/changepw', 'etcdserverpb.Auth/UserChangePassword'],
  ['/auth/user/grant', 'etcdserverpb.Auth/UserGrantRole'],
  ['/auth/user/revoke', 'etcdserverpb.Auth/UserRevokeRole'],
  ['/auth/role/add', 'etcdserverpb.Auth/RoleAdd'],
  ['/auth/role/get', 'etcdserverpb.Auth/RoleGet'],
  ['/auth/role/list', 'etcdserverpb.Auth/RoleList'],
  ['/auth/role/delete', 'etcdserverpb.Auth/RoleDelete'],
  ['/auth/role/grant', 'etcdserverpb.Auth/RoleGrantPermission'],
  ['/auth/role/revoke', 'etcdserverpb.Auth/RoleRevokePermission'],
  ['/election/campaign', 'v3electionpb.Election/Campaign'],
  ['/election/proclaim', 'v3electionpb.Election/Proclaim'],
  ['/election/leader', 'v3electionpb.Election/Leader'],
  ['/election/observe', 'v3electionpb.Election/Observe'],
  ['/election/resign', 'v3electionpb.Election/Resign'],
  ['/lock/lock', 'v3lockpb.Lock/Lock'],
  ['/lock/unlock', 'v3lockpb.Lock/Unlock'],
];

interface Route {
  grpcPath: string;
  reqType: string;
  respType: string;
  requestStream: boolean;
  /** Neither side streams: errors are answered as unary errors. */
  unary: boolean;
  /** Half-close the call at the end of the body (all but Watch). */
  halfClose: boolean;
}

const routeTable: Map<string, Route> = (() => {
  const methods = new Map(allServiceMethods().map((m) => [`${m.service}/${m.method}`, m]));
  const t = new Map<string, Route>();
  for (const [p, name] of routes) {
    const m = methods.get(name);
    if (!m) throw new Error(`gateway route ${p}: no method ${name}`);
    t.set(p, {
      grpcPath: `/${name}`,
      reqType: m.requestType,
      respType: m.responseType,
      requestStream: m.requestStream,
      unary: !m.requestStream && !m.responseStream,
      halfClose: name !== 'etcdserverpb.Watch/Watch',
    });
  }
  return t;
})();

/** grpc-gateway's HTTPStatusFromCode. */
export function httpStatusFromCode(code: number): number {
  const map: Record<number, number> = {
    [Status.OK]: 200,
    [Status.CANCELLED]: 408,
    [Status.UNKNOWN]: 500,
    [Status.INVALID_ARGUMENT]: 400,
    [Status.DEADLINE_EXCEEDED]: 504,
    [Status.NOT_FOUND]: 404,
    [Status.ALREADY_EXISTS]: 409,
    [Status.PERMISSION_DENIED]: 403,
    [Status.UNAUTHENTICATED]: 401,
    [Status.RESOURCE_EXHAUSTED]: 429,
    [Status.FAILED_PRECONDITION]: 412,
    [Status.ABORTED]: 409,
    [Status.OUT_OF_RANGE]: 400,
    [Status.UNIMPLEMENTED]: 501,
    [Status.INTERNAL]: 500,
    [Status.UNAVAILABLE]: 503,
    [Status.DATA_LOSS]: 500,
  };
  return map[code] ?? 500;
}

const httpStatusText: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 409: 'Conflict',
  412: 'Precondition Failed', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** etcd's CORS headers (--cors, default "*"), on every HTTP answer of the client port. */
export const corsHeaders: Record<string, string> = {
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Origin': '*',
};

/** The route of a path under /v3/ or /v3beta/, `unknown` for another /v3 path, null if not the gateway's. */
export function gatewayPath(pathname: string): string | null {
  const m = /^\/v3(?:beta)?(\/.*)$/.exec(pathname);
  return m ? (m[1] as string) : null;
}

function errorBody(st: CallStatus): string {
  const msg = goJsonString(st.details);
  return `{"error":${msg},"message":${msg},"code":${st.code}}`;
}

function streamErrorChunk(st: CallStatus): string {
  const http = httpStatusFromCode(st.code);
  return `{"error":{"grpc_code":${st.code},"http_code":${http},"message":${goJsonString(st.details)},"http_status":${goJsonString(httpStatusText[http] ?? '')}}}`;
}

function metadataOf(req: http.IncomingMessage): Map<string, string> {
  const md = new Map<string, string>();
  const auth = req.headers.authorization;
  if (auth !== undefined) md.set('authorization', auth);
  for (const [k, v] of Object.entries(req.headers)) {
    if (!k.startsWith('grpc-metadata-') || v === undefined) continue;
    md.set(k.slice('grpc-metadata-'.length), Array.isArray(v) ? v.join(',') : v);
  }
  return md;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** All JSON values of a body (json.Decoder in a loop); stops at the first that does not parse. */
function parseAll(text: string): { values: JsonValue[]; error: JsonError | null } {
  const values: JsonValue[] = [];
  let rest = text;
  for (;;) {
    try {
      const r = parseJson(rest);
      if (r === null) return { values, error: null };
      values.push(r.value);
      rest = r.rest;
    } catch (e) {
      if (e instanceof JsonError) return { values, error: e };
      throw e;
    }
  }
}

export class Gateway {
  constructor(private readonly grpc: GrpcServer) {}

  /** Serves a request whose path gatewayPath() accepted. */
  async serve(sub: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const route = routeTable.get(sub);
    const def = route ? this.grpc.method(route.grpcPath) : undefined;
    if (!route || def === undefined) return plain(res, 404, 'Not Found\n');
    if (req.method !== 'POST') return plain(res, 405, 'Method Not Allowed\n');
    const body = await readBody(req);
    const ctx = new GatewayCall(route.grpcPath, metadataOf(req), `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`, res, route.respType, this.grpc);
    res.once('close', () => ctx.cancel());
    ctx.unary = route.unary;
    // The gateway's calls count as gRPC calls, as etcd's gateway dials its own gRPC server.
    if (def !== null && def.stats !== undefined) {
      ctx.stats = def.stats;
      def.stats.started++;
      if (def.stats.handling !== null) ctx.startedAt = performance.now();
    }
    if (def === null) return ctx.end({ code: Status.UNIMPLEMENTED, details: `unknown method ${route.grpcPath.split('/')[2]} for service ${route.grpcPath.split('/')[1]}` });
    if (route.requestStream) return this.bidi(route, def, ctx, body);
    let reqBytes: Uint8Array;
    try {
      const v = parseJson(body);
      reqBytes = jsonToMessage(route.reqType, v === null ? null : v.value);
    } catch (e) {
      if (!(e instanceof JsonError)) throw e;
      return sendJson(res, 400, errorBody({ code: Status.INVALID_ARGUMENT, details: e.message }));
    }
    if (ctx.stats !== null) ctx.stats.received++;
    if (def.kind === 'unary') {
      try {
        const out = await def.handler(Buffer.from(reqBytes), ctx);
        ctx.reply(out);
      } catch (e) {
        ctx.end(this.grpc.toStatus(e));
      }
      return;
    }
    if (def.kind === 'serverStream') {
      try {
        def.handler(Buffer.from(reqBytes), ctx);
      } catch (e) {
        ctx.end(this.grpc.toStatus(e));
      }
    }
  }

  private bidi(route: Route, def: MethodDef, ctx: GatewayCall, body: string): void {
    if (def.kind !== 'bidi') return;
    const { values, error } = parseAll(body);
    let msgs: Uint8Array[];
    try {
      msgs = values.map((v) => jsonToMessage(route.reqType, v));
    } catch (e) {
      if (!(e instanceof JsonError)) throw e;
      msgs = [];
      if (values.length <= 1) return sendJson(ctx.res, 500, errorBody({ code: Status.UNKNOWN, details: e.message }));
    }
    if (error !== null && msgs.length === 0) return sendJson(ctx.res, 500, errorBody({ code: Status.UNKNOWN, details: error.message }));
    try {
      def.handler(ctx);
    } catch (e) {
      ctx.end(this.grpc.toStatus(e));
      return;
    }
    for (const m of msgs) ctx.deliver(Buffer.from(m));
    if (route.halfClose) ctx.halfClose();
  }
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...corsHeaders, 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendJson(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...corsHeaders, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** One gateway call seen by a method as a gRPC call (unary context or StreamCall). */
class GatewayCall implements StreamCall {
  readonly deadline = Infinity;
  readonly peerCertificate: unknown = undefined;
  cancelled = false;
  ended = false;
  unary = false;
  stats: CallStats | null = null;
  startedAt = 0;
  private started = false;
  private cancelFns: (() => void)[] = [];
  private messageFn: ((m: Buffer) => void) | null = null;
  private halfCloseFn: (() => void) | null = null;
  private drainFn: (() => void) | null = null;
  private pending: Buffer[] = [];
  private halfClosed = false;
  private paused = false;

  constructor(
    readonly path: string,
    readonly metadata: ReadonlyMap<string, string>,
    readonly peer: string,
    readonly res: http.ServerResponse,
    private readonly respType: string,
    private readonly grpc: GrpcServer,
  ) {
    res.on('drain', () => this.drainFn?.());
  }

  onCancel(fn: () => void): void {
    if (this.cancelled) fn();
    else this.cancelFns.push(fn);
  }

  cancel(): void {
    if (this.cancelled || (this.ended && this.res.writableFinished)) return;
    if (!this.ended) this.record(Status.CANCELLED);
    this.cancelled = true;
    this.ended = true;
    const fns = this.cancelFns;
    this.cancelFns = [];
    for (const fn of fns) fn();
  }

  onMessage(fn: (msg: Buffer) => void): void {
    this.messageFn = fn;
    this.flush();
  }

  onHalfClose(fn: () => void): void {
    this.halfCloseFn = fn;
    this.flush();
  }

  onDrain(fn: () => void): void {
    this.drainFn = fn;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.flush();
  }

  deliver(m: Buffer): void {
    if (this.stats !== null) this.stats.received++;
    this.pending.push(m);
    this.flush();
  }

  halfClose(): void {
    this.halfClosed = true;
    this.flush();
  }

  private flush(): void {
    try {
      while (this.pending.length > 0 && this.messageFn && !this.paused && !this.ended) this.messageFn(this.pending.shift() as Buffer);
      if (this.halfClosed && this.pending.length === 0 && this.halfCloseFn && !this.ended) {
        const fn = this.halfCloseFn;
        this.halfCloseFn = null;
        fn();
      }
    } catch (e) {
      this.end(this.grpc.toStatus(e));
    }
  }

  /** Counts the call as handled with `code` (MethodDef.stats). */
  private record(code: number): void {
    const s = this.stats;
    if (s === null) return;
    (s.handled as Float64Array)[code < s.handled.length ? code : Status.UNKNOWN]! += 1;
    if (s.handling !== null) s.handling.observe((performance.now() - this.startedAt) / 1000);
  }

  private startStream(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { ...corsHeaders, 'Content-Type': 'application/json', 'Grpc-Metadata-Content-Type': 'application/grpc', 'Transfer-Encoding': 'chunked' });
  }

  write(msg: Uint8Array): boolean {
    if (this.ended) return false;
    if (this.stats !== null) this.stats.sent++;
    this.startStream();
    return this.res.write(`{"result":${messageToJson(this.respType, msg)}}\n`);
  }

  writeMany(msgs: Uint8Array[]): boolean {
    if (this.ended) return false;
    if (this.stats !== null) this.stats.sent += msgs.length;
    this.startStream();
    // One HTTP chunk per response, as grpc-gateway flushes them (etcd3gw reads a chunk as a line).
    let ok = true;
    for (const m of msgs) ok = this.res.write(`{"result":${messageToJson(this.respType, m)}}\n`);
    return ok;
  }

  /** A unary call's answer. */
  reply(msg: Uint8Array): void {
    if (this.ended) return;
    this.ended = true;
    if (this.stats !== null) this.stats.sent++;
    this.record(Status.OK);
    const body = messageToJson(this.respType, msg);
    this.res.writeHead(200, { ...corsHeaders, 'Content-Type': 'application/json', 'Grpc-Metadata-Content-Type': 'application/grpc', 'Content-Length': Buffer.byteLength(body) });
    this.res.end(body);
  }

  end(status: CallStatus = { code: Status.OK, details: '' }): void {
    if (this.ended) return;
    this.ended = true;
    this.record(status.code);
    if (this.unary) {
      this.res.writeHead(httpStatusFromCode(status.code), { ...corsHeaders, 'Content-Type': 'application/json', Trailer: 'Grpc-Trailer-Content-Type', 'Transfer-Encoding': 'chunked' });
      this.res.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' });
      this.res.end(errorBody(status));
      return;
    }
    if (status.code === Status.OK) {
      this.startStream();
      this.res.end();
      return;
    }
    // A stream's error: a last line; its HTTP status only if nothing was written yet.
    if (!this.started) {
      this.started = true;
      this.res.writeHead(httpStatusFromCode(status.code), { ...corsHeaders, 'Content-Type': 'application/json', 'Grpc-Metadata-Content-Type': 'application/grpc', 'Transfer-Encoding': 'chunked' });
    }
    this.res.end(`${streamErrorChunk(status)}\n`);
  }
}
