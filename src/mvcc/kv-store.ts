/**
 * The MVCC key-value store (etcd mvcc kvstore.go): every change gets a revision; reads at any
 * revision not compacted away; compaction drops history below a revision.
 *
 * Layout: the key index (tree-index.ts, key-index.ts: keys and revisions, no values) is in
 * memory and rebuilt at open by scanning the revision records, as etcd rebuilds its treeIndex
 * from bbolt. Values live in classic-level under their revision (schema.ts mvccKey) and are
 * read synchronously; records not yet committed are served from an overlay (record-store.ts),
 * so a write is visible as soon as its transaction ends, before the apply batch lands.
 * Reads are synchronous, which keeps apply synchronous and deterministic.
 *
 * Invariants:
 * - a fresh store is at revision 1; a write transaction with at least one change consumes
 *   exactly one main revision (currentRev + 1), its changes numbered by sub revision from 0; a
 *   transaction without changes consumes none; at most one write transaction is open;
 * - compactRev ≤ currentRev; reads at rev < compactRev fail with Compacted, at rev > currentRev
 *   with FutureRev (etcd rangeKeys);
 * - every revision in the index has its record in the database or in the overlay;
 * - the scheduled compaction revision is written in the same batch as the compaction's
 *   index change; its physical phase (compactor.ts) starts once that batch has landed.
 */
import { assert } from '../base/assert.js';
import { EtcdError, Errors } from '../api/errors.js';
import { EventType, type Event, type KeyValue } from '../api/kv-types.js';
import { Backend, WriteBatch } from '../storage/backend.js';
import { isTombstoneKey, metaKey, mvccKeyN, mvccMainOf, mvccSubOf, prefix, prefixUpper } from '../storage/schema.js';
import type { Disk } from '../storage/disk.js';
import { writeIndexCheckpoint, type IndexSnapshot } from './index-checkpoint.js';
import { Compactor, compactionBatchLimitDefault } from './compactor.js';
import { peekKv, type KvPeek } from './kv-codec.js';
import { KeyIndex } from './key-index.js';
import { RecordStore, recordCacheBytesDefault } from './record-store.js';
import { revKey, type RevKey } from './revision.js';
import { TreeIndex } from './tree-index.js';
import type { KvObserver } from './watchable-store.js';

export { compactionBatchLimitDefault as compactionBatchLimit } from './compactor.js';

/** What the store needs from the lessor (lease/): etcd's lease.Lessor Lookup/Attach/Detach. */
export interface LeaseHooks {
  exists(id: bigint): boolean;
  attach(id: bigint, key: Buffer): void;
  detach(id: bigint, key: Buffer): void;
  /** Every key with a lease, by latin1 key id (index checkpoints). */
  attachedKeys?(): Map<string, bigint>;
  /** The lease a key (latin1 id) is attached to, 0n if none (a put detaches it). */
  leaseOf(keyId: string): bigint;
}

/** Hooks for a server without leases: no lease exists. */
export const noLeases: LeaseHooks = {
  exists: () => false,
  attach: () => undefined,
  detach: () => undefined,
  leaseOf: () => 0n,
};

export interface KvStoreOptions {
  leases?: LeaseHooks;
  /** Bytes of committed records kept decoded in memory. */
  cacheBytesMax?: number;
  /** Keys deleted per physical compaction commit (etcd --experimental-compaction-batch-limit). */
  compactionBatchLimit?: number;
  /** A later turn (Runtime.soon; default setImmediate). */
  soon?: (fn: () => void) => void;
  /** A trusted key index checkpoint (index-checkpoint.ts): only later records are read. */
  checkpoint?: IndexSnapshot | null;
}

export interface RangeOptions {
  /** ≤ 0: the current revision. */
  rev?: bigint;
  /** ≤ 0: no limit. */
  limit?: number;
  /** Count only; return no key-values. */
  countOnly?: boolean;
}

