/**
 * The sending side towards one peer (the peer protocol of frames.ts): a bounded queue of encoded
 * messages, the one long-lived Stream connection that carries them in batches, the reconnect
 * loop, a Requests connection (opened on first use) and one connection per snapshot.
 *
 * States: dialing → (HELLO sent, waiting for ACCEPT) → active → broken → backoff → dialing ...
 * until close(). Invariants:
 * - At most one Stream connection exists (`sock`); events of a superseded one are ignored.
 * - `since` is set only while the current connection has been accepted by the peer and has not
 *   ended.
 * - Queued messages go out together in one BATCH frame per flush (a transport send() of one
 *   Ready flushes once): natural batching under load, no added latency when idle. While the
 *   socket's buffer is full (write() false), messages wait in the queue for 'drain'.
 * - The queue never holds more than queueMessagesMax messages or queueBytesMax bytes. When full,
 *   the NEW message is dropped (as etcd's stream writer does when its buffer is full): what is
 *   queued stays a gap-free prefix of what was sent, and reportUnreachable makes the leader stop
 *   pipelining to this peer (probe state), so a slow peer gets a trickle, not a pile of
 *   heartbeats. Raft re-sends whatever it still needs.
 * - A dial that fails, or a stream that breaks, while messages wait drops them and reports the
 *   peer unreachable once; a stream that was active and breaks reports it too.
 * - Liveness: when nothing came from the peer for keepaliveMs the link sends a PING; no answer
 *   within keepaliveTimeoutMs breaks the connection (a hung peer, as gRPC keepalive did).
 * - Round trip: every 4 s a PING carrying its send time; the PONG's echo gives the RTT, smoothed
 *   and observed into etcd_network_peer_round_trip_time_seconds{To} as etcd's prober does.
 * - A refusal is logged once per streak of refusals, not per retry; the link keeps retrying
 *   with backoff (the peer may learn about us later).
 */
import net from 'node:net';
import { assert } from '../base/assert.js';
import { idField, type Logger } from '../base/logger.js';
import type { Rand } from '../base/random.js';
import { MessageType, type Message } from '../raft/types.js';
import { Backoff } from './backoff.js';
import { batchItemBytes, encodeRequest, encodeSnapshotFrame } from './codec.js';
import { PeerRequestError, PeerUnavailableError } from './errors.js';
import { FrameKind, FrameReader, Purpose, decodeReply, encodeHello, encodeReq, frame, frameHeader, peerAddress } from './frames.js';
import { lenFieldSize } from './wire.js';
import { dialErrorText, dialPeer } from './credentials.js';
import type { TlsMaterial } from '../base/tls.js';
import type { TransportLimits } from './transport.js';
import { type Histogram, peerRoundTripHistogram } from '../base/metrics.js';

/**
 * Round-trip probing as etcd's rafthttp prober (probing_status.go): a probe every
 * ConnReadTimeout − 1 s = 4 s, smoothed with α = 0.125 (xiang90/probing), observed 5 s after the
 * peer is added and then every 30 s (5 s while the peer is unreachable).
 */
const rttProbeIntervalMs = 4000;
const rttFirstObserveMs = 5000;
const rttObserveMs = 30_000;
const rttSmoothing = 0.125;

export interface LinkContext {
  memberId: bigint;
  clusterId: bigint;
  limits: Required<TransportLimits>;
  logger: Logger;
  random: Rand;
  /** Peer TLS for https:// peer URLs (credentials.ts), or null. */
  tls: TlsMaterial | null;
  /** Why a URL cannot be reached when TLS is the reason (credentials.ts diagnosePeerTls). */
  diagnose?(url: string): Promise<string | undefined>;
  /** Deferred and de-duplicated by the transport. */
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
}

interface SnapshotSend {
  cancel(reason: string): void;
}

/** An accepted connection, its frame reader, and frames that came in the ACCEPT's chunk. */
interface Dialled {
  sock: net.Socket;
  reader: FrameReader;
  early: [kind: number, payload: Buffer][];
}

