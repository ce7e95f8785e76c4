/**
 * The server side of one HTTP/2 connection (RFC 9113), written for gRPC's traffic pattern: many
 * small requests and responses on a few long-lived connections. Node's http2 module costs more
 * CPU per stream than etcd spends on a whole request (measured: a fixed-answer server on
 * node:http2 used 44 µs of CPU per unary call, etcd 46 µs per put), so etcdts frames HTTP/2
 * itself: frames are parsed straight out of the socket's chunks, and everything written during
 * one turn of the event loop leaves in one socket write.
 *
 * What is implemented: the connection preface, SETTINGS (ours, the peer's, and their ACKs),
 * HEADERS + CONTINUATION with HPACK (hpack.ts), DATA with padding, flow control in both
 * directions, PING, RST_STREAM, WINDOW_UPDATE, GOAWAY, PRIORITY (ignored), unknown frame types
 * (ignored). No server push, no h2c upgrade (gRPC uses prior knowledge).
 *
 * Invariants:
 * - The HPACK decoder sees every header block of the connection, in order, even of streams
 *   that are refused or reset: its table must stay in step with the client's.
 * - Receive flow control: a stream never has more unacknowledged DATA than the window we gave
 *   it (else FLOW_CONTROL_ERROR); a paused stream gets no WINDOW_UPDATE, so what it buffers is
 *   bounded by its window; the connection window is replenished as data arrives.
 * - Send flow control: a DATA frame never exceeds the peer's MAX_FRAME_SIZE, the stream's send
 *   window or the connection's; what does not fit waits in the stream's queue, in order, with
 *   its trailers behind it.
 * - A stream is in `streams` from its HEADERS until both sides ended it (or a reset); every
 *   stream is closed exactly once, and its onClose runs then.
 * - A connection error sends GOAWAY with the code and ends the socket; after that no handler
 *   callback runs.
 */
import type { Duplex } from 'node:stream';
import { HpackDecoder, HpackError, type HeaderField } from './hpack.js';

export const FrameType = {
  Data: 0,
  Headers: 1,
  Priority: 2,
  RstStream: 3,
  Settings: 4,
  PushPromise: 5,
  Ping: 6,
  Goaway: 7,
  WindowUpdate: 8,
  Continuation: 9,
} as const;

export const Flag = { EndStream: 0x1, Ack: 0x1, EndHeaders: 0x4, Padded: 0x8, Priority: 0x20 } as const;

export const ErrorCode = {
  NoError: 0,
  ProtocolError: 1,
  InternalError: 2,
  FlowControlError: 3,
  SettingsTimeout: 4,
  StreamClosed: 5,
  FrameSizeError: 6,
  RefusedStream: 7,
  Cancel: 8,
  CompressionError: 9,
  ConnectError: 10,
  EnhanceYourCalm: 11,
  InadequateSecurity: 12,
  Http11Required: 13,
} as const;

const Setting = { HeaderTableSize: 1, EnablePush: 2, MaxConcurrentStreams: 3, InitialWindowSize: 4, MaxFrameSize: 5, MaxHeaderListSize: 6 } as const;

export const connectionPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const defaultWindow = 65_535;
const defaultMaxFrame = 16_384;
const windowMax = 0x7fffffff;

export interface H2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise and enforce (etcd --max-concurrent-streams). */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we advertise: DATA a stream may send before we ack it. */
  streamWindowBytes: number;
  /** The connection's receive window (raised from 65 535 by a WINDOW_UPDATE at start). */
  connectionWindowBytes: number;
  /** SETTINGS_MAX_FRAME_SIZE we advertise. */
  maxFrameBytes: number;
  /** Decoded header list bytes accepted per request (SETTINGS_MAX_HEADER_LIST_SIZE). */
  headerListBytesMax: number;
  /** Bytes buffered in the socket above which writers are told to wait (write() → false). */
  socketBufferBytesMax: number;
}

export const defaultH2Limits: H2Limits = {
  maxConcurrentStreams: 0xffffffff,
  streamWindowBytes: 1 << 20,
  connectionWindowBytes: 16 << 20,
  maxFrameBytes: 1 << 20,
  headerListBytesMax: 64 * 1024,
  socketBufferBytesMax: 1 << 20,
};

