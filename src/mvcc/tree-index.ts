/**
 * The in-memory key → KeyIndex map of the MVCC store, ordered by key bytes for range scans
 * (etcd mvcc index.go keeps a B-tree of keyIndex; this is a sorted list of bounded blocks, which
 * gives O(√n) insertion and O(log n + k) scans with far less code). A point lookup is two binary
 * searches (blocks by their last key, then inside the block): no hash map beside the blocks,
 * which would cost as much memory as the key indexes themselves.
 *
 * Invariants: every KeyIndex is in exactly one block; keys strictly increase across and within
 * blocks; no block is empty; no block holds more than blockKeysMax keys; `count` is the number
 * of keys.
 */
import { assert } from '../base/assert.js';
import { KeyIndex } from './key-index.js';

/** Keys per block before it splits in two. */
export const blockKeysMax = 512;

function id(key: Buffer): string {
  return key.toString('latin1');
}

export class TreeIndex {
  private blocks: KeyIndex[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: Buffer): KeyIndex | undefined {
    return this.find(id(key));
  }

  private find(k: string): KeyIndex | undefined {
    const bi = this.blockFor(k);
    const b = this.blocks[bi];
    if (b === undefined) return undefined;
    const i = TreeIndex.lowerBound(b, k);
    const ki = b[i];
    return ki !== undefined && ki.id === k ? ki : undefined;
  }

  /** The index of the key whose latin1 id is `k`. */
  getById(k: string): KeyIndex | undefined {
    return this.find(k);
  }

  /** The index of key (a Buffer, or its latin1 id), created empty if new. */
  getOrCreate(key: Buffer | string): KeyIndex {
    const k = typeof key === 'string' ? key : id(key);
    const found = this.find(k);
    if (found) return found;
    const ki = new KeyIndex(k);
    this.insertSorted(ki);
    this.count++;
    return ki;
  }

  /**
   * Replaces the whole content by `all` (start-up: building sorted once is much faster than
   * inserting keys in revision order).
   */
  load(all: KeyIndex[]): void {
    const byId = new Map<string, KeyIndex>();
    for (const ki of all) {
      assert(!byId.has(ki.id), 'duplicate key in load');
      byId.set(ki.id, ki);
    }
    this.loadById(byId);
  }

  /** Replaces the content by keys already in strictly increasing id order (a checkpoint). */
  loadSorted(sorted: KeyIndex[]): void {
    for (let i = 1; i < sorted.length; i++) assert((sorted[i - 1] as KeyIndex).id < (sorted[i] as KeyIndex).id, 'keys out of order in loadSorted');
    this.blocks = [];
    const half = blockKeysMax >> 1;
    for (let i = 0; i < sorted.length; i += half) this.blocks.push(sorted.slice(i, i + half));
    this.count = sorted.length;
  }

  /** load() from a map of distinct keys by id (start-up builds one anyway). */
  loadById(byId: Map<string, KeyIndex>): void {
    // Sorting the id strings with the built-in order (UTF-16 code units = bytes for latin1) is
    // several times faster than a comparator over the objects (a million keys at start-up).
    const sorted = [...byId.keys()].sort().map((k) => byId.get(k) as KeyIndex);
    this.blocks = [];
    const half = blockKeysMax >> 1;
    for (let i = 0; i < sorted.length; i += half) this.blocks.push(sorted.slice(i, i + half));
    this.count = sorted.length;
  }

  /** Index of the first block whose last key is ≥ key (blocks.length if none); key as latin1. */
  private blockFor(key: string): number {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = this.blocks[mid] as KeyIndex[];
      if ((b[b.length - 1] as KeyIndex).id < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound(b: KeyIndex[], key: string): number {
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((b[mid] as KeyIndex).id < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertSorted(ki: KeyIndex): void {
    if (this.blocks.length === 0) {
      this.blocks.push([ki]);
      return;
    }
    let bi = this.blockFor(ki.id);
    if (bi === this.blocks.length) bi--; // after every key: append to the last block
    const b = this.blocks[bi] as KeyIndex[];
    b.splice(TreeIndex.lowerBound(b, ki.id), 0, ki);
    if (b.length > blockKeysMax) this.blocks.splice(bi, 1, b.slice(0, b.length >> 1), b.slice(b.length >> 1));
  }

  delete(key: Buffer): void {
    const k = id(key);
    const bi = this.blockFor(k);
    const b = this.blocks[bi];
    if (b === undefined) return;
    const i = TreeIndex.lowerBound(b, k);
    if (i >= b.length || (b[i] as KeyIndex).id !== k) return;
    b.splice(i, 1);
    this.count--;
    if (b.length === 0) this.blocks.splice(bi, 1);
  }

  /**
   * Visits key indexes in [key, end) in key order: end null = the single key, end empty = every
   * key ≥ key. The visitor returns false to stop.
   */
  visit(key: Buffer, end: Buffer | null, fn: (ki: KeyIndex) => boolean): void {
    if (end === null) {
      const ki = this.get(key);
      if (ki) fn(ki);
      return;
    }
    const from = id(key);
    const first = this.blockFor(from);
    // Locate the end once so the scan itself compares no keys.
    let endBlock = this.blocks.length;
    let endAt = 0;
    if (end.length > 0) {
      const to = id(end);
      endBlock = this.blockFor(to);
      if (endBlock < this.blocks.length) endAt = TreeIndex.lowerBound(this.blocks[endBlock] as KeyIndex[], to);
    }
    for (let bi = first; bi <= endBlock && bi < this.blocks.length; bi++) {
      const b = this.blocks[bi] as KeyIndex[];
      const stop = bi === endBlock ? endAt : b.length;
      for (let i = bi === first ? TreeIndex.lowerBound(b, from) : 0; i < stop; i++) {
        if (!fn(b[i] as KeyIndex)) return;
      }
    }
  }

  /** Every key index in key order. */
  *all(): Generator<KeyIndex> {
    for (const b of this.blocks) yield* b;
  }

  /** Compacts every key at rev; drops keys left empty; reports kept revisions. */
  compact(rev: number, keep: (ki: KeyIndex, main: number, sub: number) => void): void {
    let emptied = 0;
    for (const b of this.blocks) {
      for (const ki of b) {
        ki.compact(rev, (main, sub) => keep(ki, main, sub));
        if (ki.isEmpty()) emptied++;
      }
    }
    this.count -= emptied;
    if (emptied === 0) return;
    // Rebuild the blocks once rather than splicing each emptied key out.
    const rest: KeyIndex[] = [];
    for (const b of this.blocks) for (const ki of b) if (!ki.isEmpty()) rest.push(ki);
    const half = blockKeysMax >> 1;
    this.blocks = [];
    for (let i = 0; i < rest.length; i += half) this.blocks.push(rest.slice(i, i + half));
  }
}