export class PeerLink {
  private urls: string[];
  private urlIndex = 0;
  private sock: net.Socket | undefined;
  private since: Date | undefined;
  private blocked = false;
  private queue: Uint8Array[] = [];
  private head = 0;
  private queueBytes = 0;
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private pingSent = 0;
  /** Smoothed round trip of the RTT probes (ms), as etcd's prober keeps it: α = 1/8, from 0. */
  private srttMs = 0;
  private rttProbe: NodeJS.Timeout | undefined;
  private rttMonitor: NodeJS.Timeout | undefined;
  private readonly roundTrip: Histogram;
  private closed = false;
  /** Bumped by every dial, so late callbacks of an older attempt are ignored. */
  private attempt = 0;
  private refusalLogged = false;
  private failureLogged = false;
  private failureLoggedWhy = '';
  private overflowLogged = false;
  private readonly backoff: Backoff;
  private readonly snapshots = new Set<SnapshotSend>();
  private requests: RequestConn | undefined;
  /** Counters for tests and metrics. */
  readonly stats = { framesSent: 0, messagesSent: 0, dropped: 0 };

  constructor(
    private readonly ctx: LinkContext,
    readonly id: bigint,
    urls: string[],
  ) {
    assert(urls.length > 0, `peer ${idField(id)} has no URL`);
    this.urls = [...urls];
    this.backoff = new Backoff(ctx.limits.backoffBaseMs, ctx.limits.backoffMaxMs, ctx.random);
    this.roundTrip = peerRoundTripHistogram(id);
    this.monitorRoundTrip(rttFirstObserveMs);
    this.dial();
  }

  /**
   * etcd's monitorProbingStatus: the smoothed round trip goes into
   * etcd_network_peer_round_trip_time_seconds{To} 5 s after the peer is added, then every 30 s
   * while the peer answers (every 5 s while it does not).
   */
  private monitorRoundTrip(ms: number): void {
    this.rttMonitor = setTimeout(() => {
      if (this.closed) return;
      this.roundTrip.observe(this.srttMs / 1000);
      this.monitorRoundTrip(this.sock !== undefined ? rttObserveMs : rttFirstObserveMs);
    }, ms);
    this.rttMonitor.unref();
  }

  /** One RTT probe: a PING carrying its send time, which the peer's PONG echoes. */
  private probeRoundTrip(sock: net.Socket): void {
    if (this.sock !== sock) return;
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleBE(performance.now(), 0);
    sock.write(frame(FrameKind.Ping, b));
  }

  activeSince(): Date | undefined {
    return this.since;
  }

  queuedMessages(): number {
    return this.queue.length - this.head;
  }

  private url(): string {
    return this.urls[this.urlIndex % this.urls.length] as string;
  }

  setUrls(urls: string[]): void {
    assert(urls.length > 0, `peer ${idField(this.id)} has no URL`);
    if (urls.length === this.urls.length && urls.every((u, i) => u === this.urls[i])) return;
    this.urls = [...urls];
    this.urlIndex = 0;
    // Reconnect to the new address now; what is queued stays queued.
    this.teardown();
    this.requests?.close(new PeerUnavailableError(`peer ${idField(this.id)}: its URLs changed`));
    this.requests = undefined;
    this.backoff.reset();
    if (!this.closed) this.dial();
  }