/** Something that can write itself into a buffer: a response encoded in place, no copy. */
export interface Sized {
  readonly byteLength: number;
  writeTo(buf: Buffer, offset: number): void;
}

export interface H2Handler {
  /** A new stream with its request header fields; `endStream` when it has no body. */
  onStream(stream: H2Stream, fields: HeaderField[], endStream: boolean): void;
  /** The connection ended (socket closed or connection error). */
  onClose?(conn: H2Connection): void;
}

export class H2ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

class H2StreamError extends Error {
  constructor(
    readonly streamId: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Queued = { data: Buffer; end: boolean } | { trailers: Buffer };

export class H2Stream {
  /** Request body chunks (the payloads of DATA frames). */
  onData: ((chunk: Buffer) => void) | null = null;
  /** The client ended its side (END_STREAM). */
  onEnd: (() => void) | null = null;
  /** The stream closed: both sides ended, or a reset (code) either way. Runs once. */
  onClose: ((resetCode: number | null) => void) | null = null;
  /** The stream's queue and the socket drained below their bounds after write() said false. */
  onDrain: (() => void) | null = null;

  /** Receive window left (DATA the client may still send before our next WINDOW_UPDATE). */
  recvWindow: number;
  recvUnacked = 0;
  paused = false;
  sendWindow: number;
  remoteEnded = false;
  localEnded = false;
  headersSent = false;
  closed = false;
  queue: Queued[] = [];
  queuedBytes = 0;
  wantDrain = false;

  constructor(
    readonly conn: H2Connection,
    readonly id: number,
    recvWindow: number,
    sendWindow: number,
  ) {
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  /** Sends the response HEADERS (a complete header block); with endStream a trailers-only reply. */
  respond(block: Buffer, endStream = false): void {
    this.conn.sendHeaders(this, block, endStream);
  }

  /** Sends DATA; false when the caller should wait for onDrain before writing more. */
  write(data: Buffer, end = false): boolean {
    return this.conn.sendData(this, data, end);
  }

  /** Sends the trailers (a header block) with END_STREAM. */
  end(trailers: Buffer): void {
    this.conn.sendTrailers(this, trailers);
  }

  /** Ends the stream with RST_STREAM (no more frames either way). */
  reset(code: number = ErrorCode.Cancel): void {
    this.conn.resetStream(this, code);
  }

  /** Stop acknowledging received DATA (the handler's buffer is full); resume() undoes. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn.ackStreamData(this);
  }
}

export class H2Connection {
  readonly streams = new Map<number, H2Stream>();
  private readonly hpack: HpackDecoder;
  private leftover: Buffer | null = null;
  private prefaceSeen = false;
  private lastStreamId = 0;
  /** Stream id of a header block still waiting for CONTINUATION frames (0: none). */
  private contStream = 0;
  private contFlags = 0;
  private contParts: Buffer[] = [];
  private contBytes = 0;
  private peerMaxFrame = defaultMaxFrame;
  private peerInitialWindow = defaultWindow;
  private sendWindow = defaultWindow;
  private recvUnacked = 0;
  /** Streams with DATA waiting for the connection window, in arrival order. */
  private blocked = new Set<H2Stream>();
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private closed = false;
  private goawaySent = false;
  private waitingDrain = new Set<H2Stream>();
  readonly remoteAddress: string;

  constructor(
    private readonly socket: Duplex & { remoteAddress?: string; remotePort?: number; writableLength: number; setNoDelay?: (v: boolean) => void },
    private readonly handler: H2Handler,
    private readonly limits: H2Limits = defaultH2Limits,
  ) {
    this.hpack = new HpackDecoder(4096);
    this.remoteAddress = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
    socket.setNoDelay?.(true);
    // Our SETTINGS first (the server preface), then open the connection window.
    const s: [number, number][] = [
      [Setting.MaxConcurrentStreams, Math.min(limits.maxConcurrentStreams, 0xffffffff)],
      [Setting.InitialWindowSize, limits.streamWindowBytes],
      [Setting.MaxFrameSize, limits.maxFrameBytes],
      [Setting.MaxHeaderListSize, limits.headerListBytesMax],
    ];
    const body = Buffer.alloc(6 * s.length);
    s.forEach(([k, v], i) => {
      body.writeUInt16BE(k, 6 * i);
      body.writeUInt32BE(v >>> 0, 6 * i + 2);
    });
    this.frame(FrameType.Settings, 0, 0, body);
    if (limits.connectionWindowBytes > defaultWindow) this.windowUpdate(0, limits.connectionWindowBytes - defaultWindow);
    this.flush();
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    socket.on('drain', () => this.onSocketDrain());
    socket.on('close', () => this.onSocketClose());
    socket.on('error', () => this.onSocketClose());
    socket.on('end', () => this.onSocketClose());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------- input

  private onSocketData(chunk: Buffer): void {
    if (this.closed) return;
    let buf = chunk;
    if (this.leftover !== null) {
      buf = Buffer.concat([this.leftover, chunk]);
      this.leftover = null;
    }
    let pos = 0;
    try {
      if (!this.prefaceSeen) {
        if (buf.length < connectionPreface.length) {
          if (!connectionPreface.subarray(0, buf.length).equals(buf)) throw new H2ConnectionError(ErrorCode.ProtocolError, 'bad connection preface');
          this.leftover = buf;
          return;
        }
        if (!buf.subarray(0, connectionPreface.length).equals(connectionPreface)) throw new H2ConnectionError(ErrorCode.ProtocolError, 'bad connection preface');
        this.prefaceSeen = true;
        pos = connectionPreface.length;
      }
      while (buf.length - pos >= 9) {
        const len = ((buf[pos] as number) << 16) | ((buf[pos + 1] as number) << 8) | (buf[pos + 2] as number);
        if (len > this.limits.maxFrameBytes) throw new H2ConnectionError(ErrorCode.FrameSizeError, `frame of ${len} bytes above ${this.limits.maxFrameBytes}`);
        if (buf.length - pos - 9 < len) break;
        const type = buf[pos + 3] as number;
        const flags = buf[pos + 4] as number;
        const id = buf.readUInt32BE(pos + 5) & 0x7fffffff;
        const payload = buf.subarray(pos + 9, pos + 9 + len);
        pos += 9 + len;
        try {
          this.onFrame(type, flags, id, payload);
        } catch (e) {
          if (!(e instanceof H2StreamError)) throw e;
          this.streamError(e.streamId, e.code);
        }
        if (this.closed) return;
      }
    } catch (e) {
      if (e instanceof H2ConnectionError) return this.connectionError(e.code, e.message);
      if (e instanceof HpackError) return this.connectionError(ErrorCode.CompressionError, e.message);
      throw e;
    }
    if (pos < buf.length) this.leftover = buf.subarray(pos);
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.contStream !== 0 && type !== FrameType.Continuation) {
      throw new H2ConnectionError(ErrorCode.ProtocolError, 'expected CONTINUATION');
    }
    switch (type) {
      case FrameType.Data:
        return this.onData(flags, id, payload);
      case FrameType.Headers:
        return this.onHeaders(flags, id, payload);
      case FrameType.Continuation:
        return this.onContinuation(flags, id, payload);
      case FrameType.Priority:
        if (id === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'PRIORITY on stream 0');
        if (payload.length !== 5) throw new H2StreamError(id, ErrorCode.FrameSizeError, 'PRIORITY size');
        return;
      case FrameType.RstStream:
        return this.onRstStream(id, payload);
      case FrameType.Settings:
        return this.onSettings(flags, id, payload);
      case FrameType.PushPromise:
        throw new H2ConnectionError(ErrorCode.ProtocolError, 'PUSH_PROMISE from a client');
      case FrameType.Ping:
        if (id !== 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'PING on a stream');
        if (payload.length !== 8) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'PING size');
        if ((flags & Flag.Ack) === 0) {
          this.frame(FrameType.Ping, Flag.Ack, 0, Buffer.from(payload));
          this.scheduleFlush();
        }
        return;
      case FrameType.Goaway:
        if (id !== 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'GOAWAY on a stream');
        // The client goes away: it starts no new streams; those open finish normally.
        return;
      case FrameType.WindowUpdate:
        return this.onWindowUpdate(id, payload);
      default:
        return; // unknown frame types are ignored (§4.1)
    }
  }

  private stripPadding(flags: number, payload: Buffer, extra: number): Buffer {
    if ((flags & Flag.Padded) === 0) return payload.subarray(extra);
    const pad = payload[0];
    if (pad === undefined || pad + 1 + extra > payload.length) throw new H2ConnectionError(ErrorCode.ProtocolError, 'padding longer than the frame');
    return payload.subarray(1 + extra, payload.length - pad);
  }

  private onData(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'DATA on stream 0');
    // Flow control counts the whole payload, padding included (§6.9.1).
    this.recvUnacked += payload.length;
    if (this.recvUnacked >= this.limits.connectionWindowBytes / 2) {
      this.windowUpdate(0, this.recvUnacked);
      this.recvUnacked = 0;
      this.scheduleFlush();
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStreamId) throw new H2ConnectionError(ErrorCode.ProtocolError, 'DATA on an idle stream');
      return; // a stream we closed or reset: its late DATA is dropped
    }
    if (s.remoteEnded) throw new H2StreamError(id, ErrorCode.StreamClosed, 'DATA after END_STREAM');
    s.recvWindow -= payload.length;
    if (s.recvWindow < 0) throw new H2StreamError(id, ErrorCode.FlowControlError, 'stream window exceeded');
    s.recvUnacked += payload.length;
    const data = this.stripPadding(flags, payload, 0);
    if (data.length > 0) s.onData?.(data);
    if (flags & Flag.EndStream) {
      s.remoteEnded = true;
      s.onEnd?.();
      this.maybeClose(s);
    } else if (!s.paused && s.recvUnacked >= this.limits.streamWindowBytes / 2) {
      this.ackStreamData(s);
    }
  }

