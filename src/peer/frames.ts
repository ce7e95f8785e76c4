/**
 * The peer wire protocol on --listen-peer-urls: plain length-prefixed frames over one TCP (or,
 * later, TLS) connection per purpose. It replaced gRPC streams between members (issue 11): a
 * put on a three-member cluster crosses the peer link twice, and grpc-js + HTTP/2 cost more
 * than all the rest of a member's work per message. The message bodies are unchanged
 * (codec.ts: etcdtspb.Peer protobuf messages, batches and snapshot frames).
 *
 * Every frame: u32 BE payload length | u8 type | payload (the length excludes the 5 bytes).
 *
 *   client → server, first frame:  HELLO  u8 version (1) | u8 purpose | u64 cluster | u64 from | u64 to
 *   server → client, answer:       ACCEPT (empty)  or  REFUSE utf8 reason (then the server closes)
 *   purpose STREAM:    client → BATCH (a MessageBatch), PING (8 bytes);  server → PONG (the same 8 bytes)
 *   purpose SNAPSHOT:  client → SNAP (a SnapshotFrame: the MsgSnap, chunks, done);  server → RESULT u8 ok | utf8 why
 *   purpose REQUESTS:  client → REQ u32 id | PeerRequest;  server → REPLY u32 id | u8 status | body
 *                      (status 0: the answer; 1: the handler's error message, utf8)
 *   purpose MEMBERS:   server → REPLY 0 | 0 | member list, then closes (no identity is checked)
 *
 * Invariants of FrameReader: frames come out whole and in order; a frame longer than the limit,
 * or bytes after a protocol error, never reach the caller (it throws PeerFrameError once and
 * reads nothing more); payloads are views into the socket's chunks, copied only when a frame
 * spans chunks.
 */
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';

export const protocolVersion = 1;

export const FrameKind = {
  Hello: 1,
  Accept: 2,
  Refuse: 3,
  Batch: 4,
  Ping: 5,
  Pong: 6,
  Snap: 7,
  Result: 8,
  Req: 9,
  Reply: 10,
} as const;

export const Purpose = { Stream: 1, Snapshot: 2, Requests: 3, Members: 4 } as const;
export type PurposeCode = (typeof Purpose)[keyof typeof Purpose];

export const frameHeaderBytes = 5;

export class PeerFrameError extends Error {
  override name = 'PeerFrameError';
}

/** One frame: header and payload in one buffer. */
export function frame(kind: number, payload: Uint8Array | null): Buffer {
  const n = payload === null ? 0 : payload.length;
  const out = Buffer.allocUnsafe(frameHeaderBytes + n);
  out.writeUInt32BE(n, 0);
  out[4] = kind;
  if (payload !== null && n > 0) out.set(payload, frameHeaderBytes);
  return out;
}

/** The 5-byte header alone (the payload is written after it without a copy). */
export function frameHeader(kind: number, len: number): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderBytes);
  out.writeUInt32BE(len, 0);
  out[4] = kind;
  return out;
}

export interface Hello {
  purpose: number;
  clusterId: bigint;
  from: bigint;
  to: bigint;
}

export function encodeHello(h: Hello): Buffer {
  const p = Buffer.alloc(26);
  p[0] = protocolVersion;
  p[1] = h.purpose;
  u64ToBytesBE(h.clusterId, p, 2);
  u64ToBytesBE(h.from, p, 10);
  u64ToBytesBE(h.to, p, 18);
  return frame(FrameKind.Hello, p);
}

export function decodeHello(p: Buffer): Hello {
  if (p.length !== 26) throw new PeerFrameError(`HELLO of ${p.length} bytes`);
  if (p[0] !== protocolVersion) throw new PeerFrameError(`peer protocol version ${p[0]}, want ${protocolVersion}`);
  return { purpose: p[1] as number, clusterId: u64FromBytesBE(p, 2), from: u64FromBytesBE(p, 10), to: u64FromBytesBE(p, 18) };
}

export function encodeReply(id: number, status: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderBytes + 5 + body.length);
  out.writeUInt32BE(5 + body.length, 0);
  out[4] = FrameKind.Reply;
  out.writeUInt32BE(id >>> 0, 5);
  out[9] = status;
  out.set(body, 10);
  return out;
}

export function decodeReply(p: Buffer): { id: number; status: number; body: Buffer } {
  if (p.length < 5) throw new PeerFrameError('short REPLY');
  return { id: p.readUInt32BE(0), status: p[4] as number, body: p.subarray(5) };
}

export function encodeReq(id: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderBytes + 4 + body.length);
  out.writeUInt32BE(4 + body.length, 0);
  out[4] = FrameKind.Req;
  out.writeUInt32BE(id >>> 0, 5);
  out.set(body, 9);
  return out;
}

export function encodeResult(ok: boolean, why: string): Buffer {
  const w = Buffer.from(why, 'utf8');
  const p = Buffer.allocUnsafe(1 + w.length);
  p[0] = ok ? 1 : 0;
  w.copy(p, 1);
  return frame(FrameKind.Result, p);
}

/** Incremental parser of a socket's bytes into frames. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private failed = false;

  constructor(private readonly frameBytesMax: number) {}

  /** Feeds bytes; calls `onFrame` for each complete frame. Throws PeerFrameError on a bad frame. */
  push(chunk: Buffer, onFrame: (kind: number, payload: Buffer) => void): void {
    if (this.failed) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes >= frameHeaderBytes) {
      const head = this.peekHeader();
      const len = head.readUInt32BE(0);
      if (len > this.frameBytesMax) {
        this.failed = true;
        throw new PeerFrameError(`frame of ${len} bytes above the limit ${this.frameBytesMax}`);
      }
      if (this.bytes < frameHeaderBytes + len) return;
      const kind = head[4] as number;
      const whole = this.take(frameHeaderBytes + len);
      onFrame(kind, whole.subarray(frameHeaderBytes));
      if (this.failed) return;
    }
  }

  /** Stop delivering (after the caller hit a protocol error of its own). */
  stop(): void {
    this.failed = true;
    this.chunks = [];
    this.bytes = 0;
  }

  private peekHeader(): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= frameHeaderBytes) return first;
    return this.take(frameHeaderBytes, true);
  }

  /** The first n bytes (a view when they sit in one chunk); `peek` leaves them in place. */
  private take(n: number, peek = false): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) {
      if (peek) return first.subarray(0, n);
      this.bytes -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    let i = 0;
    while (at < n) {
      const c = this.chunks[i] as Buffer;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (peek) {
        i++;
        continue;
      }
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    if (!peek) this.bytes -= n;
    return out;
  }
}

/** host and port of an http(s):// peer URL (default port 2380). */
export function peerAddress(url: string): { host: string; port: number; tls: boolean } {
  const u = new URL(url);
  const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '');
  return { host, port: Number(u.port || 2380), tls: u.protocol === 'https:' };
}
