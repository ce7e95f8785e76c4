/**
 * The page's client of etcd's JSON gateway (grpc-gateway, ETCD-FACTS §3): POST /v3/<service>/<method>
 * with the proto3 JSON of the request; int64 as decimal strings, bytes as base64, fields at
 * their default left out. Streams (watch) answer one JSON object per line, {"result":…} or
 * {"error":…}. With auth enabled the token goes in the Authorization header.
 *
 * The same code works against etcd 3.4/3.5 (errors {"error","message","code"}) and 3.6
 * ({"code","message","details"}).
 */
import { fromBase64, toBase64, type Bytes } from './bytes.js';

/** gRPC status codes the page reacts to. */
export const Code = {
  InvalidArgument: 3,
  NotFound: 5,
  PermissionDenied: 7,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Unimplemented: 12,
  Unavailable: 14,
  Unauthenticated: 16,
} as const;

export class GatewayError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/** The request needs a (new) token: auth is enabled and none or an expired one was sent. */
export function needsLogin(e: unknown): boolean {
  if (!(e instanceof GatewayError)) return false;
  // etcd: no token → InvalidArgument "user name is empty"; a stale one → Unauthenticated.
  return (
    (e.code === Code.InvalidArgument && e.message === 'etcdserver: user name is empty') ||
    (e.code === Code.Unauthenticated && e.message === 'etcdserver: invalid auth token')
  );
}

export interface Header {
  cluster_id?: string;
  member_id?: string;
  revision?: string;
  raft_term?: string;
}

/** mvccpb.KeyValue with key and value decoded. */
export interface KeyValue {
  key: Bytes;
  value: Bytes;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: string;
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}

export function decodeKv(r: RawKv): KeyValue {
  return {
    key: fromBase64(r.key),
    value: fromBase64(r.value),
    createRevision: Number(r.create_revision ?? 0),
    modRevision: Number(r.mod_revision ?? 0),
    version: Number(r.version ?? 0),
    lease: r.lease ?? '0',
  };
}

export interface RangeResult {
  header: Header;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface RangeOptions {
  rangeEnd?: Bytes;
  limit?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  revision?: number;
  serializable?: boolean;
}

export interface Member {
  ID: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export interface StatusResult {
  header: Header;
  version?: string;
  dbSize?: string;
  dbSizeInUse?: string;
  leader?: string;
  raftIndex?: string;
  raftTerm?: string;
  raftAppliedIndex?: string;
  errors?: string[];
  isLearner?: boolean;
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchResult {
  header: Header;
  watchId?: string;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason?: string;
  events: WatchEvent[];
}

interface RawWatchResult {
  header?: Header;
  watch_id?: string;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: string;
  cancel_reason?: string;
  events?: { type?: string | number; kv?: RawKv; prev_kv?: RawKv }[];
}

function decodeWatch(r: RawWatchResult): WatchResult {
  return {
    header: r.header ?? {},
    watchId: r.watch_id,
    created: r.created === true,
    canceled: r.canceled === true,
    compactRevision: Number(r.compact_revision ?? 0),
    cancelReason: r.cancel_reason,
    events: (r.events ?? []).map((e) => ({
      type: e.type === 'DELETE' || e.type === 1 ? 'DELETE' : 'PUT',
      kv: decodeKv(e.kv ?? {}),
      prevKv: e.prev_kv === undefined ? undefined : decodeKv(e.prev_kv),
    })),
  };
}

function errorOf(body: unknown, httpStatus: number): GatewayError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown; code?: unknown; grpc_code?: unknown };
  // Stream errors nest the status: {"error":{"grpc_code":…,"message":…}}.
  if (typeof b.error === 'object' && b.error !== null) return errorOf(b.error, httpStatus);
  const message = typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : `HTTP ${httpStatus}`;
  const code = typeof b.code === 'number' ? b.code : typeof b.grpc_code === 'number' ? b.grpc_code : 2;
  return new GatewayError(message, code, httpStatus);
}

export interface CallOptions {
  /** Another member's client URL (its own status, health, defragment); default this page's member. */
  base?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export class Gateway {
  /** The simple or JWT token from Authenticate, sent as Authorization. */
  token: string | null = null;

  /**
   * The user and password of the last login, kept in this page's memory only (never stored), so
   * an expired simple token (--auth-token-ttl) is renewed as clientv3 renews it, without asking
   * again.
   */
  private credentials: { name: string; password: string } | null = null;

  /** Told when a request needs a login the page does not have. */
  onLoginNeeded: () => void = () => undefined;

  /** '' = the member that serves the page (same origin). */
  constructor(readonly base: string = '') {}

  async login(name: string, password: string): Promise<void> {
    this.token = null;
    const token = await this.authenticate(name, password);
    this.token = token;
    this.credentials = { name, password };
  }

  logout(): void {
    this.token = null;
    this.credentials = null;
  }

  /** After a needsLogin error: a fresh token from the kept credentials, else ask for a login. */
  async renewToken(): Promise<boolean> {
    if (this.credentials === null) {
      this.onLoginNeeded();
      return false;
    }
    try {
      this.token = null;
      this.token = await this.authenticate(this.credentials.name, this.credentials.password);
      return true;
    } catch {
      this.logout();
      this.onLoginNeeded();
      return false;
    }
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.token !== null) h.Authorization = this.token;
    return h;
  }

