/**
 * The classic-level backend shared by the raft log, MVCC and (later) lease, auth and
 * membership. Many logical writers add operations to ONE WriteBatch; the server commits one
 * batch per apply round, so the consistent index lands atomically with the changes it produced
 * (DESIGN "Durability and apply").
 *
 * Group commit (etcd's --backend-batch-interval / --backend-batch-limit, bbolt's batched
 * transactions): unsynced commits are gathered and written together when the group holds
 * `batchLimit` operations or `batchIntervalMs` after its first commit, whichever comes first;
 * a synced commit, drain() and close() write the group at once. Each classic-level write costs
 * a LevelDB log write and a threadpool trip, so one write per 100 ms instead of one per apply
 * round is most of the backend's cost under light load. Nothing is lost by waiting: the Raft
 * log is the durable record, and a restart replays it from the consistent index that landed.
 *
 * Reads are synchronous point reads (classic-level getSync) so that apply stays synchronous
 * and deterministic; scans are async iterators (start-up, compaction).
 *
 * The engine underneath is classic-level unless BackendOptions.engine names another
 * (kv-engine.ts: the simulator's in-memory engine, which can crash mid-write).
 *
 * Invariants:
 * - batches reach the database in the order commit() was called (each waits for the previous;
 *   a group is written as one batch, its members in order), so a later batch never lands
 *   before an earlier one;
 * - a batch's committed-hooks run after its write has landed, in commit order, before the
 *   promise of that commit resolves; a batch is committed at most once.
 */
import { metrics, secondsSince } from '../base/metrics.js';
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';
import type { TimerHandle } from '../base/runtime.js';
import type { BatchOp, KvEngine, KvEngineOpener } from './kv-engine.js';
import { openLevelEngine } from './level-engine.js';

export type { BatchOp } from './kv-engine.js';

/** Keys read per step of a scan (bounded memory per step). */
export const scanChunkKeys = 1000;

export class WriteBatch {
  readonly ops: BatchOp[] = [];
  private hooks: (() => void)[] = [];
  private bytesApprox = 0;
  committed = false;

  put(key: Buffer, value: Buffer): void {
    assert(!this.committed, 'write to a committed batch');
    this.ops.push({ type: 'put', key, value });
    this.bytesApprox += key.length + value.length;
  }

  del(key: Buffer): void {
    assert(!this.committed, 'write to a committed batch');
    this.ops.push({ type: 'del', key });
    this.bytesApprox += key.length;
  }

  /** Number of operations. */
  get size(): number {
    return this.ops.length;
  }

  /** Approximate bytes of keys and values in the batch. */
  get bytes(): number {
    return this.bytesApprox;
  }

  /**
   * Runs fn once the batch has landed in the database (MVCC drops its overlay of uncommitted
   * records; compaction starts its physical phase).
   */
  onCommitted(fn: () => void): void {
    assert(!this.committed, 'hook on a committed batch');
    this.hooks.push(fn);
  }

  /** @internal called by Backend.commit */
  markCommitted(): void {
    this.committed = true;
    const hooks = this.hooks;
    this.hooks = [];
    for (const h of hooks) h();
  }
}

export interface CommitOptions {
  /** fsync before resolving. */
  sync?: boolean;
  /** Write now (with whatever is gathered), without fsync. */
  now?: boolean;
}

/** etcd's defaults (backend.go defaultBatchInterval, defaultBatchLimit). */
export const backendBatchIntervalMsDefault = 100;
export const backendBatchLimitDefault = 10_000;

export interface BackendOptions {
  /** Gather unsynced commits for up to this long (ms); absent or 0: write each at once. The
   *  server passes --backend-batch-interval (etcd's default 100 ms when the flag is 0). */
  batchIntervalMs?: number;
  /** Write the gathered group once it holds this many operations (default 10 000). */
  batchLimit?: number;
  /** The engine (kv-engine.ts; default classic-level). */
  engine?: KvEngineOpener;
  /** The group-commit timer (default Node's setTimeout; the simulator passes its own). */
  after?: (ms: number, fn: () => void) => TimerHandle;
}

const nodeAfter = (ms: number, fn: () => void): TimerHandle => {
  const t = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(t) };
};

interface Group {
  batches: WriteBatch[];
  ops: BatchOp[];
  landed: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
  timer: TimerHandle | null;
}

export class Backend {
  private tail: Promise<void> = Promise.resolve();
  private group: Group | null = null;
  readonly batchIntervalMs: number;
  readonly batchLimit: number;
  private readonly after: (ms: number, fn: () => void) => TimerHandle;

  private constructor(
    readonly engine: KvEngine,
    readonly dir: string,
    opts: BackendOptions,
  ) {
    this.batchIntervalMs = opts.batchIntervalMs && opts.batchIntervalMs > 0 ? opts.batchIntervalMs : 0;
    this.batchLimit = opts.batchLimit && opts.batchLimit > 0 ? opts.batchLimit : backendBatchLimitDefault;
    this.after = opts.after ?? nodeAfter;
  }