  /** @internal Acknowledges what a stream received (WINDOW_UPDATE), unless it is paused. */
  ackStreamData(s: H2Stream): void {
    if (s.paused || s.closed || s.remoteEnded || s.recvUnacked === 0) return;
    this.windowUpdate(s.id, s.recvUnacked);
    s.recvWindow += s.recvUnacked;
    s.recvUnacked = 0;
    this.scheduleFlush();
  }

  private onHeaders(flags: number, id: number, payload: Buffer): void {
    if (id === 0 || id % 2 === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, `HEADERS on stream ${id}`);
    const block = this.stripPadding(flags, payload, flags & Flag.Priority ? 5 : 0);
    if (flags & Flag.EndHeaders) return this.headerBlock(flags, id, block);
    this.contStream = id;
    this.contFlags = flags;
    this.contParts = [Buffer.from(block)];
    this.contBytes = block.length;
  }

  private onContinuation(flags: number, id: number, payload: Buffer): void {
    if (this.contStream === 0 || id !== this.contStream) throw new H2ConnectionError(ErrorCode.ProtocolError, 'unexpected CONTINUATION');
    this.contBytes += payload.length;
    // A header block may be at most twice the list limit in its encoded form (HPACK's literal
    // strings are never much longer than what they decode to).
    if (this.contBytes > 2 * this.limits.headerListBytesMax + 1024) throw new H2ConnectionError(ErrorCode.EnhanceYourCalm, 'header block too large');
    this.contParts.push(Buffer.from(payload));
    if ((flags & Flag.EndHeaders) === 0) return;
    const block = Buffer.concat(this.contParts);
    const f = this.contFlags;
    this.contStream = 0;
    this.contParts = [];
    this.headerBlock(f, id, block);
  }

