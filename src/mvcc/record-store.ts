/**
 * Reads and writes of MVCC records (the value of a key at one revision).
 *
 * Why an overlay: apply adds records to the server's WriteBatch, and the batch is committed to
 * classic-level only after the whole apply round; reads in between (the rest of the round, a
 * serializable read) must already see them. Records live in `overlay` from the write until
 * their batch lands, then move to a small LRU cache; everything else is read synchronously
 * from classic-level (getSync). Memory is therefore bounded by the uncommitted records of the
 * rounds in flight plus `cacheBytesMax`, whatever the size of the store; only the key index
 * (keys and revisions, no values) is held whole, as etcd holds its treeIndex.
 *
 * Invariants: a record id is in at most one of overlay / cache; an overlay record's batch has
 * not landed yet; records are immutable, so a cached copy never goes stale (compaction only
 * removes records that no read asks for any more).
 */
import { assert } from '../base/assert.js';
import type { KeyValue } from '../api/kv-types.js';
import type { Backend, WriteBatch } from '../storage/backend.js';
import { mvccKey } from '../storage/schema.js';
import { decodeKv, encodeKv } from './kv-codec.js';
import { revId } from './revision.js';

/** Default bytes of committed records kept decoded in memory. */
export const recordCacheBytesDefault = 64 * 1024 * 1024;
/** Rough per-record cost of a cached KeyValue beyond its key and value bytes. */
const recordOverheadBytes = 160;

function sizeOf(kv: KeyValue): number {
  return kv.key.length + kv.value.length + recordOverheadBytes;
}

export class RecordStore {
  private readonly overlay = new Map<string, KeyValue>();
  private readonly cache = new Map<string, KeyValue>();
  private cacheBytes = 0;
  private readonly pendingByBatch = new WeakMap<WriteBatch, string[]>();

  constructor(
    private readonly backend: Backend,
    private readonly cacheBytesMax: number = recordCacheBytesDefault,
  ) {}

  /** Adds a put record to batch; get() sees it at once. */
  putRecord(batch: WriteBatch, main: bigint, sub: bigint, kv: KeyValue): void {
    const id = revId(main, sub);
    assert(!this.overlay.has(id), `record ${id} written twice`);
    this.overlay.set(id, kv);
    batch.put(mvccKey(main, sub, false), encodeKv(kv));
    this.track(batch, id);
  }

  /** Adds a tombstone record to batch (never read back: the index knows it is a delete). */
  putTombstone(batch: WriteBatch, main: bigint, sub: bigint, key: Buffer): void {
    const tomb: KeyValue = { key, create_revision: 0n, mod_revision: main, version: 0n, value: Buffer.alloc(0), lease: 0n };
    batch.put(mvccKey(main, sub, true), encodeKv(tomb));
  }

  private track(batch: WriteBatch, id: string): void {
    let ids = this.pendingByBatch.get(batch);
    if (!ids) {
      const list: string[] = [];
      ids = list;
      this.pendingByBatch.set(batch, list);
      batch.onCommitted(() => this.settle(list));
    }
    ids.push(id);
  }

  private settle(ids: string[]): void {
    for (const id of ids) {
      const kv = this.overlay.get(id);
      assert(kv !== undefined, `settled record ${id} missing from the overlay`);
      this.overlay.delete(id);
      this.remember(id, kv);
    }
  }

  private remember(id: string, kv: KeyValue): void {
    const old = this.cache.get(id);
    if (old) {
      this.cache.delete(id);
      this.cacheBytes -= sizeOf(old);
    }
    this.cache.set(id, kv);
    this.cacheBytes += sizeOf(kv);
    while (this.cacheBytes > this.cacheBytesMax && this.cache.size > 0) {
      const [oldest, v] = this.cache.entries().next().value as [string, KeyValue];
      this.cache.delete(oldest);
      this.cacheBytes -= sizeOf(v);
    }
  }

  /** The put record at (main, sub); it must exist (the index said so). */
  get(main: bigint, sub: bigint): KeyValue {
    const id = revId(main, sub);
    const o = this.overlay.get(id);
    if (o) return o;
    const c = this.cache.get(id);
    if (c) {
      // refresh its place in the LRU order
      this.cache.delete(id);
      this.cache.set(id, c);
      return c;
    }
    const raw = this.backend.getSync(mvccKey(main, sub, false));
    assert(raw !== undefined, `MVCC record ${id} missing from the database`);
    const kv = decodeKv(raw);
    this.remember(id, kv);
    return kv;
  }

  stats(): { overlayRecords: number; cacheRecords: number; cacheBytes: number } {
    return { overlayRecords: this.overlay.size, cacheRecords: this.cache.size, cacheBytes: this.cacheBytes };
  }
}
