/**
 * The watchable store (etcd mvcc watchable_store.go): watchers over the KV store, in two
 * groups. A *synced* watcher has been given every change up to `notifiedRev` and receives new
 * revisions as they are applied; an *unsynced* watcher is behind (it started in the past,
 * its stream was full, or the store was replaced by a snapshot) and catches up by reading
 * history from MVCC (KvStore.changes) in bounded steps, then joins the synced group.
 *
 * Delivery: the KvStore calls `written(batch, events)` when a write transaction ends, and the
 * events go to synced watchers at once, as etcd notifies at the end of its apply transaction —
 * not when the backend batch lands (the backend gathers writes for up to
 * --backend-batch-interval): an applied entry is committed, durable on a quorum and replayed
 * from the log after a crash, so the change can no longer be lost, and the catch-up of unsynced
 * watchers reads unlanded records from the store's overlay. Transactions end in revision order,
 * so revisions are notified in order. All events of one revision go to a watcher in one response.
 *
 * Bounded memory: a stream (watch-stream.ts) holds at most `streamEventsMax` undelivered event
 * responses and about `streamBytesMax` bytes of them. When a synced watcher's stream is full, the watcher is not given the revision: it
 * moves to the unsynced group at that revision and later re-reads it from MVCC (etcd's victims,
 * without keeping the victim's events in memory). Catch-up reads at most `syncRevsMax`
 * revisions for at most `syncWatchersMax` watchers per step, and only for watchers whose stream
 * has room. A slow consumer therefore costs disk reads, never unbounded memory, and never
 * blocks apply. If a lagging watcher's next revision is compacted away, it is canceled with
 * compact_revision (etcd chooseAll).
 *
 * Invariants (asserted in code, checked by test/unit/mvcc/watchable-store-model.test.ts):
 * - every active watcher is in exactly one of: the synced group, the unsynced set;
 * - a watcher has been given every matching event below minRev and none at or above it;
 * - a synced watcher has minRev > notifiedRev when it joins (so every later revision reaches it
 *   through notify, in order); an unsynced watcher's minRev may lag anywhere behind;
 * - a watcher receives the events of a revision at most once (minRev only grows, and
 *   deliveries below minRev are dropped), in increasing revision order, without gaps;
 * - notifiedRev only grows, and never passes a revision that has not been applied.
 */
import { assert } from '../base/assert.js';
import { EtcdError } from '../api/errors.js';
import { EventType, type Event } from '../api/kv-types.js';
import type { WriteBatch } from '../storage/backend.js';
import type { KvStore } from './kv-store.js';
import { WatchStream, type WatchStreamOptions } from './watch-stream.js';
import { inRange, type Watcher } from './watcher.js';

export { Watcher, type WatcherOptions } from './watcher.js';

/** Revisions read from MVCC per catch-up step (etcd watchBatchMaxRevs). */
export const syncRevsMax = 1000;
/** Unsynced watchers served per catch-up step (etcd maxWatchersPerSync). */
export const syncWatchersMax = 512;

/** What a KvStore calls when a write transaction with changes ends (kv-store.ts). */
export interface KvObserver {
  written(batch: WriteBatch, events: Event[]): void;
}

interface RangeGroup {
  key: Buffer;
  end: Buffer;
  watchers: Set<Watcher>;
}

/** Synced watchers, indexed for matching: single keys by key, ranges grouped by identical range. */
class SyncedGroup {
  readonly singles = new Map<string, Set<Watcher>>();
  readonly ranges = new Map<string, RangeGroup>();
  size = 0;

  add(w: Watcher): void {
    if (w.opts.end === null) {
      const k = w.opts.key.toString('latin1');
      let s = this.singles.get(k);
      if (!s) this.singles.set(k, (s = new Set()));
      s.add(w);
    } else {
      let g = this.ranges.get(w.rangeId);
      if (!g) this.ranges.set(w.rangeId, (g = { key: w.opts.key, end: w.opts.end, watchers: new Set() }));
      g.watchers.add(w);
    }
    this.size++;
  }