  private headerBlock(flags: number, id: number, block: Buffer): void {
    // Decode first, whatever happens to the stream: the HPACK table must stay in step.
    const { fields, tooLarge } = this.hpack.decode(block, this.limits.headerListBytesMax);
    const endStream = (flags & Flag.EndStream) !== 0;
    const existing = this.streams.get(id);
    if (existing !== undefined) {
      // Trailers: they must end the stream.
      if (existing.remoteEnded) throw new H2StreamError(id, ErrorCode.StreamClosed, 'HEADERS after END_STREAM');
      if (!endStream) throw new H2StreamError(id, ErrorCode.ProtocolError, 'trailers without END_STREAM');
      existing.remoteEnded = true;
      existing.onEnd?.();
      this.maybeClose(existing);
      return;
    }
    if (id <= this.lastStreamId) throw new H2ConnectionError(ErrorCode.StreamClosed, `HEADERS on closed stream ${id}`);
    this.lastStreamId = id;
    if (this.goawaySent) return; // streams after our GOAWAY are ignored (§6.8)
    if (this.streams.size >= this.limits.maxConcurrentStreams) {
      this.rst(id, ErrorCode.RefusedStream);
      return;
    }
    if (tooLarge) {
      // As a gRPC server would with an oversized header list: refuse the stream.
      this.rst(id, ErrorCode.EnhanceYourCalm);
      return;
    }
    const s = new H2Stream(this, id, this.limits.streamWindowBytes, this.peerInitialWindow);
    this.streams.set(id, s);
    s.remoteEnded = endStream;
    this.handler.onStream(s, fields, endStream);
  }

