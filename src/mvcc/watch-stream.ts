/**
 * One watch stream (etcd mvcc watch_stream.go plus the per-stream state of v3rpc watch.go):
 * the watchers a client created on one gRPC Watch call, and the ordered queue of responses
 * waiting to be sent on it.
 *
 * Why responses of every kind share one queue: a created response must precede its watcher's
 * events, and a cancel or progress response must follow the events already queued; one FIFO
 * gives that order for free (etcd buffers events until the create response is sent instead).
 *
 * Invariants:
 * - watch ids are unique on the stream; auto ids count from 0, skipping ids in use (etcd);
 * - event responses are queued only while fewer than `streamEventsMax` of them, and fewer than
 *   `streamBytesMax` bytes of them, are queued (so at most one response beyond the byte bound);
 *   a watcher whose events do not fit is moved behind by the store (watchable-store.ts), never
 *   buffered here;
 * - no event response of a watcher is sent after its cancel response;
 * - a progress response (watch id −1) is queued only when every watcher of the stream is
 *   synced, so its revision promises that every event up to it has been queued before it.
 */
import { assert } from '../base/assert.js';
import { compareBytes } from '../base/bytes.js';
import { WatchCancelReasons } from '../api/errors.js';
import type { Event } from '../api/kv-types.js';
import type { WatchableStore } from './watchable-store.js';
import { Watcher, type WatcherOptions } from './watcher.js';

export interface WatchStreamOptions {
  streamEventsMax: number;
  /** Approximate bytes of queued event responses (keys, values, prev values). */
  streamBytesMax: number;
}

/** Rough per-event cost beyond its key and value bytes. */
const eventOverheadBytes = 64;

function eventsBytes(evs: Event[], prevKv: boolean): number {
  let n = 0;
  for (const e of evs) {
    n += eventOverheadBytes + e.kv.key.length + e.kv.value.length;
    if (prevKv && e.prev_kv) n += e.prev_kv.key.length + e.prev_kv.value.length;
  }
  return n;
}

/** A response waiting to be sent (the rpc layer adds the header's ids and term). */
export interface WatchOut {
  watchId: bigint;
  /** The header's revision. */
  rev: bigint;
  events: Event[];
  created: boolean;
  canceled: boolean;
  compactRevision: bigint;
  cancelReason: string;
  /** Send the events' prev_kv (the watcher asked for it). */
  prevKv: boolean;
  /** The response may be split in fragments (the watcher asked for it). */
  fragment: boolean;
  /** For event responses: the watcher, to drop them once it is canceled. */
  watcher: Watcher | null;
}

export interface CreateRequest extends WatcherOptions {
  /** 0: pick the next free id. */
  watchId: bigint;
}

/** Watch id of responses that belong to no watcher (progress, failed creates). */
export const noWatchId = -1n;

function out(fields: Partial<WatchOut> & { watchId: bigint; rev: bigint }): WatchOut {
  return {
    events: [],
    created: false,
    canceled: false,
    compactRevision: 0n,
    cancelReason: '',
    prevKv: false,
    fragment: false,
    watcher: null,
    ...fields,
  };
}

export class WatchStream {
  private readonly watchers = new Map<bigint, Watcher>();
  private nextId = 0n;
  private queue: WatchOut[] = [];
  private head = 0;
  private queuedEvents = 0;
  private queuedBytes = 0;
  private deferredProgress = false;
  private closed = false;
  /** Called when a response is queued (the rpc layer starts sending). */
  onReady: () => void = () => undefined;

  constructor(
    private readonly store: WatchableStore,
    private readonly opts: WatchStreamOptions,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  /**
   * A create request (etcd v3rpc recvLoop + watchStream.Watch): queues the created response
   * (created+canceled with watch id −1 and the reason on failure), then registers the watcher.
   */
  create(req: CreateRequest): bigint {
    const wsrev = this.store.rev();
    const fail = (reason: string): bigint => {
      this.push(out({ watchId: noWatchId, rev: wsrev, created: true, canceled: true, cancelReason: reason }));
      return noWatchId;
    };
    if (req.end !== null && req.end.length > 0 && compareBytes(req.key, req.end) >= 0) return fail(WatchCancelReasons.EmptyRange);
    let id = req.watchId;
    if (id === 0n) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watchers.has(id)) {
      return fail(WatchCancelReasons.DuplicateId);
    }
    const startRev = req.startRev === 0n ? wsrev + 1n : req.startRev;
    const w = new Watcher(id, this, { ...req, startRev });
    this.watchers.set(id, w);
    this.push(out({ watchId: id, rev: wsrev, created: true }));
    this.store.add(w);
    return id;
  }

