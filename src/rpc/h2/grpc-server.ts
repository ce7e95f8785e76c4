/**
 * gRPC over etcdts's own HTTP/2 (connection.ts): the client port's server. Methods take and give
 * encoded protobuf messages (Buffers); each service decides how to decode and encode them — the
 * hot ones by hand (api/codec/), the rest through protobufjs (generic-codec.ts).
 *
 * Wire behaviour follows the gRPC HTTP/2 protocol and grpc-go's server (which etcd runs):
 * - response headers are exactly `:status 200` and `content-type: application/grpc`; trailers
 *   `grpc-status` and, on error, `grpc-message` (percent-encoded); an error before any message is
 *   a trailers-only response. No `date`, no `grpc-accept-encoding` (issue 11).
 * - a path nobody serves: UNIMPLEMENTED `unknown service S` / `unknown method M for service S`;
 *   a content-type that is not application/grpc: HTTP 415.
 * - a request message over the limit: RESOURCE_EXHAUSTED `grpc: received message larger than
 *   max (N vs. M)`, before it is buffered; compressed messages (gzip, deflate) are inflated.
 * - `grpc-timeout` sets a deadline: past it the call ends DEADLINE_EXCEEDED `context deadline
 *   exceeded` and the handler sees it cancelled.
 * - when our side ends first, RST_STREAM(NO_ERROR) follows the trailers (connection.ts).
 *
 * Invariants: every call ends exactly once (status sent, or reset/cancelled), after which
 * writes are dropped; a handler's throw or rejection becomes a status through toStatus, never
 * an unhandled rejection; a stream's received-but-unread bytes are bounded by its window plus
 * one message (the stream is paused while the handler has not taken what it was given).
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Duplex } from 'node:stream';
import { H2Connection, type H2Limits, type H2Stream, defaultH2Limits } from './connection.js';
import { encodeHeaders, type HeaderField } from './hpack.js';

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export interface CallStatus {
  code: number;
  details: string;
}

/** What a method's handler sees of its call. */
export interface CallContext {
  /** e.g. /etcdserverpb.KV/Put */
  readonly path: string;
  /** Request metadata: lower-case names; `-bin` values as sent (base64). */
  readonly metadata: ReadonlyMap<string, string>;
  /** ms since the epoch, or Infinity. */
  readonly deadline: number;
  /** "ip:port" of the client. */
  readonly peer: string;
  /** The TLS peer certificate of the connection, when there is one (auth by CN). */
  readonly peerCertificate: unknown;
  readonly cancelled: boolean;
  onCancel(fn: () => void): void;
}

/** A streaming call: reads (bidi), writes, ends. */
export interface StreamCall extends CallContext {
  /** Bidi: each request message as it arrives. */
  onMessage(fn: (msg: Buffer) => void): void;
  /** Bidi: the client ended its side. */
  onHalfClose(fn: () => void): void;
  /** Sends one encoded message; false when the caller should wait for onDrain. */
  write(msg: Uint8Array): boolean;
  /** Sends several encoded messages framed into one write. */
  writeMany(msgs: Uint8Array[]): boolean;
  onDrain(fn: () => void): void;
  /** Ends the call with a status (default OK). */
  end(status?: CallStatus): void;
  /** Stop / restart reading requests (bounded read-ahead). */
  pause(): void;
  resume(): void;
  readonly ended: boolean;
}

export type UnaryHandler = (req: Buffer, ctx: CallContext) => Promise<Uint8Array> | Uint8Array;
export type ServerStreamHandler = (req: Buffer, call: StreamCall) => void;
export type BidiHandler = (call: StreamCall) => void;

/**
 * A method's call counters (grpc-prometheus's started/handled/msg counters, rpc/metrics.ts):
 * bumped by the call itself — a field increment, nothing allocated per call.
 */
export interface CallStats {
  started: number;
  received: number;
  sent: number;
  /** By status code. */
  handled: Float64Array;
  /** --metrics extensive: handling time in seconds. */
  handling: { observe(seconds: number): void } | null;
}

