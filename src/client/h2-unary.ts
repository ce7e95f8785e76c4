/**
 * Unary gRPC calls over node:http2, for the client's request/response calls: no gRPC library to
 * load, which is most of ctl's cold start (issue 13); streams (watch, keepalive, snapshot) still
 * use grpc-js, loaded only when one is opened.
 *
 * One HTTP/2 session per endpoint, opened on first use and reopened after it fails (backoff
 * 100 ms doubling to 1 s, as the client configured grpc-js). A call sends the gRPC headers
 * (content-type application/grpc, te trailers, grpc-timeout from the deadline, metadata) and one
 * length-prefixed message, and settles from the trailers (or a trailers-only answer):
 * grpc-status 0 → the message; else an H2CallError with the code and the percent-decoded
 * grpc-message; a non-200 HTTP status maps as grpc-js maps it; a broken session is UNAVAILABLE.
 *
 * Invariants: every call settles exactly once (answer, error or its deadline); at most one
 * connection attempt per channel is in flight; close() ends the session and any timer.
 */
import http2 from 'node:http2';
import type { Endpoint } from './endpoints.js';

export class H2CallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}

const backoffMinMs = 100;
const backoffMaxMs = 1000;
/** grpc's status codes used here. */
const Code = { DEADLINE_EXCEEDED: 4, UNKNOWN: 2, INTERNAL: 13, UNAVAILABLE: 14, UNIMPLEMENTED: 12, UNAUTHENTICATED: 16, PERMISSION_DENIED: 7 } as const;

/** grpc-js's mapping of a non-200 HTTP status. */
function codeOfHttp(status: number): number {
  if (status === 400) return Code.INTERNAL;
  if (status === 401) return Code.UNAUTHENTICATED;
  if (status === 403) return Code.PERMISSION_DENIED;
  if (status === 404) return Code.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return Code.UNAVAILABLE;
  return Code.UNKNOWN;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface H2ChannelOptions {
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

export class H2Channel {
  private session: http2.ClientHttp2Session | null = null;
  private connecting: Promise<boolean> | null = null;
  private backoffMs = backoffMinMs;
  private retryAt = 0;
  private closed = false;

  constructor(
    readonly endpoint: Endpoint,
    private readonly opts: H2ChannelOptions = {},
  ) {}

  /** Connected now (no waiting). */
  isReady(): boolean {
    return this.session !== null && !this.session.closed && !this.session.destroyed && this.session.socket !== null && !this.session.connecting;
  }

  /** Waits until connected (retrying with backoff) or the deadline; true when connected. */
  async waitForReady(deadline: number): Promise<boolean> {
    while (!this.closed) {
      if (this.isReady()) return true;
      const wait = this.retryAt - Date.now();
      if (wait > 0) {
        if (Date.now() + wait >= deadline) {
          await sleep(Math.max(0, deadline - Date.now()));
          return false;
        }
        await sleep(wait);
      }
      if (Date.now() >= deadline) return false;
      if (await this.connect(deadline)) return true;
      if (Date.now() >= deadline) return false;
    }
    return false;
  }

  private connect(deadline: number): Promise<boolean> {
    this.connecting ??= new Promise<boolean>((resolve) => {
      const secure = this.opts.tls !== undefined || this.endpoint.secure;
      const authority = `${secure ? 'https' : 'http'}://${this.endpoint.hostPort}`;
      const s = http2.connect(authority, secure ? { ca: this.opts.tls?.ca, cert: this.opts.tls?.cert, key: this.opts.tls?.key } : {});
      const timer = setTimeout(() => fail(), Math.max(0, deadline - Date.now()));
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.connecting = null;
        resolve(ok);
      };
      const fail = (): void => {
        s.destroy();
        if (this.session === s) this.session = null;
        this.retryAt = Date.now() + this.backoffMs;
        this.backoffMs = Math.min(backoffMaxMs, this.backoffMs * 2);
        done(false);
      };
      s.once('connect', () => {
        this.session = s;
        this.backoffMs = backoffMinMs;
        done(true);
      });
      s.on('error', () => (this.connecting !== null && this.session !== s ? fail() : undefined));
      s.once('close', () => {
        if (this.session === s) this.session = null;
        if (this.connecting !== null && this.session !== s) fail();
      });
      s.unref();
    });
    return this.connecting;
  }

  /** One unary call on the connected session (UNAVAILABLE "No connection established" if none). */
  call(path: string, message: Uint8Array, metadata: Record<string, string>, deadline: number): Promise<Buffer> {
    const s = this.session;
    if (s === null || !this.isReady()) return Promise.reject(new H2CallError(Code.UNAVAILABLE, 'No connection established'));
    return new Promise<Buffer>((resolve, reject) => {
      const ms = Math.max(1, Math.ceil(deadline - Date.now()));
      let settled = false;
      const settle = (err: H2CallError | null, value?: Buffer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value as Buffer);
      };
      const timer = setTimeout(() => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        settle(new H2CallError(Code.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      }, ms);
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${ms}m`,
        ...metadata,
      };
      let req: http2.ClientHttp2Stream;
      try {
        req = s.request(headers);
      } catch (e) {
        settle(new H2CallError(Code.UNAVAILABLE, e instanceof Error ? e.message : String(e)));
        return;
      }
      let httpStatus = 0;
      let status: string | undefined;
      let grpcMessage = '';
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        httpStatus = Number(h[':status'] ?? 0);
        if (h['grpc-status'] !== undefined) {
          status = String(h['grpc-status']);
          grpcMessage = String(h['grpc-message'] ?? '');
        }
      });
      req.on('trailers', (t) => {
        status = String(t['grpc-status'] ?? status ?? '');
        grpcMessage = String(t['grpc-message'] ?? '');
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', () => undefined);
      req.on('close', () => {
        if (status === undefined) {
          if (httpStatus !== 0 && httpStatus !== 200) return settle(new H2CallError(codeOfHttp(httpStatus), `Received HTTP status code ${httpStatus}`));
          const rst = req.rstCode;
          return settle(new H2CallError(rst !== undefined && rst !== 0 ? Code.INTERNAL : Code.UNAVAILABLE, rst !== undefined && rst !== 0 ? `Received RST_STREAM with code ${rst}` : 'Connection dropped'));
        }
        const code = Number(status);
        if (code !== 0) return settle(new H2CallError(code, percentDecode(grpcMessage)));
        const body = Buffer.concat(chunks);
        if (body.length < 5) return settle(new H2CallError(Code.INTERNAL, 'No message received'));
        const len = body.readUInt32BE(1);
        settle(null, body.subarray(5, 5 + len));
      });
      const frame = Buffer.allocUnsafe(5 + message.length);
      frame[0] = 0;
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      req.end(frame);
    });
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