  /** A cancel request: the canceled response, or nothing for an unknown id (etcd). */
  cancel(id: bigint): boolean {
    const w = this.watchers.get(id);
    if (!w) return false;
    this.watchers.delete(id);
    this.store.remove(w);
    this.push(out({ watchId: id, rev: this.store.rev(), canceled: true }));
    this.watcherSynced();
    return true;
  }

  /**
   * A progress request (etcd 3.5 RequestProgressAll): answered at once when every watcher is
   * synced, else as soon as they are.
   */
  requestProgress(): void {
    if (this.allSynced()) this.push(out({ watchId: noWatchId, rev: this.store.syncedRev() }));
    else this.deferredProgress = true;
  }

  /**
   * The periodic progress tick (etcd v3rpc sendLoop progressTicker): a progress_notify watcher
   * that is synced and was sent no event since the last tick gets an empty response.
   */
  progressTick(): void {
    for (const w of this.watchers.values()) {
      if (!w.opts.progressNotify) continue;
      if (!w.sentSinceTick && this.store.isSynced(w)) this.push(out({ watchId: w.id, rev: this.store.syncedRev() }));
      w.sentSinceTick = false;
    }
  }

  /** Every watcher removed; nothing more is queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.streamClosed();
    for (const w of this.watchers.values()) this.store.remove(w);
    this.watchers.clear();
    this.queue = [];
    this.head = 0;
    this.queuedEvents = 0;
    this.queuedBytes = 0;
  }

  // ---- sending side ----

  /** The next response to send, or undefined. */
  shift(): WatchOut | undefined {
    while (this.head < this.queue.length) {
      const o = this.queue[this.head] as WatchOut;
      this.queue[this.head] = undefined as unknown as WatchOut;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (o.watcher === null) return o;
      const wasFull = !this.hasRoom();
      this.queuedEvents--;
      this.queuedBytes -= eventsBytes(o.events, o.prevKv);
      if (wasFull) this.store.streamHasRoom();
      if (this.watchers.get(o.watcher.id) !== o.watcher) continue; // canceled since
      return o;
    }
    return undefined;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  // ---- called by the store ----

  /** @internal */
  hasRoom(): boolean {
    return this.queuedEvents < this.opts.streamEventsMax && this.queuedBytes < this.opts.streamBytesMax;
  }

  /** @internal Queues an event response; false if the stream is full. */
  offer(w: Watcher, r: { watchId: bigint; rev: bigint; events: Event[] }): boolean {
    if (this.closed) return true;
    if (!this.hasRoom()) return false;
    this.queuedEvents++;
    this.queuedBytes += eventsBytes(r.events, w.opts.prevKv);
    w.sentSinceTick = true;
    // One fixed-shape object per response: this runs once per watcher per revision.
    this.queue.push({
      watchId: r.watchId,
      rev: r.rev,
      events: r.events,
      created: false,
      canceled: false,
      compactRevision: 0n,
      cancelReason: '',
      prevKv: w.opts.prevKv,
      fragment: w.opts.fragment,
      watcher: w,
    });
    this.onReady();
    return true;
  }

  /** @internal The watcher's history is compacted away (etcd chooseAll): canceled. */
  compacted(w: Watcher, compactRev: bigint): void {
    // The id stays taken until the client cancels it, as in etcd's watchStream.
    this.push(out({ watchId: w.id, rev: 0n, canceled: true, compactRevision: compactRev }));
    this.watcherSynced();
  }

  /** @internal A watcher joined the synced group (or left): a deferred progress may be due. */
  watcherSynced(): void {
    if (this.deferredProgress && this.allSynced()) {
      this.deferredProgress = false;
      this.push(out({ watchId: noWatchId, rev: this.store.syncedRev() }));
    }
  }

  private allSynced(): boolean {
    for (const w of this.watchers.values()) if (w.state === 'unsynced') return false;
    return true;
  }

  private push(o: WatchOut): void {
    if (this.closed) return;
    assert(o.watcher === null || o.events.length > 0, 'an event response without events');
    this.queue.push(o);
    this.onReady();
  }
}