  /** Queues one encoded message; false when the queue is full (the caller reports unreachable). */
  enqueue(body: Uint8Array): boolean {
    const l = this.ctx.limits;
    if (this.queuedMessages() >= l.queueMessagesMax || this.queueBytes + body.length > l.queueBytesMax) {
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        this.ctx.logger.warn('dropped internal Raft message since sending buffer is full (overloaded network)', {
          'local-member-id': idField(this.ctx.memberId),
          'remote-peer-id': idField(this.id),
          'queued-messages': this.queuedMessages(),
          'queued-bytes': this.queueBytes,
        });
      }
      this.stats.dropped++;
      return false;
    }
    this.queue.push(body);
    this.queueBytes += body.length;
    if (!this.flushScheduled) {
      // Everything queued in this turn (one Ready's messages) leaves as one frame.
      this.flushScheduled = true;
      process.nextTick(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return true;
  }

  private dropQueue(): number {
    const n = this.queuedMessages();
    this.queue = [];
    this.head = 0;
    this.queueBytes = 0;
    return n;
  }

  /** Writes what is queued as BATCH frames, while the socket takes them. */
  flush(): void {
    const sock = this.sock;
    if (sock === undefined || this.since === undefined || this.blocked) return;
    while (this.queuedMessages() > 0) {
      const bodies: Uint8Array[] = [];
      let bytes = 0;
      while (this.head < this.queue.length) {
        const b = this.queue[this.head] as Uint8Array;
        const n = batchItemBytes(b);
        if (bodies.length > 0 && bytes + n > this.ctx.limits.batchBytesMax) break;
        bodies.push(b);
        bytes += n;
        this.queueBytes -= b.length;
        this.head++;
      }
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.overflowLogged = false;
      this.stats.framesSent++;
      this.stats.messagesSent += bodies.length;
      if (!sock.write(batchFrame(bodies, bytes))) {
        // The kernel's buffer is full (a slow or stalled peer): the queue takes over, bounded.
        this.blocked = true;
        sock.once('drain', () => {
          if (this.sock !== sock) return;
          this.blocked = false;
          this.flush();
        });
        return;
      }
    }
  }

  private dial(): void {
    if (this.closed) return;
    const attempt = ++this.attempt;
    const url = this.url();
    connect(url, Purpose.Stream, this.ctx, this.id, this.ctx.limits.dialTimeoutMs, (err, d) => {
      if (this.closed || attempt !== this.attempt) {
        d?.sock.destroy();
        return;
      }
      if (err !== null || d === undefined) return this.failed(err?.message ?? 'dial failed', err instanceof PeerUnavailableError && err.refused);
      this.sock = d.sock;
      this.since = new Date();
      this.lastHeard = Date.now();
      this.pingSent = 0;
      this.backoff.reset();
      this.refusalLogged = false;
      this.failureLogged = false;
      this.ctx.logger.info('peer became active', { 'local-member-id': idField(this.ctx.memberId), 'peer-id': idField(this.id) });
      const sock = d.sock;
      const onFrame = (kind: number, payload: Buffer): void => {
        if (kind === FrameKind.Pong) {
          // An RTT probe's answer carries its send time; a keepalive's is zero.
          const sentAt = payload.length === 8 ? payload.readDoubleBE(0) : 0;
          if (sentAt > 0) this.srttMs = (1 - rttSmoothing) * this.srttMs + rttSmoothing * Math.max(0, performance.now() - sentAt);
          return;
        }
        if (kind === FrameKind.Refuse) throw new PeerUnavailableError(`refused: ${payload.toString()}`, true);
        throw new PeerUnavailableError(`unexpected frame ${kind} on the stream`);
      };
      const guarded = (fn: () => void): void => {
        try {
          fn();
        } catch (e) {
          const refused = e instanceof PeerUnavailableError && e.refused;
          this.broken(sock, refused ? e.message : `stream: ${e instanceof Error ? e.message : String(e)}`, refused);
        }
      };
      guarded(() => d.early.forEach(([k, p]) => onFrame(k, p)));
      sock.on('data', (chunk: Buffer) => {
        if (this.sock !== sock) return;
        this.lastHeard = Date.now();
        this.pingSent = 0;
        guarded(() => d.reader.push(chunk, onFrame));
      });
      const gone = (why: string) => (): void => this.broken(sock, why, false);
      sock.once('close', gone('stream ended by the peer'));
      sock.on('error', (e) => this.broken(sock, `stream: ${e.message}`, false));
      this.startPings(sock);
      this.probeRoundTrip(sock);
      this.rttProbe = setInterval(() => this.probeRoundTrip(sock), rttProbeIntervalMs);
      this.rttProbe.unref();
      this.flush();
    });
  }

  private startPings(sock: net.Socket): void {
    const l = this.ctx.limits;
    const tick = Math.max(50, Math.min(l.keepaliveMs, l.keepaliveTimeoutMs) / 2);
    this.pingTimer = setInterval(() => {
      if (this.sock !== sock) return;
      const now = Date.now();
      if (this.pingSent !== 0 && now - this.pingSent >= l.keepaliveTimeoutMs) {
        this.broken(sock, 'stream: keepalive timed out (the peer stopped answering)', false);
        return;
      }
      if (this.pingSent === 0 && now - this.lastHeard >= l.keepaliveMs) {
        this.pingSent = now;
        sock.write(frame(FrameKind.Ping, Buffer.alloc(8)));
      }
    }, tick);
    this.pingTimer.unref();
  }

  private broken(sock: net.Socket, why: string, refused: boolean): void {
    if (this.sock !== sock) return;
    const wasActive = this.since !== undefined;
    this.failed(why, refused, wasActive);
  }

  /** One failed attempt or a broken stream: report, forget the connection, retry after backoff. */
  private failed(why: string, refused: boolean, wasActive = false): void {
    if (this.closed) return;
    const fields = { 'local-member-id': idField(this.ctx.memberId), 'remote-peer-id': idField(this.id), error: why };
    if (wasActive) this.ctx.logger.warn('peer became inactive (message send to peer failed)', fields);
    else if (refused && !this.refusalLogged) {
      this.refusalLogged = true;
      this.ctx.logger.warn('peer refused our stream', fields);
    } else if (!refused) {
      const url = this.url();
      const log = (error: string): void => {
        // Once per streak of failures, and again when the reason changes.
        if (this.closed || (this.failureLogged && this.failureLoggedWhy === error)) return;
        this.failureLogged = true;
        this.failureLoggedWhy = error;
        this.ctx.logger.warn('failed to reach peer', { ...fields, error, url });
      };
      // A peer that refuses our certificate just closes the connection: a TLS diagnosis says why.
      if (this.ctx.diagnose === undefined || !url.startsWith('https:') || !why.endsWith('connection closed')) log(why);
      else void this.ctx.diagnose(url).then((tlsWhy) => log(tlsWhy ?? why));
    }
    if (refused) this.failureLogged = false;
    else this.refusalLogged = false;
    const dropped = this.dropQueue();
    this.stats.dropped += dropped;
    if (wasActive || dropped > 0) this.ctx.reportUnreachable(this.id);
    this.teardown();
    // Next attempt: the next URL of the peer, if it has several.
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    const delay = this.backoff.next();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dial();
    }, delay);
    this.timer.unref();
  }

  /** Forgets the current connection (no report). */
  private teardown(): void {
    this.attempt++;
    const sock = this.sock;
    this.sock = undefined;
    this.since = undefined;
    this.blocked = false;
    sock?.destroy();
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (this.rttProbe !== undefined) clearInterval(this.rttProbe);
    this.rttProbe = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropQueue();
    for (const s of [...this.snapshots]) s.cancel('peer removed or transport stopped');
    this.requests?.close(new PeerUnavailableError(`peer ${idField(this.id)} removed or transport stopped`));
    this.requests = undefined;
    if (this.rttMonitor !== undefined) clearTimeout(this.rttMonitor);
    this.rttMonitor = undefined;
    this.teardown();
  }

  /** A snapshot on its own connection; reportSnapshot exactly once. */
  sendSnapshot(msg: Message, data: () => AsyncIterable<Uint8Array>): void {
    assert(msg.type === MessageType.Snap && msg.to === this.id, 'sendSnapshot takes a MsgSnap for this peer');
    const l = this.ctx.limits;
    let finished = false;
    let sock: net.Socket | undefined;
    let onEnd: (e: Error) => void = () => undefined;
    const ended = new Promise<never>((_, reject) => (onEnd = reject));
    ended.catch(() => undefined);
    const deadline = setTimeout(() => finish(false, 'snapshot timed out'), l.snapshotTimeoutMs);
    deadline.unref();
    const finish = (ok: boolean, why?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      this.snapshots.delete(handle);
      onEnd(new Error(why ?? 'snapshot call ended'));
      sock?.destroy();
      if (!ok) this.ctx.logger.warn('failed to send database snapshot', { 'remote-peer-id': idField(this.id), index: msg.snapshot?.metadata.index, error: why });
      else this.ctx.logger.info('sent database snapshot', { 'remote-peer-id': idField(this.id), index: msg.snapshot?.metadata.index });
      this.ctx.reportSnapshot(this.id, ok);
    };
    const handle: SnapshotSend = { cancel: (reason) => finish(false, reason) };
    this.snapshots.add(handle);
    connect(this.url(), Purpose.Snapshot, this.ctx, this.id, l.dialTimeoutMs, (err, d) => {
      if (finished) return d?.sock.destroy();
      if (err !== null || d === undefined) return finish(false, err?.message ?? 'dial failed');
      sock = d.sock;
      const s = d.sock;
      const onFrame = (kind: number, payload: Buffer): void => {
        if (kind !== FrameKind.Result || payload.length < 1) throw new Error(`unexpected frame ${kind} on a snapshot call`);
        finish(payload[0] === 1, payload[0] === 1 ? undefined : payload.subarray(1).toString());
      };
      const guarded = (fn: () => void): void => {
        try {
          fn();
        } catch (e) {
          finish(false, e instanceof Error ? e.message : String(e));
        }
      };
      guarded(() => d.early.forEach(([k, p]) => onFrame(k, p)));
      s.on('data', (chunk: Buffer) => guarded(() => d.reader.push(chunk, onFrame)));
      s.once('close', () => finish(false, 'snapshot connection closed before the result'));
      s.on('error', (e) => finish(false, e.message));
      const write = (b: Buffer): Promise<void> => {
        if (s.write(frame(FrameKind.Snap, b))) return Promise.resolve();
        return Promise.race([ended, new Promise<void>((resolve) => s.once('drain', () => resolve()))]);
      };
      const pushAll = async (): Promise<void> => {
        await write(encodeSnapshotFrame({ kind: 'message', message: msg }));
        for await (const piece of data()) {
          for (let off = 0; off < piece.length; off += l.snapshotChunkBytes) {
            if (finished) return;
            await write(encodeSnapshotFrame({ kind: 'chunk', chunk: piece.subarray(off, off + l.snapshotChunkBytes) }));
          }
        }
        await write(encodeSnapshotFrame({ kind: 'done' }));
      };
      pushAll().catch((e: unknown) => finish(false, e instanceof Error ? e.message : String(e)));
    });
  }

  request(kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.requests === undefined || this.requests.dead) this.requests = new RequestConn(this.url(), this.ctx, this.id);
    return this.requests.call(kind, body, timeoutMs);
  }
}

