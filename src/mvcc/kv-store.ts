/**
 * The MVCC key-value store (etcd mvcc/kvstore.go): every change gets a revision; reads at any
 * revision not compacted away; compaction drops history below a revision.
 *
 * Design: the key index and the retained records (values included) live in memory, and every
 * record is also written to classic-level under its revision key (kv-codec.ts) through the
 * apply batch; start-up rebuilds memory by scanning those records, as etcd rebuilds its index
 * from bbolt. Keeping values in memory makes reads synchronous and fast; it is bounded the way
 * etcd's own working set is, by --quota-backend-bytes (default 2 GiB), since bbolt maps the whole
 * database into memory as well.
 *
 * Invariants:
 * - a fresh store is at revision 1; a write transaction with at least one change consumes
 *   exactly one main revision (currentRev + 1), its changes numbered by sub revision from 0;
 *   a transaction without changes consumes none;
 * - compactRev ≤ currentRev; reads at rev < compactRev fail with Compacted, at rev > currentRev
 *   with FutureRev;
 * - every record in memory is in the database once the batch it was added to is committed;
 *   records dropped by compaction are deleted from the database after the batch that scheduled
 *   the compaction (startPhysicalCompaction), in chunks of compactionBatchLimit.
 */
import { assert } from '../base/assert.js';
import { EtcdError, Errors } from '../api/errors.js';
import { EventType, type Event, type KeyValue } from '../api/kv-types.js';
import { Backend, WriteBatch } from '../storage/backend.js';
import { metaKey, prefix, prefixUpper } from '../storage/schema.js';
import { decodeKv, encodeKv, parseRevKey, revKey } from './kv-codec.js';
import { KeyIndex, visibleAt, type KeyEntry } from './key-index.js';

/** etcd --experimental-compaction-batch-limit default. */
export const compactionBatchLimit = 1000;

export interface LeaseHooks {
  exists(id: bigint): boolean;
  attach(id: bigint, key: Buffer): void;
  detach(id: bigint, key: Buffer): void;
}

export const noLeases: LeaseHooks = {
  exists: () => false,
  attach: () => undefined,
  detach: () => undefined,
};

export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  rev: bigint;
}

export interface RangeOptions {
  /** ≤ 0: the current revision. */
  rev?: bigint;
  /** 0: no limit. */
  limit?: number;
  countOnly?: boolean;
}

const emptyBuf = Buffer.alloc(0);

export class KvStore {
  private readonly index = new KeyIndex();
  private currentRev = 1n;
  private compactMainRev = -1n;
  private pendingDeletes: Buffer[] = [];
  private pendingCompactRev = -1n;
  private physicalDone: Promise<void> = Promise.resolve();
  leases: LeaseHooks = noLeases;

  private constructor(private readonly backend: Backend) {}

  static async open(backend: Backend): Promise<KvStore> {
    const s = new KvStore(backend);
    let maxMain = 1n;
    for await (const [k, v] of backend.entries(prefix.mvcc, prefixUpper(prefix.mvcc))) {
      const { main, sub, tombstone } = parseRevKey(k);
      const kv = decodeKv(v);
      s.index.append(kv.key, { main, sub, kv: tombstone ? null : kv });
      if (main > maxMain) maxMain = main;
    }
    const scheduled = backend.getU64(metaKey.scheduledCompactRev);
    const finished = backend.getU64(metaKey.finishedCompactRev);
    s.currentRev = maxMain;
    if (scheduled !== undefined) {
      // Redo the compaction: records that survived a crash before their deletion are dropped
      // again (etcd restores and re-runs an unfinished compaction the same way).
      s.compactMainRev = scheduled;
      if (scheduled > s.currentRev) s.currentRev = scheduled;
      const dropped = s.index.compact(scheduled);
      if (finished === undefined || finished < scheduled || dropped.length > 0) {
        s.pendingDeletes = dropped.map((d) => revKey(d.rec.main, d.rec.sub, d.rec.kv === null));
        s.pendingCompactRev = scheduled;
        s.startPhysicalCompaction();
      }
    }
    return s;
  }

  rev(): bigint {
    return this.currentRev;
  }

  compactRev(): bigint {
    return this.compactMainRev;
  }

  keyCount(): number {
    return this.index.size;
  }

  private readRev(rev: bigint | undefined): bigint {
    const r = rev ?? 0n;
    if (r > this.currentRev) throw new EtcdError(Errors.FutureRev);
    const at = r <= 0n ? this.currentRev : r;
    if (at < this.compactMainRev) throw new EtcdError(Errors.Compacted);
    return at;
  }

  /** Keys in [key, end) visible at a revision: end null = single key, empty = every key ≥ key. */
  range(key: Buffer, end: Buffer | null, opts: RangeOptions = {}): RangeResult {
    const at = this.readRev(opts.rev);
    return this.rangeAt(key, end, at, opts.limit ?? 0, opts.countOnly ?? false, this.currentRev);
  }

  /**
   * Reads at revision `at`. Like etcd's rangeKeys, the result's rev is the reader's current
   * revision (`curRev`), not `at`: the response header names the store revision.
   */
  rangeAt(key: Buffer, end: Buffer | null, at: bigint, limit: number, countOnly: boolean, curRev: bigint): RangeResult {
    const kvs: KeyValue[] = [];
    let count = 0;
    this.index.visit(key, end, (e: KeyEntry) => {
      const kv = visibleAt(e, at);
      if (kv) {
        count++;
        if (!countOnly && (limit <= 0 || kvs.length < limit)) kvs.push(kv);
      }
      return true;
    });
    return { kvs, count, rev: curRev };
  }