  delete(w: Watcher): void {
    if (w.opts.end === null) {
      const k = w.opts.key.toString('latin1');
      const s = this.singles.get(k);
      assert(s?.delete(w) === true, 'synced watcher missing from its key');
      if (s.size === 0) this.singles.delete(k);
    } else {
      const g = this.ranges.get(w.rangeId);
      assert(g?.watchers.delete(w) === true, 'synced watcher missing from its range');
      if (g.watchers.size === 0) this.ranges.delete(w.rangeId);
    }
    this.size--;
  }

  /** Calls fn for every watcher whose range holds key. */
  forKey(key: Buffer, fn: (w: Watcher) => void): void {
    const s = this.singles.get(key.toString('latin1'));
    if (s) for (const w of s) fn(w);
    for (const g of this.ranges.values()) {
      if (inRange(key, g.key, g.end)) for (const w of g.watchers) fn(w);
    }
  }

  *all(): Iterable<Watcher> {
    for (const s of this.singles.values()) yield* s;
    for (const g of this.ranges.values()) yield* g.watchers;
  }
}

/** Default bound of undelivered event responses per stream (etcd's chanBufLen is 128). */
export const streamEventsMaxDefault = 1024;
/** Default bound of the bytes of undelivered event responses per stream. */
export const streamBytesMaxDefault = 16 * 1024 * 1024;

export interface WatchableStoreOptions {
  /** Undelivered event responses a stream may hold before its watchers fall behind. */
  streamEventsMax?: number;
  streamBytesMax?: number;
  /** Revisions read per catch-up step (tests use small windows). */
  syncRevsMax?: number;
}

export class WatchableStore implements KvObserver {
  private kv: KvStore;
  private readonly synced = new SyncedGroup();
  private readonly unsynced = new Set<Watcher>();
  /** Every revision ≤ notifiedRev has been applied and offered to the synced watchers. */
  private notifiedRev: bigint;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private closed = false;
  readonly streamOptions: WatchStreamOptions;
  private readonly syncRevsMax: number;

  private openStreams = 0;

  constructor(kv: KvStore, opts: WatchableStoreOptions = {}) {
    this.kv = kv;
    this.notifiedRev = kv.rev();
    kv.observer = this;
    this.syncRevsMax = opts.syncRevsMax ?? syncRevsMax;
    this.streamOptions = {
      streamEventsMax: opts.streamEventsMax ?? streamEventsMaxDefault,
      streamBytesMax: opts.streamBytesMax ?? streamBytesMaxDefault,
    };
  }

  /** The store's current revision (what a created response's header carries). */
  rev(): bigint {
    return this.kv.rev();
  }

  /** The last revision every synced watcher has been offered (progress notifications). */
  syncedRev(): bigint {
    return this.notifiedRev;
  }

  newStream(): WatchStream {
    this.openStreams++;
    return new WatchStream(this, this.streamOptions);
  }

  /** Watch streams open (etcd_debugging_mvcc_watch_stream_total). */
  streamCount(): number {
    return this.openStreams;
  }

  /** A stream of this store closed (WatchStream.close, once). */
  streamClosed(): void {
    this.openStreams--;
  }

  stats(): { synced: number; unsynced: number; notifiedRev: bigint } {
    return { synced: this.synced.size, unsynced: this.unsynced.size, notifiedRev: this.notifiedRev };
  }

  // ---- called by KvStore ----

  written(_batch: WriteBatch, events: Event[]): void {
    assert(events.length > 0, 'a write transaction without changes notified');
    this.notify((events[0] as Event).kv.mod_revision, events);
  }

  /**
   * The server replaced its KV store (snapshot install, etcd watchableStore.Restore): every
   * synced watcher falls back to catching up from the new store's history.
   */
  restore(kv: KvStore): void {
    this.kv.observer = null;
    this.kv = kv;
    kv.observer = this;
    for (const w of [...this.synced.all()]) {
      this.synced.delete(w);
      if (w.minRev <= this.notifiedRev) w.minRev = this.notifiedRev + 1n;
      w.state = 'unsynced';
      this.unsynced.add(w);
    }
    if (kv.rev() > this.notifiedRev) this.notifiedRev = kv.rev();
    this.kick();
  }

