/**
 * A binary min-heap of (lease id, time) items: the lessor's expiry queue and checkpoint queue
 * (etcd lease/lease_queue.go plays this role). Pushing is O(log n), the earliest item is found
 * in O(1), so the lessor never scans every lease per tick.
 *
 * Items are never updated in place: a lease whose time changes gets a new item, and the old
 * one is recognised as stale when it surfaces (its time no longer matches the lease's). The
 * heap is therefore bounded by compaction: when stale items outnumber live ones the owner
 * rebuilds it (`rebuild`).
 *
 * Invariant: for every index i > 0, items[parent(i)].at ≤ items[i].at (checked by `check`).
 */
import { assert } from '../base/assert.js';

export interface TimeItem {
  id: bigint;
  /** Milliseconds on the lessor's clock. */
  at: number;
}

export class TimeHeap {
  private items: TimeItem[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: TimeItem): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as TimeItem).at <= item.at) break;
      a[i] = a[p] as TimeItem;
      i = p;
    }
    a[i] = item;
  }

  peek(): TimeItem | undefined {
    return this.items[0];
  }

  pop(): TimeItem | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (a[r] as TimeItem).at < (a[l] as TimeItem).at ? r : l;
      if ((a[c] as TimeItem).at >= last.at) break;
      a[i] = a[c] as TimeItem;
      i = c;
    }
    a[i] = last;
    return top;
  }

  clear(): void {
    this.items = [];
  }

  /** Keeps only the items for which live(item) holds (drops stale ones), in O(n). */
  rebuild(live: (item: TimeItem) => boolean): void {
    const kept = this.items.filter(live);
    kept.sort((x, y) => x.at - y.at); // a sorted array is a valid heap
    this.items = kept;
  }

  /** Test aid: asserts the heap property. */
  check(): void {
    const a = this.items;
    for (let i = 1; i < a.length; i++) {
      assert((a[(i - 1) >> 1] as TimeItem).at <= (a[i] as TimeItem).at, `heap property broken at ${i}`);
    }
  }
}