/** One BATCH frame of encoded messages (a MessageBatch: field 1 per message). */
function batchFrame(bodies: Uint8Array[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(5 + bytes);
  frameHeader(FrameKind.Batch, bytes).copy(out, 0);
  let at = 5;
  for (const b of bodies) {
    out[at++] = 0x0a;
    let n = b.length;
    while (n > 0x7f) {
      out[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[at++] = n;
    out.set(b, at);
    at += b.length;
  }
  assert(at === out.length && bytes === bodies.reduce((s, b) => s + lenFieldSize(b.length), 0), 'batch frame size');
  return out;
}

/**
 * Opens a connection for `purpose`, sends HELLO and waits for ACCEPT (or REFUSE / failure /
 * timeout). The callback runs once; on success the socket's listeners are the caller's.
 */
export function connect(
  url: string,
  purpose: number,
  ctx: { memberId: bigint; clusterId: bigint; limits: Required<TransportLimits>; tls?: TlsMaterial | null },
  to: bigint,
  timeoutMs: number,
  done: (err: Error | null, d?: Dialled) => void,
): void {
  let addr: { host: string; port: number; tls: boolean };
  try {
    addr = peerAddress(url);
  } catch {
    done(new PeerUnavailableError(`invalid peer URL ${JSON.stringify(url)}`));
    return;
  }
  const sock = dialPeer(addr, ctx.tls);
  sock.setKeepAlive(true, ctx.limits.keepaliveMs);
  const reader = new FrameReader(ctx.limits.frameBytesMax);
  const early: [number, Buffer][] = [];
  let settled = false;
  const settle = (err: Error | null): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    sock.removeAllListeners('data');
    sock.removeAllListeners('error');
    sock.removeAllListeners('close');
    sock.removeAllListeners('connect');
    if (err !== null) {
      sock.on('error', () => undefined);
      sock.destroy();
      done(err);
    } else done(null, { sock, reader, early });
  };
  const timer = setTimeout(() => settle(new PeerUnavailableError(`dial ${url}: timed out`)), timeoutMs);
  timer.unref();
  sock.once('connect', () => sock.write(encodeHello({ purpose, clusterId: ctx.clusterId, from: ctx.memberId, to })));
  sock.on('data', (chunk: Buffer) => {
    try {
      reader.push(chunk, (kind, payload) => {
        if (settled) {
          // Frames after ACCEPT in the same chunk belong to the caller.
          early.push([kind, Buffer.from(payload)]);
          return;
        }
        if (kind === FrameKind.Accept) return settle(null);
        if (kind === FrameKind.Refuse) return settle(new PeerUnavailableError(`refused: ${payload.toString()}`, true));
        settle(new PeerUnavailableError(`peer ${url}: unexpected frame ${kind} before ACCEPT`));
      });
    } catch (e) {
      settle(new PeerUnavailableError(`peer ${url}: ${e instanceof Error ? e.message : String(e)}`));
    }
  });
  sock.on('error', (e: NodeJS.ErrnoException) => settle(new PeerUnavailableError(`dial ${url}: ${dialErrorText(e)}`)));
  sock.on('close', () => settle(new PeerUnavailableError(`dial ${url}: connection closed`)));
}

/** The Requests connection of a link: calls multiplexed by id, each with its own deadline. */
class RequestConn {
  dead = false;
  private sock: net.Socket | undefined;
  private waiting: (() => void)[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(b: Uint8Array): void; reject(e: Error): void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly url: string,
    ctx: LinkContext,
    private readonly to: bigint,
  ) {
    connect(url, Purpose.Requests, ctx, to, ctx.limits.dialTimeoutMs, (err, d) => {
      if (this.dead) return d?.sock.destroy();
      if (err !== null || d === undefined) return this.close(err instanceof PeerUnavailableError ? err : new PeerUnavailableError(`peer ${idField(to)}: ${err?.message}`));
      this.sock = d.sock;
      const onFrame = (kind: number, payload: Buffer): void => {
        if (kind === FrameKind.Refuse) throw new PeerUnavailableError(`peer ${idField(to)}: refused: ${payload.toString()}`, true);
        if (kind === FrameKind.Pong) return;
        if (kind !== FrameKind.Reply) throw new PeerUnavailableError(`peer ${idField(to)}: unexpected frame ${kind}`);
        const r = decodeReply(payload);
        const p = this.pending.get(r.id);
        if (p === undefined) return;
        this.pending.delete(r.id);
        clearTimeout(p.timer);
        if (r.status === 0) p.resolve(new Uint8Array(r.body));
        else p.reject(new PeerRequestError(r.body.toString()));
      };
      const guarded = (fn: () => void): void => {
        try {
          fn();
        } catch (e) {
          this.close(e instanceof PeerUnavailableError ? e : new PeerUnavailableError(`peer ${idField(to)}: ${e instanceof Error ? e.message : String(e)}`));
        }
      };
      guarded(() => d.early.forEach(([k, p]) => onFrame(k, p)));
      d.sock.on('data', (chunk: Buffer) => guarded(() => d.reader.push(chunk, onFrame)));
      d.sock.once('close', () => this.close(new PeerUnavailableError(`peer ${idField(to)}: connection closed`)));
      d.sock.on('error', () => undefined);
      const w = this.waiting;
      this.waiting = [];
      for (const f of w) f();
    });
  }

  call(kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.dead) return Promise.reject(new PeerUnavailableError(`peer ${idField(this.to)}: connection closed`));
    return new Promise((resolve, reject) => {
      const id = this.nextId++ >>> 0;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new PeerUnavailableError(`peer ${idField(this.to)}: request ${kind} timed out`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      const send = (): void => {
        if (this.pending.has(id)) this.sock?.write(encodeReq(id, encodeRequest({ kind, body })));
      };
      if (this.sock !== undefined) send();
      else this.waiting.push(send);
    });
  }

  close(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.sock?.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.waiting = [];
  }
}