export type MethodDef = (
  | { kind: 'unary'; handler: UnaryHandler }
  | { kind: 'serverStream'; handler: ServerStreamHandler }
  | { kind: 'bidi'; handler: BidiHandler }
) & { stats?: CallStats };

export interface GrpcServerOptions {
  /** Largest request message accepted (etcd: --max-request-bytes + gRPC overhead). */
  maxReceiveBytes: number;
  /** Maps a thrown error to a status (and logs unknown ones). */
  toStatus: (err: unknown) => CallStatus;
  h2?: Partial<H2Limits>;
}

const okHeaders = encodeHeaders([
  [':status', '200'],
  ['content-type', 'application/grpc'],
]);
const okTrailers = encodeHeaders([['grpc-status', '0']]);

/** gRPC's percent-encoding of grpc-message (printable ASCII except '%' stays). */
export function percentEncode(s: string): string {
  const b = Buffer.from(s, 'utf8');
  let out = '';
  for (const c of b) {
    if (c >= 0x20 && c <= 0x7e && c !== 0x25) out += String.fromCharCode(c);
    else out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function statusFields(st: CallStatus): HeaderField[] {
  const f: HeaderField[] = [['grpc-status', String(st.code)]];
  if (st.details !== '') f.push(['grpc-message', percentEncode(st.details)]);
  return f;
}

function trailersFor(st: CallStatus): Buffer {
  return st.code === Status.OK && st.details === '' ? okTrailers : encodeHeaders(statusFields(st));
}

function trailersOnly(st: CallStatus): Buffer {
  return encodeHeaders([[':status', '200'], ['content-type', 'application/grpc'], ...statusFields(st)]);
}

const timeoutUnitsMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

function parseTimeout(v: string): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * (timeoutUnitsMs[m[2] as string] as number);
}

/** Frames messages with gRPC's 5-byte prefix into one buffer. */
export function frameMessages(msgs: readonly Uint8Array[]): Buffer {
  let n = 0;
  for (const m of msgs) n += 5 + m.length;
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  for (const m of msgs) {
    out[at] = 0;
    out.writeUInt32BE(m.length, at + 1);
    out.set(m, at + 5);
    at += 5 + m.length;
  }
  return out;
}

const noMetadata: ReadonlyMap<string, string> = new Map();

class Call implements StreamCall {
  /** The method's counters, when metrics are on (set before any message). */
  stats: CallStats | null = null;
  /** performance.now() at the start (only with handling-time metrics). */
  startedAt = 0;
  metadata: ReadonlyMap<string, string> = noMetadata;
  deadline = Infinity;
  cancelled = false;
  ended = false;
  private cancelFns: (() => void)[] = [];
  private messageFn: ((m: Buffer) => void) | null = null;
  private halfCloseFn: (() => void) | null = null;
  private drainFn: (() => void) | null = null;
  private headersSent = false;
  private timer: NodeJS.Timeout | null = null;
  /** Unparsed request bytes. */
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Parsed messages not yet handed to the handler (before onMessage, or while paused). */
  private pending: Buffer[] = [];
  private paused = false;
  private halfClosed = false;
  private halfCloseDelivered = false;
  encoding = 'identity';
  /** A unary or server-streaming call: exactly one request message. */
  unary = false;

  constructor(
    readonly server: GrpcServer,
    readonly stream: H2Stream,
    readonly path: string,
    readonly peer: string,
    readonly peerCertificate: unknown,
  ) {}

  onCancel(fn: () => void): void {
    if (this.cancelled) fn();
    else this.cancelFns.push(fn);
  }

  onMessage(fn: (msg: Buffer) => void): void {
    this.messageFn = fn;
    this.deliver();
  }

  onHalfClose(fn: () => void): void {
    this.halfCloseFn = fn;
    this.deliver();
  }

  onDrain(fn: () => void): void {
    this.drainFn = fn;
  }

  pause(): void {
    this.paused = true;
    this.stream.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stream.resume();
    this.deliver();
  }

  setDeadline(ms: number): void {
    this.deadline = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.end({ code: Status.DEADLINE_EXCEEDED, details: 'context deadline exceeded' });
      this.cancel();
    }, Math.max(0, Math.ceil(ms)));
  }

  /** @internal request bytes from the stream. */
  data(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    const ok = this.parse();
    this.deliver();
    return ok;
  }

  /** Cuts complete messages out of the received bytes; false once the call failed. */
  private parse(): boolean {
    while (this.bytes >= 5) {
      const head = this.peek(5);
      const len = head.readUInt32BE(1);
      if (len > this.server.maxReceiveBytes) {
        this.end({ code: Status.RESOURCE_EXHAUSTED, details: `grpc: received message larger than max (${len} vs. ${this.server.maxReceiveBytes})` });
        return false;
      }
      if (this.bytes < 5 + len) return true;
      const frame = this.take(5 + len);
      let msg = frame.subarray(5);
      if (head[0] === 1) {
        const inflated = this.inflate(msg);
        if (inflated === null) return false;
        msg = inflated;
      }
      this.pending.push(msg);
      if (this.stats !== null) this.stats.received++;
      if (this.unary && this.pending.length > 1) {
        // A unary or server-streaming call takes one message: a second one is grpc-go's
        // protocol violation, and the stream ends (nothing more is buffered or acknowledged).
        this.end({ code: Status.INTERNAL, details: 'grpc: client streaming protocol violation: get <nil>, want <EOF>' });
        return false;
      }
    }
    return true;
  }

  private inflate(msg: Buffer): Buffer | null {
    try {
      if (this.encoding === 'gzip') return this.checkSize(gunzipSync(msg, { maxOutputLength: this.server.maxReceiveBytes + 1 }));
      if (this.encoding === 'deflate') return this.checkSize(inflateSync(msg, { maxOutputLength: this.server.maxReceiveBytes + 1 }));
    } catch (e) {
      const tooBig = e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      this.end(
        tooBig
          ? { code: Status.RESOURCE_EXHAUSTED, details: `grpc: received message after decompression larger than max (${this.server.maxReceiveBytes})` }
          : { code: Status.INTERNAL, details: `grpc: failed to decompress the received message: ${e instanceof Error ? e.message : String(e)}` },
      );
      return null;
    }
    if (this.encoding === 'identity') {
      this.end({ code: Status.INTERNAL, details: 'grpc: compressed flag set with identity or empty encoding' });
    } else {
      this.end({ code: Status.UNIMPLEMENTED, details: `grpc: Decompressor is not installed for grpc-encoding "${this.encoding}"` });
    }
    return null;
  }

  private checkSize(b: Buffer): Buffer | null {
    if (b.length <= this.server.maxReceiveBytes) return b;
    this.end({ code: Status.RESOURCE_EXHAUSTED, details: `grpc: received message after decompression larger than max (${b.length} vs. ${this.server.maxReceiveBytes})` });
    return null;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    return Buffer.concat(this.chunks, Math.min(this.bytes, Math.max(n, first.length)));
  }

  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    this.bytes -= n;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }

  /** @internal the client ended its side. */
  halfClose(): void {
    this.halfClosed = true;
    if (this.bytes > 0 && !this.ended) this.end({ code: Status.INTERNAL, details: 'grpc: the request ended inside a message' });
    this.deliver();
  }

  /** Hands parsed messages (and then the half-close) to the handler, unless paused. */
  private deliver(): void {
    try {
      while (this.pending.length > 0 && this.messageFn !== null && !this.paused && !this.ended) {
        const m = this.pending.shift() as Buffer;
        this.messageFn(m);
      }
      if (this.halfClosed && this.pending.length === 0 && this.halfCloseFn !== null && !this.halfCloseDelivered && !this.ended) {
        this.halfCloseDelivered = true;
        this.halfCloseFn();
      }
    } catch (e) {
      this.end(this.server.toStatus(e));
    }
  }

  /** The one request message of a unary or server-streaming call (after half-close). */
  single(): Buffer | null {
    if (this.pending.length !== 1) {
      this.end(
        this.pending.length === 0
          ? { code: Status.INTERNAL, details: 'grpc: error while marshaling: no request message' }
          : { code: Status.INTERNAL, details: 'grpc: client streaming protocol violation: get <nil>, want <EOF>' },
      );
      return null;
    }
    return this.pending.shift() as Buffer;
  }

  write(msg: Uint8Array): boolean {
    if (this.ended) return false;
    if (this.stats !== null) this.stats.sent++;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(okHeaders);
    }
    const f = Buffer.allocUnsafe(5 + msg.length);
    f[0] = 0;
    f.writeUInt32BE(msg.length, 1);
    f.set(msg, 5);
    return this.stream.write(f);
  }

  writeMany(msgs: Uint8Array[]): boolean {
    if (this.ended) return false;
    if (this.stats !== null) this.stats.sent += msgs.length;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(okHeaders);
    }
    return this.stream.write(frameMessages(msgs));
  }

  /** @internal the one-shot reply of a unary call: headers, message and trailers together. */
  reply(msg: Uint8Array): void {
    if (this.ended) return;
    this.write(msg);
    this.end();
  }

  end(status: CallStatus = { code: Status.OK, details: '' }): void {
    if (this.ended) return;
    this.ended = true;
    if (this.stats !== null) this.record(status.code);
    if (this.timer) clearTimeout(this.timer);
    if (this.stream.closed) return;
    if (!this.headersSent) {
      this.headersSent = true;
      if (status.code === Status.OK) {
        this.stream.respond(okHeaders);
        this.stream.end(okTrailers);
      } else {
        this.stream.respond(trailersOnly(status), true);
      }
      return;
    }
    this.stream.end(trailersFor(status));
  }

  /** @internal the stream went away without our status (client reset, connection lost). */
  cancel(): void {
    if (this.cancelled) return;
    if (!this.ended && this.stats !== null) this.record(Status.CANCELLED);
    this.cancelled = true;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    const fns = this.cancelFns;
    this.cancelFns = [];
    for (const fn of fns) fn();
  }

  drained(): void {
    this.drainFn?.();
  }

  /** Counts the call as handled with `code`. */
  private record(code: number): void {
    const s = this.stats as CallStats;
    (s.handled as Float64Array)[code < s.handled.length ? code : Status.UNKNOWN]! += 1;
    if (s.handling !== null) s.handling.observe((performance.now() - this.startedAt) / 1000);
  }
}