  private signal(opts: CallOptions): AbortSignal | undefined {
    const signals = [opts.signal, opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs)].filter((s): s is AbortSignal => s !== undefined);
    return signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
  }

  async call<T>(path: string, body: object, opts: CallOptions = {}): Promise<T> {
    try {
      return await this.send<T>(path, body, opts);
    } catch (e) {
      if (!needsLogin(e) || path === 'auth/authenticate' || !(await this.renewToken())) throw e;
      return this.send<T>(path, body, opts);
    }
  }

  private async send<T>(path: string, body: object, opts: CallOptions): Promise<T> {
    const res = await fetch(`${opts.base ?? this.base}/v3/${path}`, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify(body),
      signal: this.signal(opts),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new GatewayError(text.trim() || `HTTP ${res.status}`, res.status === 404 ? Code.Unimplemented : 2, res.status);
    }
    if (!res.ok) throw errorOf(parsed, res.status);
    return parsed as T;
  }

  /** A gateway stream: yields each {"result":…} line; an {"error":…} line throws. */
  async *stream(path: string, body: object, opts: CallOptions = {}): AsyncGenerator<unknown> {
    const res = await fetch(`${opts.base ?? this.base}/v3/${path}`, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify(body),
      signal: this.signal(opts),
    });
    if (!res.ok || res.body === null) {
      const text = await res.text();
      let parsed: unknown = {};
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: the status says it */
      }
      throw errorOf(parsed, res.status);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === '') continue;
          const msg = JSON.parse(line) as { result?: unknown; error?: unknown };
          if (msg.error !== undefined) throw errorOf(msg, 200);
          yield msg.result ?? {};
        }
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }

  async authenticate(name: string, password: string): Promise<string> {
    const r = await this.call<{ token?: string }>('auth/authenticate', { name, password });
    return r.token ?? '';
  }

  async range(key: Bytes, o: RangeOptions = {}, opts: CallOptions = {}): Promise<RangeResult> {
    const r = await this.call<{ header?: Header; kvs?: RawKv[]; more?: boolean; count?: string }>(
      'kv/range',
      {
        key: toBase64(key),
        ...(o.rangeEnd ? { range_end: toBase64(o.rangeEnd) } : {}),
        ...(o.limit ? { limit: String(o.limit) } : {}),
        ...(o.keysOnly ? { keys_only: true } : {}),
        ...(o.countOnly ? { count_only: true } : {}),
        ...(o.revision ? { revision: String(o.revision) } : {}),
        ...(o.serializable ? { serializable: true } : {}),
      },
      opts,
    );
    return { header: r.header ?? {}, kvs: (r.kvs ?? []).map(decodeKv), more: r.more === true, count: Number(r.count ?? 0) };
  }

  async put(key: Bytes, value: Bytes, lease?: string): Promise<{ header: Header }> {
    const r = await this.call<{ header?: Header }>('kv/put', { key: toBase64(key), value: toBase64(value), ...(lease && lease !== '0' ? { lease } : {}) });
    return { header: r.header ?? {} };
  }

  async deleteRange(key: Bytes, rangeEnd?: Bytes): Promise<{ header: Header; deleted: number }> {
    const r = await this.call<{ header?: Header; deleted?: string }>('kv/deleterange', { key: toBase64(key), ...(rangeEnd ? { range_end: toBase64(rangeEnd) } : {}) });
    return { header: r.header ?? {}, deleted: Number(r.deleted ?? 0) };
  }

  async memberList(opts: CallOptions = {}): Promise<{ header: Header; members: Member[] }> {
    const r = await this.call<{ header?: Header; members?: Member[] }>('cluster/member/list', {}, opts);
    return { header: r.header ?? {}, members: r.members ?? [] };
  }

  status(opts: CallOptions = {}): Promise<StatusResult> {
    return this.call<StatusResult>('maintenance/status', {}, opts);
  }

  async alarms(): Promise<{ memberID?: string; alarm?: string | number }[]> {
    const r = await this.call<{ alarms?: { memberID?: string; alarm?: string | number }[] }>('maintenance/alarm', { action: 'GET' });
    return r.alarms ?? [];
  }

  moveLeader(targetID: string, opts: CallOptions = {}): Promise<unknown> {
    return this.call('maintenance/transfer-leadership', { targetID }, opts);
  }

  promote(ID: string): Promise<unknown> {
    return this.call('cluster/member/promote', { ID });
  }

  defragment(opts: CallOptions = {}): Promise<unknown> {
    return this.call('maintenance/defragment', {}, opts);
  }

  async leases(): Promise<string[]> {
    const r = await this.call<{ leases?: { ID?: string }[] }>('lease/leases', {});
    return (r.leases ?? []).map((l) => l.ID ?? '0');
  }

  async timeToLive(ID: string): Promise<{ ttl: number; grantedTtl: number; keys: Bytes[] }> {
    const r = await this.call<{ TTL?: string; grantedTTL?: string; keys?: string[] }>('lease/timetolive', { ID, keys: true });
    return { ttl: Number(r.TTL ?? 0), grantedTtl: Number(r.grantedTTL ?? 0), keys: (r.keys ?? []).map(fromBase64) };
  }

  async grant(ttl: number): Promise<{ ID: string; TTL: number }> {
    const r = await this.call<{ ID?: string; TTL?: string }>('lease/grant', { TTL: String(ttl) });
    return { ID: r.ID ?? '0', TTL: Number(r.TTL ?? 0) };
  }

  revoke(ID: string): Promise<unknown> {
    return this.call('lease/revoke', { ID });
  }

  /** One watch stream (Watch is bidirectional in gRPC; over the gateway's POST only the create). */
  async *watch(
    req: { key: Bytes; rangeEnd?: Bytes; startRevision?: number; prevKv?: boolean },
    opts: CallOptions = {},
  ): AsyncGenerator<WatchResult> {
    const body = {
      create_request: {
        key: toBase64(req.key),
        ...(req.rangeEnd ? { range_end: toBase64(req.rangeEnd) } : {}),
        ...(req.startRevision ? { start_revision: String(req.startRevision) } : {}),
        ...(req.prevKv ? { prev_kv: true } : {}),
      },
    };
    for await (const r of this.stream('watch', body, opts)) yield decodeWatch(r as RawWatchResult);
  }
}