  close(): void {
    this.closed = true;
  }

  // ---- watchers (called by WatchStream) ----

  /** @internal */
  add(w: Watcher): void {
    // etcd watchable_store.watch: synced if it starts after the last revision notified (a
    // revision written but not landed yet reaches it through notify).
    if (w.minRev > this.notifiedRev) {
      w.state = 'synced';
      this.synced.add(w);
    } else {
      w.state = 'unsynced';
      this.unsynced.add(w);
      this.kick();
    }
  }

  /** @internal */
  remove(w: Watcher): void {
    if (w.state === 'synced') this.synced.delete(w);
    else if (w.state === 'unsynced') this.unsynced.delete(w);
    w.state = 'done';
  }

  /** @internal true when the watcher has been given everything up to notifiedRev. */
  isSynced(w: Watcher): boolean {
    return w.state === 'synced';
  }

  /** @internal A stream that was full has room again. */
  streamHasRoom(): void {
    if (this.unsynced.size > 0) this.kick();
  }

  // ---- live notification ----

  private notify(rev: bigint, events: Event[]): void {
    if (rev <= this.notifiedRev) {
      // Only after a restore: the new store's history covers it, and every watcher that was
      // synced then catches up from minRev > notifiedRev, so nobody is owed these events.
      return;
    }
    assert(rev === this.notifiedRev + 1n, `revision ${rev} notified after ${this.notifiedRev}`);
    const batches = new Map<Watcher, Event[]>();
    if (events.length === 1) {
      // The common case: every matching watcher shares the revision's one-event array.
      const ev = events[0] as Event;
      this.synced.forKey(ev.kv.key, (w) => {
        if (rev >= w.minRev && w.wants(ev)) batches.set(w, events);
      });
    } else {
      for (const ev of events) {
        this.synced.forKey(ev.kv.key, (w) => {
          if (rev < w.minRev || !w.wants(ev)) return;
          let b = batches.get(w);
          if (!b) batches.set(w, (b = []));
          b.push(ev);
        });
      }
    }
    this.notifiedRev = rev;
    // Applied puts carry no prev_kv (kv-store txnPut reads no previous record): a watcher that
    // asked for it gets the key at mod_revision − 1, read once per event (etcd sendLoop).
    let withPrev: Map<Event, Event> | null = null;
    for (const [w, evs0] of batches) {
      let evs = evs0;
      if (w.opts.prevKv) {
        withPrev ??= new Map();
        const cache = withPrev;
        evs = evs0.map((ev) => this.withPrevKv(this.kv, ev, cache));
      }
      if (w.stream.offer(w, { watchId: w.id, rev, events: evs })) {
        w.minRev = rev + 1n;
      } else {
        // The stream is full: this watcher re-reads rev from MVCC once there is room.
        this.synced.delete(w);
        w.state = 'unsynced';
        w.minRev = rev;
        this.unsynced.add(w);
      }
    }
    if (batches.size > 0 && this.unsynced.size > 0) this.kick();
  }

  // ---- catch-up ----

  /** Starts (or re-arms) the catch-up loop. */
  kick(): void {
    if (this.closed) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = this.syncLoop();
  }