export interface RangeResult {
  /** Up to `limit` key-values in key order. Shared, immutable: never mutate them. */
  kvs: KeyValue[];
  /** Keys in the range at the read revision, whatever the limit. */
  count: number;
  /** The store's (or transaction's) current revision, as etcd's RangeResult.Rev. */
  rev: bigint;
}

const emptyBuf = Buffer.alloc(0);

export class KvStore {
  private readonly index = new TreeIndex();
  private readonly records: RecordStore;
  private readonly compactor: Compactor;
  private currentRev = 1n;
  private compactMainRev = -1n;
  private txnOpen = false;
  leases: LeaseHooks;
  /** How open() built the key index (tests, the start-up log). */
  restoredFrom: 'checkpoint' | 'scan' = 'scan';
  /** Told of every write transaction with changes (the watchable store). */
  observer: KvObserver | null = null;

  private constructor(backend: Backend, opts: KvStoreOptions) {
    this.records = new RecordStore(backend, opts.cacheBytesMax ?? recordCacheBytesDefault);
    this.compactor = new Compactor(backend, opts.compactionBatchLimit ?? compactionBatchLimitDefault, opts.soon);
    this.leases = opts.leases ?? noLeases;
  }

  /**
   * Opens the store: rebuilds the key index from the revision records, restores the current
   * and compacted revisions, re-attaches leased keys and resumes an unfinished compaction.
   */
  static async open(backend: Backend, opts: KvStoreOptions = {}): Promise<KvStore> {
    const s = new KvStore(backend, opts);
    // A compaction scheduled past the checkpoint may have removed records after it, so the
    // records read after it would not continue its histories: then read everything.
    const scheduledAtOpen = backend.getU64(metaKey.scheduledCompactRev);
    const usable = opts.checkpoint && (scheduledAtOpen === undefined || scheduledAtOpen <= BigInt(opts.checkpoint.revision));
    const ckpt = usable ? (opts.checkpoint ?? null) : null;
    s.restoredFrom = ckpt !== null ? 'checkpoint' : 'scan';
    // Without a checkpoint every record is read and the index built in a map, then sorted;
    // with one, the index is the checkpoint's and only records after its revision are read.
    const keys = new Map<string, KeyIndex>();
    const leased = new Map<string, bigint>(ckpt?.leases ?? []);
    let maxMain = 1;
    let from: Buffer = prefix.mvcc;
    if (ckpt !== null) {
      s.index.loadSorted(ckpt.keys);
      maxMain = Math.max(1, ckpt.revision);
      from = mvccKeyN(ckpt.revision + 1, 0, false);
    }
    const kv: KvPeek = { key: '', createMain: 0, version: 0, lease: 0n };
    for await (const [k, v] of backend.entries(from, prefixUpper(prefix.mvcc))) {
      const main = mvccMainOf(k);
      const sub = mvccSubOf(k);
      peekKv(v, kv);
      const id = kv.key; // latin1, = KeyIndex.id
      if (main > maxMain) maxMain = main;
      let ki = ckpt !== null ? s.index.getById(id) : keys.get(id);
      if (isTombstoneKey(k)) {
        leased.delete(id);
        // A tombstone without a live generation: an interrupted physical compaction removed
        // the puts before it; it is ≤ the scheduled compaction and is removed when that resumes.
        if (ki?.isLive()) ki.tombstone(main, sub);
        continue;
      }
      if (!ki) {
        if (ckpt !== null) ki = s.index.getOrCreate(id);
        else {
          ki = new KeyIndex(id);
          keys.set(id, ki);
        }
      }
      if (ki.isLive()) {
        ki.put(main, sub);
        assert(ki.get(main)?.version === kv.version, `version of record ${main}/${sub} disagrees with the index`);
      } else {
        // First record of a generation whose start may be compacted away (etcd keyIndex.restore).
        ki.restore(kv.createMain, 0, main, sub, kv.version);
      }
      if (kv.lease !== 0n) leased.set(id, kv.lease);
      else leased.delete(id);
    }
    if (ckpt === null) s.index.loadById(keys);
    keys.clear();
    s.currentRev = BigInt(maxMain);
    const scheduled = backend.getU64(metaKey.scheduledCompactRev);
    const finished = backend.getU64(metaKey.finishedCompactRev);
    if (scheduled !== undefined) {
      s.compactMainRev = scheduled;
      // Everything up to the compaction may have been deleted (etcd restore does the same).
      if (scheduled > s.currentRev) s.currentRev = scheduled;
      const keep = s.compactIndex(scheduled);
      if (finished !== scheduled) {
        s.compactor.enqueue({ rev: scheduled, keep, resolve: () => undefined, reject: () => undefined });
      }
    }
    for (const [id, lease] of leased) s.leases.attach(lease, Buffer.from(id, 'latin1'));
    return s;
  }

