/**
 * A Map bounded to `max` entries — or, given `weigh`, to a total weight of `max` (the MVCC record
 * cache bounds bytes) — that evicts by CLOCK (second chance), every step O(1) amortized whatever
 * the number of deletes: for caches and token tables at a size cap.
 *
 * Why not a Map used as a FIFO/LRU (evict `map.keys().next()`): V8's Map keeps deleted slots
 * until it rehashes, and finding the first live entry walks over them, so with many deletes each
 * eviction walks every hole left since the last rehash (the MVCC record cache had exactly this
 * bug; see mvcc/record-store.ts). Here `queue` is a FIFO of slots in an array read from `head`:
 * eviction takes the oldest live slot, giving one that was read since it was queued another
 * round. A delete only drops the slot from `map`; the queue forgets it lazily (a slot is live
 * iff `map` still holds that very slot object).
 *
 * Cost: a dead slot is skipped once (paid by its delete), a referenced slot is requeued once
 * per get that marked it, and the queue is compacted when its dead part outgrows the live part,
 * so `queueLength` ≤ 2 × size + queueSlackSlots.
 *
 * Invariants: weight ≤ max after every set; weight is the
 * sum of the live entries' weights (each 1 without `weigh`); every live slot is in `queue` (from
 * `head` on) exactly once.
 */
import { assert } from './assert.js';

/** Dead slots tolerated in the queue beyond the live ones before it is compacted. */
export const queueSlackSlots = 1024;

interface Slot<K, V> {
  readonly key: K;
  value: V;
  weight: number;
  /** Read since it was (re)queued: spared once by eviction. */
  ref: boolean;
}

export class ClockMap<K, V> {
  private readonly map = new Map<K, Slot<K, V>>();
  /** From `head` on: slots oldest first (a consumed slot is cleared so it can be collected). */
  private queue: (Slot<K, V> | undefined)[] = [];
  private head = 0;
  /** Queue slots looked at by eviction and compaction (for the counted-operations test). */
  visits = 0;
  private total = 0;

  /**
   * `onEvict` is called for entries evicted at the cap (not for delete/clear). `weigh`: an
   * entry's weight (default 1), so that `max` bounds the total weight instead of the count.
   */
  constructor(
    readonly max: number,
    private readonly onEvict?: (key: K, value: V) => void,
    private readonly weigh?: (value: V) => number,
  ) {
    assert(Number.isInteger(max) && max >= 0, `ClockMap max ${max}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** Total weight of the entries (their count without `weigh`). */
  get weight(): number {
    return this.total;
  }

  /** Slots in the eviction queue, live and dead (bounded: see the header). */
  get queueLength(): number {
    return this.queue.length - this.head;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The value, marking the entry used (eviction spares it once). */
  get(key: K): V | undefined {
    const s = this.map.get(key);
    if (s === undefined) return undefined;
    s.ref = true;
    return s.value;
  }

  /** The value without marking the entry used. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /**
   * Adds or replaces; a new key at the cap first evicts entries until it fits. An entry heavier
   * than `max` on its own is not kept (a cache of max 0 keeps nothing).
   */
  set(key: K, value: V): void {
    const w = this.weigh === undefined ? 1 : this.weigh(value);
    if (w > this.max) {
      this.delete(key);
      return;
    }
    const old = this.map.get(key);
    if (old !== undefined) {
      this.total += w - old.weight;
      old.value = value;
      old.weight = w;
      old.ref = true;
      return;
    }
    while (this.map.size > 0 && this.total + w > this.max) this.evictOne();
    const s: Slot<K, V> = { key, value, weight: w, ref: false };
    this.map.set(key, s);
    this.queue.push(s);
    this.total += w;
  }

  delete(key: K): boolean {
    const s = this.map.get(key);
    if (s === undefined) return false;
    this.map.delete(key);
    this.total -= s.weight;
    this.compactIfSparse();
    return true;
  }

  clear(): void {
    this.map.clear();
    this.queue = [];
    this.head = 0;
    this.total = 0;
  }

  /** Live entries, in no particular order (deleting the current one while iterating is fine). */
  *entries(): IterableIterator<[K, V]> {
    for (const [k, s] of this.map) yield [k, s.value];
  }

  private evictOne(): void {
    for (;;) {
      assert(this.head < this.queue.length, 'ClockMap: a live entry is missing from the queue');
      const s = this.queue[this.head] as Slot<K, V>;
      this.queue[this.head] = undefined;
      this.head++;
      this.visits++;
      if (this.map.get(s.key) !== s) continue; // deleted since it was queued
      if (s.ref) {
        s.ref = false;
        this.queue.push(s);
        continue;
      }
      this.map.delete(s.key);
      this.total -= s.weight;
      this.onEvict?.(s.key, s.value);
      break;
    }
    this.compactIfSparse();
  }

  /** Drops the consumed prefix and the dead slots once they outnumber the live ones. */
  private compactIfSparse(): void {
    const len = this.queue.length - this.head;
    if (len <= 2 * this.map.size + queueSlackSlots) {
      // Few dead slots: only drop the consumed prefix once it is most of the array.
      if (this.head > queueSlackSlots && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return;
    }
    const live: Slot<K, V>[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const s = this.queue[i] as Slot<K, V>;
      this.visits++;
      if (this.map.get(s.key) === s) live.push(s);
    }
    this.queue = live;
    this.head = 0;
  }
}
