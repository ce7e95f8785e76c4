/**
 * An in-process Transport: a MemoryHub connects several members of one process, for server
 * tests that need no sockets. Same contract as the gRPC transport (transport.ts):
 * - members find each other by URL: start() claims the member's listenPeerUrls in the hub (a URL
 *   claimed twice fails like a taken port), addPeer names the URLs to reach;
 * - messages are encoded with the wire codec at send() time and decoded on delivery, so
 *   nothing is shared between members and every field goes through the real encoding;
 * - per peer: a bounded queue (drop newest, report unreachable), delivery in order, batched, in
 *   a later macrotask (never inside send());
 * - the same identity checks and refusal texts (identity.ts), logged once per streak;
 * - a link is "connected" when the target has started, not stopped, accepts our identity, and
 *   the hub does not block the direction; a link that stops being connected drops its queue and
 *   reports the peer unreachable (as a broken stream does);
 * - snapshots stream in copies of at most snapshotChunkBytes; reportSnapshot exactly once;
 *   request() has the same error classes.
 * The hub's block()/unblock() cut one direction (a partition is several blocks).
 *
 * For the whole-member simulator (issue 14) both are injectable: a transport's turns, timers
 * and clock (MemoryTransportOptions.runtime; Node's by default), and the hub's `route`, which
 * carries every frame, request, answer and snapshot call from one member to another (default:
 * at once; the simulator delays, drops, duplicates and reorders them, and holds what is bound
 * for a paused member). A snapshot transfer ends with a failure on both sides when either
 * transport stops (a crash breaks the connection) or snapshotTimeoutMs passes.
 */
import { assert } from '../base/assert.js';
import { LogOnce } from '../base/log-once.js';
import { idField, type Logger } from '../base/logger.js';
import type { Runtime } from '../base/runtime.js';
import { MessageType, type Message } from '../raft/types.js';
import { batchItemBytes, decodeBatch, decodeMessage, encodeMessage, frameBatch } from './codec.js';
import { PeerListenError, PeerRequestError, PeerUnavailableError } from './errors.js';
import { belongsOnStream, checkIdentity, mayOriginate, type Refusal } from './identity.js';
import { resolveLimits } from './options.js';
import type { PeerHandler, Transport, TransportLimits, TransportOptions } from './transport.js';

/** What the hub carries between members (MemoryHubOptions.route). */
export type RouteKind = 'frame' | 'request' | 'answer' | 'snapshot';

export interface MemoryHubOptions {
  /** Carries one delivery from `from` to `to`: calls `deliver` once (or never, or twice), now
   *  or later. `frame` is the batch frame of a 'frame' delivery (codec.ts decodeBatch). */
  route?: (from: bigint, to: bigint, kind: RouteKind, deliver: () => void, frame?: Uint8Array) => void;
}

/** A transport's turns, timers and clock. */
export type TransportRuntime = Pick<Runtime, 'soon' | 'after' | 'now'>;

export interface MemoryTransportOptions extends TransportOptions {
  runtime?: TransportRuntime;
}

const nodeRuntime: TransportRuntime = {
  soon: (fn) => void setImmediate(fn),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  now: () => Date.now(),
};

interface Link {
  urls: string[];
  queue: Uint8Array[];
  queueBytes: number;
  since: Date | undefined;
  flushScheduled: boolean;
  refusalLogged: boolean;
}

export class MemoryHub {
  private readonly byUrl = new Map<string, MemoryTransport>();
  private readonly blocked = new Set<string>();
  private readonly members = new Set<MemoryTransport>();

  constructor(private readonly opts: MemoryHubOptions = {}) {}

  /** @internal Carries one delivery (MemoryHubOptions.route). */
  route(from: bigint, to: bigint, kind: RouteKind, deliver: () => void, frame?: Uint8Array): void {
    if (this.opts.route) this.opts.route(from, to, kind, deliver, frame);
    else deliver();
  }

  /** @internal Links that just lost their peer notice it without waiting for traffic (a broken stream). */
  changed(): void {
    for (const t of this.members) t.recheckLinks();
  }

  transport(opts: MemoryTransportOptions): MemoryTransport {
    return new MemoryTransport(this, opts);
  }