/** Reserved or transport headers that are not call metadata (grpc-go drops them too). */
const notMetadata = new Set(['content-type', 'te', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'user-agent', 'grpc-message-type', 'connection']);

export class GrpcServer {
  private readonly methods = new Map<string, MethodDef | null>();
  private readonly services = new Set<string>();
  private readonly conns = new Set<H2Connection>();
  private readonly limits: H2Limits;
  readonly maxReceiveBytes: number;
  readonly toStatus: (err: unknown) => CallStatus;
  private closing = false;

  constructor(private readonly opts: GrpcServerOptions) {
    this.maxReceiveBytes = opts.maxReceiveBytes;
    this.toStatus = opts.toStatus;
    this.limits = { ...defaultH2Limits, ...opts.h2 };
  }

  /** Registers a service; a method given as null answers UNIMPLEMENTED (not built yet). */
  addService(service: string, methods: Record<string, MethodDef | null>): void {
    this.services.add(service);
    for (const [name, def] of Object.entries(methods)) this.methods.set(`/${service}/${name}`, def);
  }

  /** The method served at a gRPC path (undefined: none; null: declared, not built). The JSON gateway calls methods through it. */
  method(path: string): MethodDef | null | undefined {
    return this.methods.get(path);
  }

  /** Serves HTTP/2 on a connected socket (plain or TLS) whose preface may already be unshifted. */
  handleConnection(socket: Duplex & { remoteAddress?: string; remotePort?: number; writableLength: number }, peerCertificate: unknown = undefined): H2Connection {
    const conn = new H2Connection(
      socket,
      {
        onStream: (stream, fields, endStream) => this.onStream(conn, stream, fields, endStream, peerCertificate),
        onClose: (c) => this.conns.delete(c),
      },
      this.limits,
    );
    if (this.closing) conn.goaway();
    else this.conns.add(conn);
    return conn;
  }

