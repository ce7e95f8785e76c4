/**
 * The in-memory key → KeyIndex map of the MVCC store, ordered by key bytes for range scans
 * (etcd mvcc index.go keeps a B-tree of keyIndex; this is a sorted list of bounded blocks, which
 * gives O(√n) insertion and O(log n + k) scans with far less code).
 *
 * Invariants: every KeyIndex is in exactly one block and in `byKey`; keys strictly increase
 * across and within blocks; no block is empty; no block holds more than blockKeysMax keys.
 */
import { assert } from '../base/assert.js';
import { KeyIndex } from './key-index.js';

/** Keys per block before it splits in two. */
export const blockKeysMax = 512;

function id(key: Buffer): string {
  return key.toString('latin1');
}

export class TreeIndex {
  private readonly byKey = new Map<string, KeyIndex>();
  private blocks: KeyIndex[][] = [];

  get size(): number {
    return this.byKey.size;
  }

  get(key: Buffer): KeyIndex | undefined {
    return this.byKey.get(id(key));
  }

  /** The index of key, created empty if new. */
  getOrCreate(key: Buffer): KeyIndex {
    const k = id(key);
    let ki = this.byKey.get(k);
    if (ki) return ki;
    ki = new KeyIndex(Buffer.from(key));
    this.byKey.set(k, ki);
    this.insertSorted(ki);
    return ki;
  }

  /**
   * Replaces the whole content by `all` (start-up: building sorted once is much faster than
   * inserting keys in revision order).
   */
  load(all: KeyIndex[]): void {
    this.byKey.clear();
    const sorted = [...all].sort((a, b) => Buffer.compare(a.key, b.key));
    this.blocks = [];
    const half = blockKeysMax >> 1;
    for (let i = 0; i < sorted.length; i += half) this.blocks.push(sorted.slice(i, i + half));
    for (const ki of sorted) {
      assert(!this.byKey.has(id(ki.key)), 'duplicate key in load');
      this.byKey.set(id(ki.key), ki);
    }
  }

  /** Index of the first block whose last key is ≥ key (blocks.length if none). */
  private blockFor(key: Buffer): number {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = this.blocks[mid] as KeyIndex[];
      if (Buffer.compare((b[b.length - 1] as KeyIndex).key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound(b: KeyIndex[], key: Buffer): number {
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare((b[mid] as KeyIndex).key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertSorted(ki: KeyIndex): void {
    if (this.blocks.length === 0) {
      this.blocks.push([ki]);
      return;
    }
    let bi = this.blockFor(ki.key);
    if (bi === this.blocks.length) bi--; // after every key: append to the last block
    const b = this.blocks[bi] as KeyIndex[];
    b.splice(TreeIndex.lowerBound(b, ki.key), 0, ki);
    if (b.length > blockKeysMax) this.blocks.splice(bi, 1, b.slice(0, b.length >> 1), b.slice(b.length >> 1));
  }

  delete(key: Buffer): void {
    const k = id(key);
    if (!this.byKey.delete(k)) return;
    const bi = this.blockFor(key);
    const b = this.blocks[bi];
    assert(b !== undefined, 'deleted key not in any block');
    const i = TreeIndex.lowerBound(b, key);
    assert(i < b.length && (b[i] as KeyIndex).key.equals(key), 'deleted key not in its block');
    b.splice(i, 1);
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
    const first = this.blockFor(key);
    for (let bi = first; bi < this.blocks.length; bi++) {
      const b = this.blocks[bi] as KeyIndex[];
      for (let i = bi === first ? TreeIndex.lowerBound(b, key) : 0; i < b.length; i++) {
        const ki = b[i] as KeyIndex;
        if (end.length > 0 && Buffer.compare(ki.key, end) >= 0) return;
        if (!fn(ki)) return;
      }
    }
  }

  /** Every key index in key order. */
  *all(): Generator<KeyIndex> {
    for (const b of this.blocks) yield* b;
  }

  /** Compacts every key at rev; drops keys left empty; reports kept revisions. */
  compact(rev: bigint, keep: (ki: KeyIndex, main: bigint, sub: bigint) => void): void {
    const emptied: Buffer[] = [];
    for (const b of this.blocks) {
      for (const ki of b) {
        ki.compact(rev, (r) => keep(ki, r.main, r.sub));
        if (ki.isEmpty()) emptied.push(ki.key);
      }
    }
    if (emptied.length === 0) return;
    // Rebuild the blocks once rather than splicing each emptied key out.
    const gone = new Set(emptied.map(id));
    for (const k of gone) this.byKey.delete(k);
    const rest: KeyIndex[] = [];
    for (const b of this.blocks) for (const ki of b) if (!gone.has(id(ki.key))) rest.push(ki);
    const half = blockKeysMax >> 1;
    this.blocks = [];
    for (let i = 0; i < rest.length; i += half) this.blocks.push(rest.slice(i, i + half));
  }
}