  /** Resolves once the catch-up loop has nothing it can do (tests). */
  async idle(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  /**
   * Steps until one moves nobody and nothing asked for more. `syncing` is cleared in the same
   * turn as that decision: a kick arriving after it (even before this promise settles) must
   * start a new loop, not set a flag nobody reads any more.
   */
  private async syncLoop(): Promise<void> {
    for (;;) {
      this.syncAgain = false;
      let progressed = false;
      try {
        progressed = await this.syncStep();
      } catch (e) {
        this.syncing = null;
        // A failed read (store closing) leaves the watchers unsynced; the next kick retries.
        if (this.closed) return;
        throw e;
      }
      if (!progressed && !this.syncAgain) {
        this.syncing = null;
        return;
      }
    }
  }

  /** One catch-up step (etcd syncWatchers); true if some watcher moved on. */
  private async syncStep(): Promise<boolean> {
    const kv = this.kv;
    const chosen: Watcher[] = [];
    for (const w of this.unsynced) {
      if (!w.stream.hasRoom()) continue;
      chosen.push(w);
      if (chosen.length >= syncWatchersMax) break;
    }
    if (chosen.length === 0) return false;
    const compactRev = kv.compactRev();
    const curRev = kv.rev();
    let progressed = false;
    let minRev = curRev + 1n;
    const reading: Watcher[] = [];
    for (const w of chosen) {
      if (w.minRev < compactRev) {
        // etcd chooseAll: its history is gone; cancel with the compaction revision.
        this.unsynced.delete(w);
        w.state = 'done';
        w.stream.compacted(w, compactRev);
        progressed = true;
        continue;
      }
      if (w.minRev > this.notifiedRev) {
        // Started in the future (after a restore), or fully caught up by an earlier step.
        this.toSynced(w);
        progressed = true;
        continue;
      }
      reading.push(w);
      if (w.minRev < minRev) minRev = w.minRev;
    }
    if (reading.length === 0) return progressed;
    if (minRev < 1n) minRev = 1n;
    const toRev = minRev + BigInt(this.syncRevsMax) - 1n < curRev ? minRev + BigInt(this.syncRevsMax) - 1n : curRev;
    const changes = await kv.changes(minRev, toRev);
    if (this.kv !== kv || this.closed) return true; // replaced meanwhile: start over
    const withPrev = new Map<Event, Event>();
    for (const w of reading) {
      if (w.state !== 'unsynced') continue; // canceled meanwhile
      if (w.minRev > toRev) {
        // Further ahead than this window: a later step serves it (whatever happens to the
        // watchers this window was read for).
        progressed = true;
        continue;
      }
      const evs: Event[] = [];
      for (const ev of changes) {
        if (ev.kv.mod_revision < w.minRev || !w.matches(ev.kv.key) || !w.wants(ev)) continue;
        evs.push(w.opts.prevKv ? this.withPrevKv(kv, ev, withPrev) : ev);
      }
      if (evs.length > 0 && !w.stream.offer(w, { watchId: w.id, rev: curRev, events: evs })) continue;
      assert(toRev + 1n > w.minRev, 'a catch-up step moves a watcher back');
      w.minRev = toRev + 1n;
      progressed = true;
      // Caught up with what has been notified (perhaps read past it: the notifications still
      // pending below minRev are then dropped for it).
      if (w.minRev > this.notifiedRev) this.toSynced(w);
    }
    return progressed;
  }

  private toSynced(w: Watcher): void {
    assert(w.state === 'unsynced', 'only an unsynced watcher joins the synced group');
    assert(w.minRev > this.notifiedRev, 'a watcher joins the synced group before catching up');
    this.unsynced.delete(w);
    w.state = 'synced';
    this.synced.add(w);
    w.stream.watcherSynced();
  }

  /** etcd v3rpc sendLoop: prev_kv of a non-create event is the key at mod_revision − 1. */
  private withPrevKv(kv: KvStore, ev: Event, cache: Map<Event, Event>): Event {
    if (ev.prev_kv !== null || (ev.type === EventType.PUT && ev.kv.version === 1n)) return ev;
    let out = cache.get(ev);
    if (out) return out;
    let prev = null;
    try {
      prev = kv.range(ev.kv.key, null, { rev: ev.kv.mod_revision - 1n }).kvs[0] ?? null;
    } catch (e) {
      if (!(e instanceof EtcdError)) throw e; // compacted: no prev_kv, as etcd
    }
    out = { type: ev.type, kv: ev.kv, prev_kv: prev };
    cache.set(ev, out);
    return out;
  }
}
