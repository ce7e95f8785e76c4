/**
 * The in-memory index of the MVCC store: for every key, its retained records in revision order,
 * and the keys in byte order for range scans (etcd keeps a B-tree of keyIndex; this is the same
 * idea with a sorted array, enough for the store sizes the quota allows; see kv-store.ts).
 *
 * A record is a put (with its KeyValue) or a tombstone (null). Tombstones end a generation: the
 * next put creates the key again (create_revision = its revision, version 1).
 *
 * Invariants: records of a key are strictly increasing in (main, sub); `sorted` holds exactly the
 * keys of `byKey`, in strictly increasing byte order; a key has at least one record.
 */
import { assert } from '../base/assert.js';
import { compareBytes } from '../base/bytes.js';
import type { KeyValue } from '../api/kv-types.js';

export interface Rec {
  main: bigint;
  sub: bigint;
  kv: KeyValue | null;
}

export interface KeyEntry {
  key: Buffer;
  recs: Rec[];
}

function id(key: Buffer): string {
  return key.toString('latin1');
}

export class KeyIndex {
  private readonly byKey = new Map<string, KeyEntry>();
  private sorted: KeyEntry[] = [];

  get size(): number {
    return this.byKey.size;
  }

  get(key: Buffer): KeyEntry | undefined {
    return this.byKey.get(id(key));
  }

  /** Appends a record for key; creates the key entry if needed. */
  append(key: Buffer, rec: Rec): void {
    let e = this.byKey.get(id(key));
    if (!e) {
      e = { key, recs: [] };
      this.byKey.set(id(key), e);
      const at = this.lowerBound(key);
      this.sorted.splice(at, 0, e);
    }
    const last = e.recs[e.recs.length - 1];
    assert(!last || last.main < rec.main || (last.main === rec.main && last.sub < rec.sub), 'records out of order');
    e.recs.push(rec);
  }

  /** Index of the first key ≥ key in sorted order. */
  private lowerBound(key: Buffer): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes((this.sorted[mid] as KeyEntry).key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Visits key entries in [key, end) in byte order: end null = the single key, end empty = every
   * key ≥ key. The visitor returns false to stop.
   */
  visit(key: Buffer, end: Buffer | null, fn: (e: KeyEntry) => boolean): void {
    if (end === null) {
      const e = this.get(key);
      if (e) fn(e);
      return;
    }
    for (let i = this.lowerBound(key); i < this.sorted.length; i++) {
      const e = this.sorted[i] as KeyEntry;
      if (end.length > 0 && compareBytes(e.key, end) >= 0) break;
      if (!fn(e)) break;
    }
  }

  /**
   * Drops every record not needed to read at revisions ≥ rev: for each key, the records before
   * the last one at or below rev, and that one too if it is a tombstone. Returns the dropped
   * records (for physical deletion). Keys left without records are removed.
   */
  compact(rev: bigint): { key: Buffer; rec: Rec }[] {
    const dropped: { key: Buffer; rec: Rec }[] = [];
    const keep: KeyEntry[] = [];
    for (const e of this.sorted) {
      let last = -1;
      for (let i = 0; i < e.recs.length; i++) {
        if ((e.recs[i] as Rec).main <= rev) last = i;
        else break;
      }
      let cut = last; // records before `cut` are dropped
      if (last >= 0 && (e.recs[last] as Rec).kv === null) cut = last + 1;
      for (let i = 0; i < cut; i++) dropped.push({ key: e.key, rec: e.recs[i] as Rec });
      if (cut > 0) e.recs = e.recs.slice(cut);
      if (e.recs.length > 0) keep.push(e);
      else this.byKey.delete(id(e.key));
    }
    this.sorted = keep;
    return dropped;
  }
}

/** The record visible at revision rev (the last one with main ≤ rev), if it is a put. */
export function visibleAt(e: KeyEntry, rev: bigint): KeyValue | null {
  for (let i = e.recs.length - 1; i >= 0; i--) {
    const r = e.recs[i] as Rec;
    if (r.main <= rev) return r.kv;
  }
  return null;
}