  /** Starts a write transaction adding its records to batch. */
  write(batch: WriteBatch): WriteTxn {
    return new WriteTxn(this, batch, this.currentRev);
  }

  /** @internal used by WriteTxn */
  appendRecord(batch: WriteBatch, main: bigint, sub: bigint, key: Buffer, kv: KeyValue | null): void {
    this.index.append(key, { main, sub, kv });
    const stored: KeyValue = kv ?? { key, create_revision: 0n, mod_revision: main, version: 0n, value: emptyBuf, lease: 0n };
    batch.put(revKey(main, sub, kv === null), encodeKv(stored));
  }

  /** @internal used by WriteTxn */
  endTxn(begin: bigint, changed: boolean): void {
    assert(begin === this.currentRev, 'overlapping write transactions');
    if (changed) this.currentRev = begin + 1n;
  }

  /** @internal */
  visitIndex(key: Buffer, end: Buffer | null, fn: (e: KeyEntry) => boolean): void {
    this.index.visit(key, end, fn);
  }

  /**
   * Compacts history below rev (etcd: rev ≤ compacted ⇒ Compacted, rev > current ⇒ FutureRev).
   * Memory is compacted now; the database records go after `batch` commits, when the server
   * calls startPhysicalCompaction(). Returns a promise for the physical deletion.
   */
  compact(rev: bigint, batch: WriteBatch): Promise<void> {
    if (rev <= this.compactMainRev) throw new EtcdError(Errors.Compacted);
    if (rev > this.currentRev) throw new EtcdError(Errors.FutureRev);
    this.compactMainRev = rev;
    batch.put(metaKey.scheduledCompactRev, Backend.u64(rev));
    const dropped = this.index.compact(rev);
    for (const d of dropped) this.pendingDeletes.push(revKey(d.rec.main, d.rec.sub, d.rec.kv === null));
    this.pendingCompactRev = rev;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    this.waiters.push(resolveDone);
    return done;
  }

  private waiters: (() => void)[] = [];

  /** Deletes the records dropped by compactions whose batch has been committed. */
  startPhysicalCompaction(): void {
    if (this.pendingCompactRev < 0n) return;
    const keys = this.pendingDeletes;
    const rev = this.pendingCompactRev;
    const waiters = this.waiters;
    this.pendingDeletes = [];
    this.pendingCompactRev = -1n;
    this.waiters = [];
    const chunks: WriteBatch[] = [];
    for (let i = 0; i < keys.length; i += compactionBatchLimit) {
      const b = new WriteBatch();
      for (const k of keys.slice(i, i + compactionBatchLimit)) b.del(k);
      chunks.push(b);
    }
    const last = new WriteBatch();
    last.put(metaKey.finishedCompactRev, Backend.u64(rev));
    chunks.push(last);
    // Chunks go through the backend's ordered commit queue; other writes interleave between
    // them, so a large compaction does not stall apply (etcd compacts in batches likewise).
    this.physicalDone = Promise.all(chunks.map((c) => this.backend.commit(c))).then(() => {
      for (const w of waiters) w();
    });
  }

  physicalCompaction(): Promise<void> {
    return this.physicalDone;
  }
}

/**
 * One write transaction (etcd storeTxnWrite): reads see the transaction's own earlier writes;
 * all writes share main revision begin + 1.
 */
export class WriteTxn {
  private sub = 0n;
  readonly events: Event[] = [];

  constructor(
    private readonly store: KvStore,
    private readonly batch: WriteBatch,
    readonly beginRev: bigint,
  ) {}

  /** The revision reads inside this transaction see. */
  rev(): bigint {
    return this.sub > 0n ? this.beginRev + 1n : this.beginRev;
  }

  changed(): boolean {
    return this.sub > 0n;
  }

  range(key: Buffer, end: Buffer | null, limit = 0, countOnly = false): RangeResult {
    return this.store.rangeAt(key, end, this.rev(), limit, countOnly, this.rev());
  }

  /** Writes key; returns the revision of the write. */
  put(key: Buffer, value: Buffer, lease: bigint): bigint {
    const rev = this.beginRev + 1n;
    const prev = this.range(key, null).kvs[0] ?? null;
    const kv: KeyValue = {
      key,
      value,
      lease,
      create_revision: prev ? prev.create_revision : rev,
      mod_revision: rev,
      version: prev ? prev.version + 1n : 1n,
    };
    this.store.appendRecord(this.batch, rev, this.sub++, key, kv);
    if (prev && prev.lease !== 0n && prev.lease !== lease) this.store.leases.detach(prev.lease, key);
    if (lease !== 0n) this.store.leases.attach(lease, key);
    this.events.push({ type: EventType.PUT, kv, prev_kv: prev });
    return rev;
  }

  /** Deletes the keys visible in [key, end); returns the deleted records. */
  deleteRange(key: Buffer, end: Buffer | null): KeyValue[] {
    const rev = this.beginRev + 1n;
    const victims = this.range(key, end).kvs;
    for (const prev of victims) {
      this.store.appendRecord(this.batch, rev, this.sub++, prev.key, null);
      if (prev.lease !== 0n) this.store.leases.detach(prev.lease, prev.key);
      this.events.push({
        type: EventType.DELETE,
        kv: { key: prev.key, create_revision: 0n, mod_revision: rev, version: 0n, value: emptyBuf, lease: 0n },
        prev_kv: prev,
      });
    }
    return victims;
  }

  end(): Event[] {
    this.store.endTxn(this.beginRev, this.changed());
    return this.events;
  }
}
