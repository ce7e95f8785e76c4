/**
 * Reads and writes of MVCC records (the value of a key at one revision).
 *
 * Why an overlay: apply adds records to the server's WriteBatch, and the batch is committed to
 * classic-level only after the whole apply round; reads in between (the rest of the round, a
 * serializable read) must already see them. Records live in `overlay` from the write until
 * their batch lands, then move to a small cache; everything else is read synchronously
 * from classic-level (getSync). Memory is therefore bounded by the uncommitted records of the
 * rounds in flight plus `cacheBytesMax`, whatever the size of the store; only the key index
 * (keys and revisions, no values) is held whole, as etcd holds its treeIndex.
 *
 * Invariants: a record id is in at most one of overlay / cache; an overlay record's batch has
 * not landed yet; records are immutable, so a cached copy never goes stale (compaction only
 * removes records that no read asks for any more).
 *
 * The cache is a ClockMap bounded in bytes (base/clock-map.ts: CLOCK eviction, every step O(1)).
 * It replaced a Map used as an LRU (delete + set on every read, evict the Map's first entry):
 * V8's Map keeps deleted slots until it rehashes, and finding the first live entry walks over
 * them, so with ~50 000 cached records each eviction walked tens of thousands of holes — CPU per
 * put doubled after the first 50 000 puts (perf.py drift, b/b2).
 */
import { assert } from '../base/assert.js';
import { ClockMap } from '../base/clock-map.js';
import type { KeyValue } from '../api/kv-types.js';
import type { Backend, WriteBatch } from '../storage/backend.js';
import { isTombstoneKey, mvccKeyFloor, mvccKeyN, mvccMainOf, mvccSubOf } from '../storage/schema.js';
import { decodeKv, encodeKv } from './kv-codec.js';
import { revKey, type RevKey } from './revision.js';

/**
 * Default bytes of committed records kept decoded in memory: a small hot set (recently written
 * and read records); everything else is one synchronous LevelDB read away (its own block
 * cache). etcd keeps no decoded copies at all, and memory per key is what issue 11 measures.
 */
export const recordCacheBytesDefault = 16 * 1024 * 1024;
/** Rough per-record cost of a cached KeyValue beyond its key and value bytes. */
const recordOverheadBytes = 160;

const emptyBuf = Buffer.alloc(0);

function sizeOf(kv: KeyValue): number {
  return kv.key.length + kv.value.length + recordOverheadBytes;
}

/** One stored change: a put (kv) or a tombstone (kv holds the key and the delete revision). */
export interface StoredChange {
  main: number;
  sub: number;
  tombstone: boolean;
  kv: KeyValue;
}

function compareChange(a: StoredChange, b: StoredChange): number {
  if (a.main !== b.main) return a.main < b.main ? -1 : 1;
  return a.sub < b.sub ? -1 : a.sub > b.sub ? 1 : 0;
}

export class RecordStore {
  /** Records whose batch has not landed, puts and tombstones, by revKey. */
  private readonly overlay = new Map<RevKey, StoredChange>();
  /** Landed records kept decoded, bounded in bytes (sizeOf). */
  private readonly cache: ClockMap<RevKey, KeyValue>;
  private readonly pendingByBatch = new WeakMap<WriteBatch, RevKey[]>();

  constructor(
    private readonly backend: Backend,
    cacheBytesMax: number = recordCacheBytesDefault,
  ) {
    this.cache = new ClockMap(cacheBytesMax, undefined, sizeOf);
  }

  /** The backend the records live in. */
  backendOf(): Backend {
    return this.backend;
  }

  /** Adds a put record to batch; get() sees it at once. */
  putRecord(batch: WriteBatch, main: number, sub: number, kv: KeyValue): void {
    const id = revKey(main, sub);
    assert(!this.overlay.has(id), `record ${main}/${sub} written twice`);
    this.overlay.set(id, { main, sub, tombstone: false, kv });
    batch.put(mvccKeyN(main, sub, false), encodeKv(kv));
    this.track(batch, id);
  }

  /** Adds a tombstone record to batch (get() never asks for it: the index knows it is a delete). */
  putTombstone(batch: WriteBatch, main: number, sub: number, key: Buffer, modRevision: bigint): void {
    const id = revKey(main, sub);
    assert(!this.overlay.has(id), `record ${main}/${sub} written twice`);
    const tomb: KeyValue = { key, create_revision: 0n, mod_revision: modRevision, version: 0n, value: emptyBuf, lease: 0n };
    this.overlay.set(id, { main, sub, tombstone: true, kv: tomb });
    batch.put(mvccKeyN(main, sub, true), encodeKv(tomb));
    this.track(batch, id);
  }

  private track(batch: WriteBatch, id: RevKey): void {
    let ids = this.pendingByBatch.get(batch);
    if (!ids) {
      const list: RevKey[] = [];
      ids = list;
      this.pendingByBatch.set(batch, list);
      batch.onCommitted(() => this.settle(list));
    }
    ids.push(id);
  }

  private settle(ids: RevKey[]): void {
    for (const id of ids) {
      const c = this.overlay.get(id);
      assert(c !== undefined, `settled record ${id} missing from the overlay`);
      this.overlay.delete(id);
      if (!c.tombstone) this.cache.set(id, c.kv);
    }
  }

  /** The put record at (main, sub); it must exist (the index said so). */
  get(main: number, sub: number): KeyValue {
    const id = revKey(main, sub);
    const o = this.overlay.get(id);
    if (o) {
      assert(!o.tombstone, `record ${id} is a tombstone`);
      return o.kv;
    }
    const c = this.cache.get(id);
    if (c) return c;
    const raw = this.backend.getSync(mvccKeyN(main, sub, false));
    assert(raw !== undefined, `MVCC record ${id} missing from the database`);
    const kv = decodeKv(raw);
    this.cache.set(id, kv);
    return kv;
  }

  /**
   * Every change with main revision in [fromRev, toRev], in revision order, landed or not (for
   * watchers catching up, as etcd's syncWatchers reads revisions from the backend). The caller
   * bounds the window. The overlay is copied in the same turn the database iterator takes its
   * snapshot, so a batch landing meanwhile is seen exactly once.
   */
  async changes(fromRev: bigint, toRev: bigint): Promise<StoredChange[]> {
    const out: StoredChange[] = [];
    if (toRev < fromRev) return out;
    const from = Number(fromRev);
    const to = Number(toRev);
    const seen = new Set<RevKey>();
    for (const c of this.overlay.values()) {
      if (c.main >= from && c.main <= to) {
        out.push(c);
        seen.add(revKey(c.main, c.sub));
      }
    }
    for await (const [k, v] of this.backend.scan(mvccKeyFloor(fromRev), mvccKeyFloor(toRev + 1n))) {
      const main = mvccMainOf(k);
      const sub = mvccSubOf(k);
      if (!seen.has(revKey(main, sub))) out.push({ main, sub, tombstone: isTombstoneKey(k), kv: decodeKv(v) });
    }
    return out.sort(compareChange);
  }

  stats(): { overlayRecords: number; cacheRecords: number; cacheBytes: number } {
    return { overlayRecords: this.overlay.size, cacheRecords: this.cache.size, cacheBytes: this.cache.weight };
  }
}