  /** Messages, snapshots and requests from `from` to `to` fail until unblock. */
  block(from: bigint, to: bigint): void {
    this.blocked.add(`${from}>${to}`);
    this.changed();
  }

  unblock(from: bigint, to: bigint): void {
    this.blocked.delete(`${from}>${to}`);
  }

  /** Cuts `id` off from every other member, both directions (until heal). */
  isolate(id: bigint, others: bigint[]): void {
    for (const o of others) {
      this.block(id, o);
      this.block(o, id);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  isBlocked(from: bigint, to: bigint): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** @internal */
  claim(url: string, t: MemoryTransport): void {
    const u = new URL(url);
    if (u.protocol === 'https:') throw new PeerListenError(`peer TLS (${url}) is not supported yet: use an http:// --listen-peer-urls`);
    if (u.protocol !== 'http:') throw new PeerListenError(`unsupported peer URL scheme in ${url} (http only)`);
    const key = u.host;
    if (this.byUrl.has(key)) throw new PeerListenError(`listen tcp ${key}: bind: address already in use`);
    this.byUrl.set(key, t);
    this.members.add(t);
  }

  /** @internal */
  release(t: MemoryTransport): void {
    for (const [k, v] of this.byUrl) if (v === t) this.byUrl.delete(k);
    if (this.members.delete(t)) this.changed();
  }

  /** @internal The started member listening on one of `urls`. */
  lookup(urls: string[]): MemoryTransport | undefined {
    for (const url of urls) {
      const t = this.byUrl.get(new URL(url).host);
      if (t !== undefined) return t;
    }
    return undefined;
  }
}

export class MemoryTransport implements Transport {
  readonly memberId: bigint;
  private readonly clusterId: bigint;
  private readonly logger: Logger;
  private readonly handler: PeerHandler;
  private readonly limits: Required<TransportLimits>;
  private readonly links = new Map<bigint, Link>();
  private readonly removed = new Set<bigint>();
  private readonly unknownLogged = new LogOnce<bigint>();
  private readonly refusalsLogged = new LogOnce<string>();
  private readonly snapshots = new Set<() => void>();
  /** Aborts of the snapshot streams going out and coming in (a stop breaks them at once). */
  private readonly transfers = new Set<() => void>();
  private running = false;
  private stopped = false;
  private readonly rt: TransportRuntime;

  constructor(
    private readonly hub: MemoryHub,
    private readonly opts: MemoryTransportOptions,
  ) {
    this.rt = opts.runtime ?? nodeRuntime;
    this.memberId = opts.memberId;
    this.clusterId = opts.clusterId;
    this.logger = opts.logger;
    this.handler = opts.handler;
    this.limits = resolveLimits(opts);
  }

  start(): Promise<void> {
    assert(!this.running && !this.stopped, 'memory transport started twice or after stop');
    try {
      for (const u of this.opts.listenPeerUrls) this.hub.claim(u, this);
    } catch (e) {
      this.hub.release(this);
      return Promise.reject(e);
    }
    this.running = true;
    return Promise.resolve();
  }

  /** Runs `f` in a later macrotask unless stopped by then. */
  private later(f: () => void): void {
    this.rt.soon(() => {
      if (!this.stopped) f();
    });
  }

  /** `p`, or a failure as soon as this transport stops (a broken connection). */
  private untilStopped<T>(p: Promise<T>, why: string): Promise<T> {
    if (this.stopped) return Promise.reject(new Error(why));
    return new Promise<T>((resolve, reject) => {
      const abort = (): void => reject(new Error(why));
      this.transfers.add(abort);
      p.then(
        (v) => {
          this.transfers.delete(abort);
          resolve(v);
        },
        (e: unknown) => {
          this.transfers.delete(abort);
          reject(e);
        },
      );
    });
  }

  addPeer(id: bigint, peerUrls: string[]): void {
    assert(id !== this.memberId && peerUrls.length > 0, 'addPeer needs another member and its URLs');
    const l = this.links.get(id);
    if (l !== undefined) return this.updatePeer(id, peerUrls);
    this.removed.delete(id);
    this.unknownLogged.forget(id);
    this.links.set(id, { urls: [...peerUrls], queue: [], queueBytes: 0, since: undefined, flushScheduled: false, refusalLogged: false });
  }

  updatePeer(id: bigint, peerUrls: string[]): void {
    const l = this.links.get(id);
    assert(l !== undefined, `updatePeer of unknown peer ${idField(id)}`);
    l.urls = [...peerUrls];
  }

  removePeer(id: bigint): void {
    this.links.delete(id);
    this.removed.add(id);
    // The removed member's link to us breaks now (as the gRPC server ends its stream).
    this.hub.changed();
  }

  /** The receiving side's check, with its once-per-streak log. */
  private refusalFor(clusterId: bigint, from: bigint, to: bigint): Refusal | undefined {
    const r = checkIdentity({ clusterId, from, to }, { memberId: this.memberId, clusterId: this.clusterId, isKnown: (id) => this.links.has(id), isRemoved: (id) => this.removed.has(id) });
    if (r === undefined) {
      this.refusalsLogged.forget(idField(from));
    } else if (this.refusalsLogged.first(idField(from), r.reason)) {
      this.logger.warn('refused a peer call', { 'local-member-id': idField(this.memberId), 'remote-peer-id': idField(from), error: r.message });
    }
    if (r?.reason === 'unknown-sender' && this.running) this.handler.unknownPeer?.(from);
    return r;
  }

  /** The target of link `id` if it can be reached now; updates `since` and logs a refusal once. */
  private connect(id: bigint, l: Link): MemoryTransport | undefined {
    const target = this.hub.lookup(l.urls);
    let why: string | undefined;
    if (target === undefined || !target.running) why = 'connection refused';
    else if (this.hub.isBlocked(this.memberId, id) || this.hub.isBlocked(id, this.memberId)) why = 'network blocked';
    else {
      const r = target.refusalFor(this.clusterId, this.memberId, id);
      if (r !== undefined) {
        if (!l.refusalLogged) {
          l.refusalLogged = true;
          this.logger.warn('peer refused our stream', { 'local-member-id': idField(this.memberId), 'remote-peer-id': idField(id), error: `refused: ${r.message}` });
        }
        why = r.message;
      }
    }
    if (why === undefined) {
      l.refusalLogged = false;
      l.since ??= new Date(this.rt.now());
      return target;
    }
    return undefined;
  }

  /** A link found unreachable: drop what waits, report if it was active or had messages. */
  private broken(id: bigint, l: Link): void {
    const had = l.queue.length > 0 || l.since !== undefined;
    l.queue = [];
    l.queueBytes = 0;
    l.since = undefined;
    if (had) this.handler.reportUnreachable(id);
  }

  send(msgs: Message[]): void {
    if (this.stopped) return;
    const overflowed = new Set<bigint>();
    for (const m of msgs) {
      assert(m.type !== MessageType.Snap, 'MsgSnap goes through sendSnapshot');
      assert(mayOriginate(this.memberId, m), `send of a ${MessageType[m.type]} from ${idField(m.from)}, neither ours nor relayable`);
      const l = this.links.get(m.to);
      if (l === undefined) {
        if (this.unknownLogged.first(m.to)) {
          this.logger.warn('ignored message send request; unknown remote peer target', { type: m.type, 'unknown-target-peer-id': idField(m.to) });
        }
        continue;
      }
      const body = encodeMessage(m);
      if (l.queue.length >= this.limits.queueMessagesMax || l.queueBytes + body.length > this.limits.queueBytesMax || batchItemBytes(body) > this.limits.frameBytesMax) {
        overflowed.add(m.to);
        continue;
      }
      l.queue.push(body);
      l.queueBytes += body.length;
      this.scheduleFlush(m.to, l);
    }
    for (const id of overflowed) this.later(() => this.handler.reportUnreachable(id));
  }

  private scheduleFlush(id: bigint, l: Link): void {
    if (l.flushScheduled) return;
    l.flushScheduled = true;
    this.later(() => {
      l.flushScheduled = false;
      if (this.links.get(id) !== l) return;
      const target = this.connect(id, l);
      if (target === undefined) return this.broken(id, l);
      while (l.queue.length > 0) {
        const bodies: Uint8Array[] = [];
        let bytes = 0;
        while (l.queue.length > 0) {
          const b = l.queue[0] as Uint8Array;
          if (bodies.length > 0 && bytes + batchItemBytes(b) > this.limits.batchBytesMax) break;
          bodies.push(b);
          bytes += batchItemBytes(b);
          l.queue.shift();
          l.queueBytes -= b.length;
        }
        const frame = frameBatch(bodies);
        this.hub.route(this.memberId, id, 'frame', () => target.deliver(this.memberId, frame), frame);
      }
    });
  }

  /** @internal One frame from `from`'s stream. */
  deliver(from: bigint, frame: Uint8Array): void {
    if (!this.running) return;
    for (const m of decodeBatch(frame)) {
      if (!belongsOnStream(this.memberId, from, m, (id) => this.links.has(id) && !this.removed.has(id))) continue;
      try {
        this.handler.process(m);
      } catch (e) {
        this.logger.error('handler failed to process a peer message', { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  sendSnapshot(msg: Message, data: () => AsyncIterable<Uint8Array>): void {
    assert(msg.type === MessageType.Snap && msg.snapshot !== undefined, 'sendSnapshot takes a MsgSnap with its snapshot');
    let done = false;
    const report = (ok: boolean): void => {
      if (done) return;
      done = true;
      this.snapshots.delete(cancel);
      this.handler.reportSnapshot(msg.to, ok);
    };
    const cancel = (): void => report(false);
    this.snapshots.add(cancel);
    const copy = decodeMessage(encodeMessage(msg));
    const id = msg.to;
    const chunkBytes = this.limits.snapshotChunkBytes;
    const self = this;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const it = data()[Symbol.asyncIterator]();
      for (;;) {
        // The sender's stop or crash breaks the stream, even while a read of its store waits.
        const next = await self.untilStopped(it.next(), 'snapshot call ended before its last chunk');
        if (next.done === true) return;
        const piece = next.value;
        for (let off = 0; off < piece.length; off += chunkBytes) {
          if (done || self.hub.isBlocked(self.memberId, id)) throw new Error('snapshot call ended before its last chunk');
          yield new Uint8Array(piece.subarray(off, off + chunkBytes)); // a copy, even of a Buffer
        }
      }
    }
    this.later(() => {
      const l = this.links.get(id);
      const target = l === undefined ? undefined : this.connect(id, l);
      if (target === undefined) {
        this.logger.warn('failed to send database snapshot', { 'remote-peer-id': idField(id), error: 'peer unreachable' });
        return report(false);
      }
      const deadline = this.rt.after(this.limits.snapshotTimeoutMs, () => report(false));
      const ended = (ok: boolean, e?: unknown): void => {
        deadline.cancel();
        if (!ok) this.logger.warn('failed to send database snapshot', { 'remote-peer-id': idField(id), error: e instanceof Error ? e.message : String(e) });
        this.later(() => report(ok));
      };
      this.hub.route(this.memberId, id, 'snapshot', () =>
        target.receiveSnapshotFrom(this.memberId, copy, chunks()).then(
          () => this.hub.route(id, this.memberId, 'answer', () => ended(true)),
          (e: unknown) => this.hub.route(id, this.memberId, 'answer', () => ended(false, e)),
        ),
      );
    });
  }

  /** @internal */
  async receiveSnapshotFrom(from: bigint, msg: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (!this.running) throw new Error('transport stopped');
    if (msg.to !== this.memberId || msg.from !== from) throw new Error('snapshot call does not start with a MsgSnap from its sender to us');
    await this.untilStopped(this.handler.receiveSnapshot(msg, data), 'transport stopped');
    if (!this.running) throw new Error('transport stopped');
    this.handler.process(msg);
  }

  request(to: bigint, kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const l = this.links.get(to);
    if (l === undefined || this.stopped) return Promise.reject(new PeerUnavailableError(`peer ${idField(to)} is not a known remote peer`));
    return new Promise((resolve, reject) => {
      const timer = this.rt.after(timeoutMs, () => reject(new PeerUnavailableError(`peer ${idField(to)}: deadline exceeded`)));
      this.later(() => {
        const target = this.connect(to, l);
        if (target === undefined) {
          timer.cancel();
          const target2 = this.hub.lookup(l.urls);
          const r = target2?.running === true ? target2.refusalFor(this.clusterId, this.memberId, to) : undefined;
          return reject(new PeerUnavailableError(`peer ${idField(to)}: ${r?.message ?? 'unreachable'}`, r !== undefined));
        }
        const copy = new Uint8Array(body);
        this.hub.route(this.memberId, to, 'request', () =>
          target.requestFrom(this.memberId, kind, copy).then(
            (answer) =>
              this.hub.route(to, this.memberId, 'answer', () => {
                timer.cancel();
                resolve(new Uint8Array(answer));
              }),
            (e: unknown) =>
              this.hub.route(to, this.memberId, 'answer', () => {
                timer.cancel();
                reject(e instanceof PeerUnavailableError ? e : new PeerRequestError(e instanceof Error ? e.message : String(e)));
              }),
          ),
        );
      });
    });
  }

  /**
   * The peer Members call (cluster-info.ts) through the hub: answered by whichever started
   * member listens on `peerUrl`, identity unchecked (a joining member knows none yet).
   */
  fetchMembers(peerUrl: string, timeoutMs: number): Promise<Uint8Array> {
    if (this.stopped) return Promise.reject(new PeerUnavailableError(`peer ${peerUrl}: transport stopped`));
    return new Promise((resolve, reject) => {
      const timer = this.rt.after(timeoutMs, () => reject(new PeerUnavailableError(`peer ${peerUrl}: timed out`)));
      this.later(() => {
        const target = this.hub.lookup([peerUrl]);
        if (target === undefined || !target.running || this.hub.isBlocked(this.memberId, target.memberId) || this.hub.isBlocked(target.memberId, this.memberId)) {
          timer.cancel();
          return reject(new PeerUnavailableError(`peer ${peerUrl}: connection refused`));
        }
        this.hub.route(this.memberId, target.memberId, 'request', () => {
          const info = target.running ? target.handler.clusterInfo?.() : undefined;
          this.hub.route(target.memberId, this.memberId, 'answer', () => {
            timer.cancel();
            if (info === undefined) reject(new PeerUnavailableError(`peer ${peerUrl}: no member list`));
            else resolve(new Uint8Array(info));
          });
        });
      });
    });
  }

  /** @internal */
  requestFrom(from: bigint, kind: string, body: Uint8Array): Promise<Uint8Array> {
    if (!this.running) return Promise.reject(new PeerUnavailableError('transport stopped'));
    return this.handler.onRequest(from, kind, body);
  }

  activeSince(id: bigint): Date | undefined {
    const l = this.links.get(id);
    if (l === undefined || this.stopped) return undefined;
    if (this.connect(id, l) === undefined) {
      if (l.since !== undefined) this.later(() => this.broken(id, l));
      return undefined;
    }
    return l.since;
  }

  /** @internal After a member stopped or a block: active links that broke report it. */
  recheckLinks(): void {
    this.later(() => {
      for (const [id, l] of this.links) if (l.since !== undefined && this.connect(id, l) === undefined) this.broken(id, l);
    });
  }

  queuedMessages(id: bigint): number {
    return this.links.get(id)?.queue.length ?? 0;
  }

  private stopping: Promise<void> | undefined;

  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    this.stopped = true;
    this.running = false;
    this.hub.release(this);
    this.links.clear();
    // Snapshot streams break now, on both sides (the peer's end fails at once).
    for (const abort of [...this.transfers]) abort();
    this.transfers.clear();
    // Snapshots cut short are reported false (exactly once), after this call returned and
    // before the promise resolves; nothing reaches the handler afterwards.
    this.stopping = new Promise<void>((resolve) =>
      this.rt.soon(() => {
        for (const cancel of [...this.snapshots]) cancel();
        resolve();
      }),
    );
    return this.stopping;
  }
}

export function createMemoryHub(opts: MemoryHubOptions = {}): MemoryHub {
  return new MemoryHub(opts);
}