  private onRstStream(id: number, payload: Buffer): void {
    if (id === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'RST_STREAM on stream 0');
    if (payload.length !== 4) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'RST_STREAM size');
    if (id > this.lastStreamId) throw new H2ConnectionError(ErrorCode.ProtocolError, 'RST_STREAM on an idle stream');
    const s = this.streams.get(id);
    if (s) this.close(s, payload.readUInt32BE(0));
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'SETTINGS on a stream');
    if (flags & Flag.Ack) {
      if (payload.length !== 0) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS ACK with a payload');
      return;
    }
    if (payload.length % 6 !== 0) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS size');
    for (let i = 0; i < payload.length; i += 6) {
      const k = payload.readUInt16BE(i);
      const v = payload.readUInt32BE(i + 2);
      switch (k) {
        case Setting.EnablePush:
          if (v > 1) throw new H2ConnectionError(ErrorCode.ProtocolError, 'ENABLE_PUSH');
          break;
        case Setting.InitialWindowSize: {
          if (v > windowMax) throw new H2ConnectionError(ErrorCode.FlowControlError, 'INITIAL_WINDOW_SIZE');
          const delta = v - this.peerInitialWindow;
          this.peerInitialWindow = v;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > windowMax) throw new H2ConnectionError(ErrorCode.FlowControlError, 'stream window overflow');
          }
          break;
        }
        case Setting.MaxFrameSize:
          if (v < defaultMaxFrame || v > 16_777_215) throw new H2ConnectionError(ErrorCode.ProtocolError, 'MAX_FRAME_SIZE');
          this.peerMaxFrame = v;
          break;
        default:
          // HEADER_TABLE_SIZE: our encoder never indexes; the rest are advisory or ignored.
          break;
      }
    }
    this.frame(FrameType.Settings, Flag.Ack, 0, Buffer.alloc(0));
    for (const s of this.streams.values()) this.drainStream(s);
    this.scheduleFlush();
  }

  private onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'WINDOW_UPDATE size');
    const inc = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (inc === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
      this.sendWindow += inc;
      if (this.sendWindow > windowMax) throw new H2ConnectionError(ErrorCode.FlowControlError, 'connection window overflow');
      const waiting = [...this.blocked];
      this.blocked.clear();
      for (const s of waiting) this.drainStream(s);
      this.scheduleFlush();
      return;
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStreamId) throw new H2ConnectionError(ErrorCode.ProtocolError, 'WINDOW_UPDATE on an idle stream');
      return;
    }
    if (inc === 0) throw new H2StreamError(id, ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
    s.sendWindow += inc;
    if (s.sendWindow > windowMax) throw new H2StreamError(id, ErrorCode.FlowControlError, 'stream window overflow');
    this.drainStream(s);
    this.scheduleFlush();
  }

  // ---------------------------------------------------------------- output

  /** Appends one frame to the output. */
  private frame(type: number, flags: number, id: number, payload: Buffer | null, payloadLen = payload?.length ?? 0): void {
    const h = Buffer.allocUnsafe(9);
    h[0] = (payloadLen >>> 16) & 0xff;
    h[1] = (payloadLen >>> 8) & 0xff;
    h[2] = payloadLen & 0xff;
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(id, 5);
    this.out.push(h);
    this.outBytes += 9;
    if (payload !== null && payloadLen > 0) {
      this.out.push(payload);
      this.outBytes += payloadLen;
    }
  }

  private windowUpdate(id: number, inc: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(inc, 0);
    this.frame(FrameType.WindowUpdate, 0, id, b);
  }

  private rst(id: number, code: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(code, 0);
    this.frame(FrameType.RstStream, 0, id, b);
    this.scheduleFlush();
  }

  /** @internal */
  sendHeaders(s: H2Stream, block: Buffer, endStream: boolean): void {
    if (s.closed || s.localEnded) return;
    s.headersSent = true;
    this.headerFrames(s.id, block, endStream);
    if (endStream) {
      s.localEnded = true;
      this.finishLocal(s);
    }
    this.scheduleFlush();
  }

  private headerFrames(id: number, block: Buffer, endStream: boolean): void {
    const max = this.peerMaxFrame;
    const es = endStream ? Flag.EndStream : 0;
    if (block.length <= max) {
      this.frame(FrameType.Headers, Flag.EndHeaders | es, id, block);
      return;
    }
    this.frame(FrameType.Headers, es, id, block.subarray(0, max));
    for (let off = max; off < block.length; off += max) {
      const last = off + max >= block.length;
      this.frame(FrameType.Continuation, last ? Flag.EndHeaders : 0, id, block.subarray(off, Math.min(block.length, off + max)));
    }
  }

  /** @internal */
  sendData(s: H2Stream, data: Buffer, end: boolean): boolean {
    if (s.closed || s.localEnded) return false;
    if (s.queue.length === 0) {
      const rest = this.dataFrames(s, data, end);
      if (rest === null) {
        if (end) {
          s.localEnded = true;
          this.finishLocal(s);
        }
      } else {
        s.queue.push({ data: rest, end });
        s.queuedBytes += rest.length;
      }
    } else {
      s.queue.push({ data, end });
      s.queuedBytes += data.length;
    }
    this.scheduleFlush();
    return this.canWrite(s);
  }

  /** @internal */
  sendTrailers(s: H2Stream, block: Buffer): void {
    if (s.closed || s.localEnded) return;
    if (s.queue.length > 0) {
      s.queue.push({ trailers: block });
      return;
    }
    this.headerFrames(s.id, block, true);
    s.localEnded = true;
    this.finishLocal(s);
    this.scheduleFlush();
  }

  /**
   * Writes as much of `data` as the windows allow, as DATA frames; returns what is left (null
   * when all of it went, with END_STREAM on the last frame if `end`).
   */
  private dataFrames(s: H2Stream, data: Buffer, end: boolean): Buffer | null {
    let off = 0;
    const len = data.length;
    if (len === 0) {
      this.frame(FrameType.Data, end ? Flag.EndStream : 0, s.id, null, 0);
      return null;
    }
    while (off < len) {
      const room = Math.min(this.sendWindow, s.sendWindow, this.peerMaxFrame);
      if (room <= 0) {
        if (this.sendWindow <= 0) this.blocked.add(s);
        return data.subarray(off);
      }
      const n = Math.min(room, len - off);
      const last = off + n === len;
      this.frame(FrameType.Data, last && end ? Flag.EndStream : 0, s.id, n === len ? data : data.subarray(off, off + n));
      this.sendWindow -= n;
      s.sendWindow -= n;
      off += n;
    }
    return null;
  }

  /** Sends what a stream has queued, as far as the windows allow. */
  private drainStream(s: H2Stream): void {
    while (s.queue.length > 0 && !s.closed) {
      const q = s.queue[0] as Queued;
      if ('trailers' in q) {
        s.queue.shift();
        this.headerFrames(s.id, q.trailers, true);
        s.localEnded = true;
        this.finishLocal(s);
        return;
      }
      const before = q.data.length;
      const rest = this.dataFrames(s, q.data, q.end);
      if (rest !== null) {
        s.queuedBytes -= before - rest.length;
        q.data = rest;
        return;
      }
      s.queue.shift();
      s.queuedBytes -= before;
      if (q.end) {
        s.localEnded = true;
        this.finishLocal(s);
        return;
      }
    }
    if (s.wantDrain && this.canWrite(s)) this.notifyDrain(s);
  }

  private canWrite(s: H2Stream): boolean {
    const ok = s.queuedBytes < this.limits.streamWindowBytes && this.socket.writableLength + this.outBytes < this.limits.socketBufferBytesMax;
    if (!ok) {
      s.wantDrain = true;
      this.waitingDrain.add(s);
    }
    return ok;
  }

  private notifyDrain(s: H2Stream): void {
    s.wantDrain = false;
    this.waitingDrain.delete(s);
    s.onDrain?.();
  }

  private onSocketDrain(): void {
    for (const s of [...this.waitingDrain]) if (!s.closed && this.canWriteQuiet(s)) this.notifyDrain(s);
  }

  private canWriteQuiet(s: H2Stream): boolean {
    return s.queuedBytes < this.limits.streamWindowBytes && this.socket.writableLength + this.outBytes < this.limits.socketBufferBytesMax;
  }

  /** We ended our side: close the stream, or tell the client to stop sending (as grpc-go). */
  private finishLocal(s: H2Stream): void {
    if (!s.remoteEnded) this.rst(s.id, ErrorCode.NoError);
    this.close(s, null);
  }

  private maybeClose(s: H2Stream): void {
    if (s.localEnded && s.remoteEnded) this.close(s, null);
  }

  /** @internal */
  resetStream(s: H2Stream, code: number): void {
    if (s.closed) return;
    this.rst(s.id, code);
    this.close(s, code);
  }

  private streamError(id: number, code: number): void {
    const s = this.streams.get(id);
    if (s) this.resetStream(s, code);
    else this.rst(id, code);
  }

  private close(s: H2Stream, resetCode: number | null): void {
    if (s.closed) return;
    s.closed = true;
    this.streams.delete(s.id);
    this.blocked.delete(s);
    this.waitingDrain.delete(s);
    s.queue = [];
    s.queuedBytes = 0;
    s.onClose?.(resetCode);
    if (this.goawaySent && this.streams.size === 0) this.endSocket();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Writes everything queued in one socket write. */
  flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.socket.destroyed) {
      this.out = [];
      this.outBytes = 0;
      return;
    }
    const out = this.out;
    const bytes = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    if (out.length === 1) this.socket.write(out[0] as Buffer);
    else if (bytes <= 256 * 1024) this.socket.write(Buffer.concat(out, bytes));
    else {
      // Large payloads: no copy, one writev.
      (this.socket as Duplex & { cork(): void; uncork(): void }).cork();
      for (const b of out) this.socket.write(b);
      (this.socket as Duplex & { cork(): void; uncork(): void }).uncork();
    }
  }

  // ---------------------------------------------------------------- ending

  /** Graceful: GOAWAY now, the socket ends once the open streams have. */
  goaway(code: number = ErrorCode.NoError, debug = ''): void {
    if (this.closed || this.goawaySent) return;
    this.goawaySent = true;
    const d = Buffer.from(debug);
    const b = Buffer.allocUnsafe(8 + d.length);
    b.writeUInt32BE(this.lastStreamId, 0);
    b.writeUInt32BE(code, 4);
    d.copy(b, 8);
    this.frame(FrameType.Goaway, 0, 0, b);
    this.flush();
    if (this.streams.size === 0 || code !== ErrorCode.NoError) this.endSocket();
  }

  private connectionError(code: number, message: string): void {
    this.goaway(code, message);
    this.endSocket();
  }

  private endSocket(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
    // A client that never closes its side must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.onSocketClose();
  }

  /** Ends at once: every stream is reset, the socket destroyed. */
  destroy(): void {
    this.socket.destroy();
    this.onSocketClose();
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) this.close(s, ErrorCode.Cancel);
    this.handler.onClose?.(this);
  }
}