  static async open(dir: string, opts: BackendOptions = {}): Promise<Backend> {
    const engine = await (opts.engine ?? openLevelEngine)(dir);
    return new Backend(engine, dir, opts);
  }

  /** Synchronous point read of committed data. */
  getSync(key: Buffer): Buffer | undefined {
    return this.engine.getSync(key);
  }

  getU64(key: Buffer): bigint | undefined {
    const v = this.getSync(key);
    return v ? u64FromBytesBE(v) : undefined;
  }

  static u64(v: bigint): Buffer {
    return Buffer.from(u64ToBytesBE(v));
  }

  /**
   * Commits a batch after every earlier commit, then runs its committed-hooks. `opts` may be a
   * boolean (sync) for brevity.
   */
  commit(batch: WriteBatch, opts: CommitOptions | boolean = {}): Promise<void> {
    const sync = typeof opts === 'boolean' ? opts : (opts.sync ?? false);
    const now = typeof opts === 'boolean' ? false : (opts.now ?? false);
    assert(!batch.committed, 'batch committed twice');
    assert(this.group === null || !this.group.batches.includes(batch), 'batch committed twice');
    if (sync || now || this.batchIntervalMs === 0) {
      this.flush();
      return this.write([batch], batch.ops, sync);
    }
    let g = this.group;
    if (g === null) {
      let resolve: () => void = () => undefined;
      let reject: (e: unknown) => void = () => undefined;
      const landed = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      g = { batches: [], ops: [], landed, resolve, reject, timer: null };
      g.timer = this.after(this.batchIntervalMs, () => this.flush());
      this.group = g;
    }
    g.batches.push(batch);
    for (const op of batch.ops) g.ops.push(op);
    const landed = g.landed;
    if (g.ops.length >= this.batchLimit) this.flush();
    return landed;
  }

  /** Writes the gathered group now (in order after every earlier write). */
  flush(): void {
    const g = this.group;
    if (g === null) return;
    this.group = null;
    if (g.timer) g.timer.cancel();
    this.write(g.batches, g.ops, false).then(g.resolve, g.reject);
  }

  /** Operations gathered and not yet written (the server bounds the apply overlay with it). */
  pendingOps(): number {
    return this.group?.ops.length ?? 0;
  }

  private write(batches: WriteBatch[], ops: BatchOp[], sync: boolean): Promise<void> {
    const p = this.tail.then(async () => {
      if (ops.length > 0) {
        const t0 = performance.now();
        await this.engine.write(ops, sync);
        metrics.disk.backendCommit.observe(secondsSince(t0));
      }
      for (const b of batches) b.markCommitted();
    });
    this.tail = p;
    return p;
  }

  /** Resolves once every commit issued so far has landed (the gathered group is written now). */
  drain(): Promise<void> {
    this.flush();
    return this.tail;
  }

  /**
   * Key/value pairs in [gte, lt), in key order, read in chunks; the next chunk is read (on the
   * threadpool) while the caller works through the current one — start-up reads every record
   * this way, and waiting for each chunk in turn left the main thread idle a third of the time.
   */
  async *entries(gte: Buffer, lt: Buffer): AsyncGenerator<[Buffer, Buffer]> {
    const it = this.engine.iterator({ gte, lt });
    try {
      let next = it.nextv(scanChunkKeys);
      for (;;) {
        const chunk = await next;
        if (chunk.length === 0) return;
        next = it.nextv(scanChunkKeys);
        for (const e of chunk) yield e;
      }
    } finally {
      await it.close();
    }
  }

  /**
   * Like entries(), but the iterator (and so its snapshot of the database) is created now, in
   * the caller's turn, not at the first step of the loop.
   */
  scan(gte: Buffer, lt: Buffer): AsyncIterable<[Buffer, Buffer]> {
    const it = this.engine.iterator({ gte, lt });
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const chunk = await it.nextv(scanChunkKeys);
            if (chunk.length === 0) return;
            for (const e of chunk) yield e;
          }
        } finally {
          await it.close();
        }
      },
    };
  }

  /** Up to `limit` keys in [gte, lt), in key order. */
  async keys(gte: Buffer, lt: Buffer, limit: number): Promise<Buffer[]> {
    return this.engine.keys(gte, lt, limit);
  }

  /** Bytes on disk of the database directory (Status dbSize; quota). */
  sizeOnDisk(): number {
    return this.engine.sizeOnDisk();
  }

  /** LevelDB's estimate of the bytes used by keys in [gte, lt) (Status dbSizeInUse). */
  approximateSize(gte: Buffer, lt: Buffer): Promise<number> {
    return this.engine.approximateSize(gte, lt);
  }

  async close(): Promise<void> {
    this.flush();
    await this.tail.catch(() => undefined);
    await this.engine.close();
  }
}