  rev(): bigint {
    return this.currentRev;
  }

  /**
   * Writes a checkpoint of the key index (index-checkpoint.ts). The caller has stopped writes
   * and drained the backend: every record up to rev() has landed.
   */
  async writeCheckpoint(file: string, disk?: Disk, id?: Buffer): Promise<number> {
    assert(!this.txnOpen, 'checkpoint inside a write transaction');
    const leases = this.leases.attachedKeys?.() ?? new Map<string, bigint>();
    return writeIndexCheckpoint(file, this.records.backendOf(), this.index.all(), (ki) => leases.get(ki.id) ?? 0n, Number(this.currentRev), this.index.size, disk, id);
  }

  /** The last compacted revision; -1 if never compacted. */
  compactRev(): bigint {
    return this.compactMainRev;
  }

  /** Keys in the index, deleted ones with retained history included. */
  keyCount(): number {
    return this.index.size;
  }

  stats(): { keys: number; rev: bigint; compactRev: bigint } & ReturnType<RecordStore['stats']> {
    return { keys: this.index.size, rev: this.currentRev, compactRev: this.compactMainRev, ...this.records.stats() };
  }

  /** Checks a read revision against `curRev` (etcd rangeKeys); returns the revision to read at. */
  private readRev(rev: bigint | undefined, curRev: bigint): bigint {
    const r = rev ?? 0n;
    if (r > curRev) throw new EtcdError(Errors.FutureRev);
    const at = r <= 0n ? curRev : r;
    if (at < this.compactMainRev) throw new EtcdError(Errors.Compacted);
    return at;
  }

  /** Keys in [key, end) visible at a revision: end null = single key, empty = every key ≥ key. */
  range(key: Buffer, end: Buffer | null, opts: RangeOptions = {}): RangeResult {
    const at = this.readRev(opts.rev, this.currentRev);
    return this.rangeAt(key, end, at, opts.limit ?? 0, opts.countOnly ?? false, this.currentRev);
  }

  private rangeAt(key: Buffer, end: Buffer | null, atRev: bigint, limit: number, countOnly: boolean, curRev: bigint): RangeResult {
    const kvs: KeyValue[] = [];
    let count = 0;
    const at = Number(atRev);
    this.index.visit(key, end, (ki) => {
      if (countOnly || (limit > 0 && kvs.length >= limit)) {
        if (ki.existsAt(at)) count++;
        return true;
      }
      const v = ki.get(at);
      if (v) {
        count++;
        kvs.push(this.records.get(v.modMain, v.modSub));
      }
      return true;
    });
    return { kvs, count, rev: curRev };
  }

  /** Starts a write transaction adding its records to batch (end it before the next one). */
  write(batch: WriteBatch): WriteTxn {
    assert(!this.txnOpen, 'a write transaction is already open');
    this.txnOpen = true;
    return new WriteTxn(this, batch, this.currentRev);
  }