  private onStream(conn: H2Connection, stream: H2Stream, fields: HeaderField[], endStream: boolean, peerCertificate: unknown): void {
    let path = '';
    let method = '';
    let contentType = '';
    let timeout: string | undefined;
    let encoding = 'identity';
    let md: Map<string, string> | null = null;
    for (const [k, v] of fields) {
      if (k.charCodeAt(0) === 58 /* : */) {
        if (k === ':path') path = v;
        else if (k === ':method') method = v;
      } else if (k === 'content-type') contentType = v;
      else if (k === 'grpc-timeout') timeout = v;
      else if (k === 'grpc-encoding') encoding = v;
      else if (!notMetadata.has(k)) {
        md ??= new Map();
        const prev = md.get(k);
        md.set(k, prev === undefined ? v : `${prev},${v}`);
      }
    }
    if (!contentType.startsWith('application/grpc') || method !== 'POST') {
      // Not gRPC: grpc-go answers 415 (unsupported media type) with a plain-text reason.
      stream.respond(encodeHeaders([[':status', contentType.startsWith('application/grpc') ? '405' : '415'], ['content-type', 'text/plain; charset=utf-8']]));
      stream.write(Buffer.from(`invalid gRPC request content-type "${contentType}"\n`), true);
      return;
    }
    const call = new Call(this, stream, path, conn.remoteAddress, peerCertificate);
    if (md !== null) call.metadata = md;
    call.encoding = encoding;
    stream.onClose = (resetCode) => {
      if (resetCode !== null || !call.ended) call.cancel();
    };
    stream.onDrain = () => call.drained();
    const def = this.methods.get(path);
    if (def === undefined || def === null) {
      const slash = path.lastIndexOf('/');
      const svc = path.slice(1, slash);
      const name = path.slice(slash + 1);
      call.end({
        code: Status.UNIMPLEMENTED,
        details: this.services.has(svc) ? `unknown method ${name} for service ${svc}` : `unknown service ${svc}`,
      });
      return;
    }
    if (def.stats !== undefined) {
      call.stats = def.stats;
      def.stats.started++;
      if (def.stats.handling !== null) call.startedAt = performance.now();
    }
    if (timeout !== undefined) {
      const ms = parseTimeout(timeout);
      if (ms === undefined) {
        call.end({ code: Status.INTERNAL, details: `transport: malformed grpc-timeout: ${timeout}` });
        return;
      }
      call.setDeadline(ms);
    }
    if (def.kind === 'bidi') {
      stream.onData = (chunk) => void call.data(chunk);
      stream.onEnd = () => call.halfClose();
      if (endStream) call.halfClose();
      this.run(call, () => def.handler(call));
      return;
    }
    // Unary and server-streaming: the whole request first.
    call.unary = true;
    const start = (): void => {
      const req = call.single();
      if (req === null) return;
      if (def.kind === 'serverStream') {
        this.run(call, () => def.handler(req, call));
        return;
      }
      let res: Promise<Uint8Array> | Uint8Array;
      try {
        res = def.handler(req, call);
      } catch (e) {
        call.end(this.opts.toStatus(e));
        return;
      }
      if (res instanceof Uint8Array) call.reply(res);
      else
        res.then(
          (m) => call.reply(m),
          (e: unknown) => call.end(this.opts.toStatus(e)),
        );
    };
    stream.onData = (chunk) => void call.data(chunk);
    stream.onEnd = () => {
      if (call.ended) return;
      call.halfClose();
      if (!call.ended) start();
    };
    if (endStream) stream.onEnd();
  }

  private run(call: Call, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      call.end(this.opts.toStatus(e));
    }
  }

  /** Open connections (tests, metrics). */
  connections(): number {
    return this.conns.size;
  }

  /** GOAWAY to every connection; after graceMs the rest are destroyed. */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    for (const c of this.conns) c.goaway();
    const end = Date.now() + graceMs;
    while (this.conns.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.conns) c.destroy();
    this.conns.clear();
  }
}
