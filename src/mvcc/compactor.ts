/**
 * The physical phase of compaction (etcd mvcc kvstore_compaction.go): delete from the database
 * every record at a revision ≤ rev that the compacted key index no longer holds, in chunks of
 * `batchLimit` keys (etcd --experimental-compaction-batch-limit, default 1000), each its own
 * commit, yielding to apply between chunks so a large compaction never stalls writes. The last
 * chunk also records `finished_compact_rev`; until then a restart finds scheduled > finished
 * and runs the job again (deleting is idempotent), as etcd does.
 *
 * Invariants: jobs run one at a time in the order scheduled; a job starts only after the batch
 * that scheduled it has landed (so every record ≤ rev is in the database); a job never deletes a
 * record whose revision is in its keep set, nor one at exactly rev.
 */
import { Backend, WriteBatch } from '../storage/backend.js';
import { metaKey, mvccKeyFloor, mvccMainOf, mvccSubOf } from '../storage/schema.js';
import { revKey, type RevKey } from './revision.js';

/** etcd --experimental-compaction-batch-limit default. */
export const compactionBatchLimitDefault = 1000;

export interface CompactionJob {
  rev: bigint;
  /** revKey of every record ≤ rev still needed. */
  keep: Set<RevKey>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class BackendClosedError extends Error {
  override name = 'BackendClosedError';
}

export class Compactor {
  private readonly queue: CompactionJob[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];
  /** Chunks committed so far (tests, metrics). */
  chunksCommitted = 0;

  constructor(
    private readonly backend: Backend,
    private readonly batchLimit: number = compactionBatchLimitDefault,
    /** A later turn (Runtime.soon): apply runs between chunks. */
    private readonly soon: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  enqueue(job: CompactionJob): void {
    this.queue.push(job);
    if (!this.running) void this.loop();
  }

  /** Resolves when no job is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async loop(): Promise<void> {
    this.running = true;
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      try {
        await this.run(job);
        job.resolve();
      } catch (err) {
        job.reject(err);
        for (const j of this.queue.splice(0)) j.reject(err);
      }
    }
    this.running = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(job: CompactionJob): Promise<void> {
    const end = mvccKeyFloor(job.rev + 1n);
    let from = mvccKeyFloor(0n);
    for (;;) {
      if (!this.backend.engine.isOpen) throw new BackendClosedError('backend closed during compaction');
      const keys = await this.backend.keys(from, end, this.batchLimit);
      const batch = new WriteBatch();
      const at = Number(job.rev);
      for (const k of keys) {
        const main = mvccMainOf(k);
        const sub = mvccSubOf(k);
        // Every record AT rev stays: a tombstone there is still history for a watcher that
        // starts at rev (allowed: only starts below rev are compacted). etcd drops it, and such
        // a watcher misses that delete; the next compaction removes it.
        if (main !== at && !job.keep.has(revKey(main, sub))) batch.del(k);
      }
      const last = keys.length < this.batchLimit;
      if (last) batch.put(metaKey.finishedCompactRev, Backend.u64(job.rev));
      // Each chunk is written at once (not gathered with apply's writes for the batch interval).
      await this.backend.commit(batch, { now: true });
      this.chunksCommitted++;
      if (last) return;
      from = Buffer.concat([keys[keys.length - 1] as Buffer, Buffer.from([0])]);
      await new Promise<void>((r) => this.soon(r));
    }
  }
}