  /**
   * Compacts history below rev (etcd updateCompactRev: rev ≤ compacted ⇒ Compacted, rev >
   * current ⇒ FutureRev). The index is compacted now; the records are deleted after `batch`
   * lands. The promise resolves when they are (CompactionRequest.physical).
   */
  compact(rev: bigint, batch: WriteBatch): Promise<void> {
    assert(!this.txnOpen, 'compaction inside a write transaction');
    if (rev <= this.compactMainRev) throw new EtcdError(Errors.Compacted);
    if (rev > this.currentRev) throw new EtcdError(Errors.FutureRev);
    this.compactMainRev = rev;
    batch.put(metaKey.scheduledCompactRev, Backend.u64(rev));
    const keep = this.compactIndex(rev);
    const done = new Promise<void>((resolve, reject) => {
      batch.onCommitted(() => this.compactor.enqueue({ rev, keep, resolve, reject }));
    });
    // Nobody may wait for it (physical=false); a failure then must not be an unhandled rejection.
    done.catch(() => undefined);
    return done;
  }

  private compactIndex(rev: bigint): Set<RevKey> {
    const keep = new Set<RevKey>();
    this.index.compact(Number(rev), (_ki, main, sub) => keep.add(revKey(main, sub)));
    return keep;
  }

  /**
   * The changes of revisions [fromRev, toRev] as events, in revision order, for a watcher
   * catching up (etcd watchable_store syncWatchers). prev_kv is null: a watcher that wants it
   * reads the key at mod_revision − 1, as etcd does. Changes below the compaction may be gone;
   * callers start at ≥ compactRev() (etcd cancels such watchers with compact_revision).
   */
  async changes(fromRev: bigint, toRev: bigint): Promise<Event[]> {
    const recs = await this.records.changes(fromRev, toRev);
    return recs.map((c) =>
      c.tombstone
        ? {
            type: EventType.DELETE,
            kv: { key: c.kv.key, create_revision: 0n, mod_revision: c.kv.mod_revision, version: 0n, value: emptyBuf, lease: 0n },
            prev_kv: null,
          }
        : { type: EventType.PUT, kv: c.kv, prev_kv: null },
    );
  }

  /** Kept for callers of the first version: physical compaction now starts by itself. */
  startPhysicalCompaction(): void {}

  /** Resolves when every physical compaction scheduled and landed so far is done. */
  physicalCompaction(): Promise<void> {
    return this.compactor.idle();
  }

  // ---- used by WriteTxn ----

  /** @internal */
  txnRange(txn: WriteTxn, key: Buffer, end: Buffer | null, opts: RangeOptions): RangeResult {
    const cur = txn.rev();
    const at = this.readRev(opts.rev, cur);
    return this.rangeAt(key, end, at, opts.limit ?? 0, opts.countOnly ?? false, cur);
  }

  /** @internal */
  txnPut(batch: WriteBatch, main: bigint, sub: bigint, key: Buffer, value: Buffer, lease: bigint): Event {
    const m = Number(main);
    const sb = Number(sub);
    const ki = this.index.getOrCreate(key);
    const cur = ki.get(m);
    // The create revision and version come from the key index and the old lease from the lessor
    // (as etcd's put does): no read of the previous record, which for a key not in the record
    // cache was a synchronous LevelDB read per put. The event's prev_kv is left null; a watcher
    // that wants it reads the key at mod_revision − 1 (watchable-store withPrevKv, as etcd).
    const oldLease = cur === null ? 0n : this.leases.leaseOf(ki.id);
    const kv: KeyValue = {
      key: Buffer.from(key),
      create_revision: cur === null ? main : BigInt(cur.createdMain),
      mod_revision: main,
      version: cur === null ? 1n : BigInt(cur.version) + 1n,
      value: Buffer.from(value),
      lease,
    };
    ki.put(m, sb);
    this.records.putRecord(batch, m, sb, kv);
    // etcd storeTxnWrite.put: detach the old lease, attach the new one.
    if (oldLease !== 0n) this.leases.detach(oldLease, kv.key);
    if (lease !== 0n) this.leases.attach(lease, kv.key);
    return { type: EventType.PUT, kv, prev_kv: null };
  }

  /** @internal */
  txnDelete(batch: WriteBatch, main: bigint, firstSub: bigint, key: Buffer, end: Buffer | null, readAt: bigint): Event[] {
    const at = Number(readAt);
    const m = Number(main);
    const victims: KeyIndex[] = [];
    this.index.visit(key, end, (ki) => {
      if (ki.get(at)) victims.push(ki);
      return true;
    });
    const events: Event[] = [];
    let sub = Number(firstSub);
    for (const ki of victims) {
      const v = ki.get(at) as NonNullable<ReturnType<KeyIndex['get']>>;
      const prev = this.records.get(v.modMain, v.modSub);
      ki.tombstone(m, sub);
      this.records.putTombstone(batch, m, sub, prev.key, main);
      sub++;
      if (prev.lease !== 0n) this.leases.detach(prev.lease, prev.key);
      // etcd: a DELETE event's kv carries the key and the delete revision only.
      events.push({
        type: EventType.DELETE,
        kv: { key: prev.key, create_revision: 0n, mod_revision: main, version: 0n, value: emptyBuf, lease: 0n },
        prev_kv: prev,
      });
    }
    return events;
  }

  /** @internal */
  txnEnd(txn: WriteTxn, batch: WriteBatch, events: Event[]): void {
    assert(this.txnOpen && txn.beginRev === this.currentRev, 'ending a transaction that is not open');
    this.txnOpen = false;
    if (txn.changed()) {
      this.currentRev = txn.beginRev + 1n;
      this.observer?.written(batch, events);
    }
  }
}

/**
 * One write transaction (etcd storeTxnWrite): reads see the transaction's own earlier writes;
 * all writes share main revision beginRev + 1, numbered by sub revision.
 */
export class WriteTxn {
  private sub = 0n;
  private ended = false;
  private readonly events: Event[] = [];

  constructor(
    private readonly store: KvStore,
    private readonly batch: WriteBatch,
    readonly beginRev: bigint,
  ) {}

  /** The revision reads inside this transaction see: beginRev, or beginRev + 1 once it wrote. */
  rev(): bigint {
    return this.sub > 0n ? this.beginRev + 1n : this.beginRev;
  }

  changed(): boolean {
    return this.sub > 0n;
  }

  /** Reads as etcd storeTxnWrite.Range: at opts.rev, or at this transaction's revision. */
  range(key: Buffer, end: Buffer | null, opts: RangeOptions = {}): RangeResult {
    assert(!this.ended, 'read after end');
    return this.store.txnRange(this, key, end, opts);
  }

  /** Writes key; returns the revision of the write (etcd TxnWrite.Put). */
  put(key: Buffer, value: Buffer, lease: bigint): bigint {
    assert(!this.ended, 'write after end');
    const main = this.beginRev + 1n;
    this.events.push(this.store.txnPut(this.batch, main, this.sub, key, value, lease));
    this.sub++;
    return main;
  }

  /**
   * Deletes the keys visible in [key, end) (end null = the single key, empty = every key ≥ key);
   * returns the deleted key-values, in key order.
   */
  deleteRange(key: Buffer, end: Buffer | null): KeyValue[] {
    assert(!this.ended, 'write after end');
    const evs = this.store.txnDelete(this.batch, this.beginRev + 1n, this.sub, key, end, this.rev());
    this.sub += BigInt(evs.length);
    const prevs: KeyValue[] = [];
    for (const e of evs) {
      this.events.push(e);
      prevs.push(e.prev_kv as KeyValue);
    }
    return prevs;
  }

  /** Ends the transaction; returns its events in the order of the changes. */
  end(): Event[] {
    assert(!this.ended, 'transaction ended twice');
    this.ended = true;
    this.store.txnEnd(this, this.batch, this.events);
    return this.events;
  }
}
