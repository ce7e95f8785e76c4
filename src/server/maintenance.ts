/**
 * The Maintenance service's work on one member, beside EtcdServer (which keeps term(),
 * leader(), raftIndex(), applied(), dbSize()): the size of the state machine in the database,
 * the backend quota, defragmentation and HashKV.
 *
 * Sizes. etcd keeps its WAL outside bbolt; here the Raft log shares the classic-level database
 * with the state machine. So:
 *   dbSize       bytes of the database directory on disk (everything, Raft log included);
 *   dbSizeInUse  LevelDB's estimate of the on-disk bytes of the state-machine records (every
 *                kind but the Raft log, hard state and Raft snapshot), what etcd's bbolt holds,
 *                plus the write-ahead log not yet in tables (see dbSizeInUse);
 *   quota        compares dbSizeInUse + the request's cost with --quota-backend-bytes (etcd
 *                backendQuota.Available compares bbolt's size): a Raft log that only Raft log
 *                compaction can shrink must not make NOSPACE permanent.
 * LevelDB's estimate counts compressed table files and not the write buffer; the figure is
 * refreshed at most every `sizeRefreshMs` so a request does not pay for it.
 *
 * HashKV (etcd mvcc HashByRev): CRC-32C of "key", then every MVCC record (etcd key form,
 * value as etcd stores it: a tombstone holds the key only) with main revision ≤ rev, read from one iterator once every scheduled physical
 * compaction has finished, so two members with the same history hash the same records whatever
 * the progress of their compactions; compaction changing under the read makes it start again.
 */
import { crc32cUpdate } from '../base/crc32c.js';
import { metrics, secondsSince } from '../base/metrics.js';
import { EtcdError, Errors } from '../api/errors.js';
import type { KvStore } from '../mvcc/kv-store.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Backend } from '../storage/backend.js';
import { mvccKeyFloor } from '../storage/schema.js';
import { etcdRecordValue, etcdRevisionKey, stateRanges } from './snapshot.js';

/** Longest a cached state-machine size is used by the quota check. */
export const sizeRefreshMs = 100;
/** HashKV restarts at most this many times when a compaction lands under it. */
export const hashKvAttemptsMax = 10;

/**
 * State-machine bytes: LevelDB's estimate for the table files, plus the write-ahead log files
 * (the writes not yet in a table, Raft entries among them: an overestimate by at most the
 * write buffer, the safe side for a quota; defragment empties them).
 */
export async function dbSizeInUse(backend: Backend): Promise<number> {
  let n = 0;
  for (const [a, b] of stateRanges()) n += await backend.approximateSize(a, b);
  return n + backend.engine.logBytes();
}

/**
 * etcd backendQuota: a request that adds `cost` bytes is refused while the state machine plus
 * cost would reach the quota. quotaBytes < 0 disables the quota (etcd: negative = no quota).
 */
export class Quota {
  private size = 0;
  private sizeAt = -Infinity;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly backend: Backend,
    readonly quotaBytes: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  enabled(): boolean {
    return this.quotaBytes >= 0;
  }

  /**
   * available() without waiting, when the cached figure decides: true when the request fits
   * (a stale figure is refreshed in the background); false when it must wait for available().
   */
  availableNow(cost: number): boolean {
    if (cost === 0 || !this.enabled()) return true;
    if (this.sizeAt !== -Infinity && this.size + cost < this.quotaBytes) {
      if (this.now() - this.sizeAt >= sizeRefreshMs) void this.refresh().catch(() => undefined);
      return true;
    }
    return false;
  }

  /** etcd Available: a request that writes nothing always passes. */
  async available(cost: number): Promise<boolean> {
    if (cost === 0 || !this.enabled()) return true;
    // A request the cached figure lets through does not wait for a size read (the figure is
    // refreshed in the background), so a slow read never stalls the write path; one it would
    // refuse waits for a fresh figure (space may have been reclaimed by compact + defrag).
    if (this.sizeAt !== -Infinity && this.size + cost < this.quotaBytes) {
      void this.refresh().catch(() => undefined);
      return true;
    }
    await this.refresh();
    return this.size + cost < this.quotaBytes;
  }

  /** Refreshes the cached size if it is older than sizeRefreshMs; concurrent callers share one read. */
  async refresh(force = false): Promise<void> {
    if (!force && this.now() - this.sizeAt < sizeRefreshMs) return;
    if (!this.refreshing) {
      this.refreshing = dbSizeInUse(this.backend)
        .then((n) => {
          this.size = n;
          this.sizeAt = this.now();
        })
        .finally(() => {
          this.refreshing = null;
        });
    }
    await this.refreshing;
  }
}

/**
 * Defragment (etcd backend.Defrag rewrites the bbolt file without free pages): LevelDB's
 * compactRange over every key rewrites the tables without deleted and overwritten records.
 * Its duration feeds etcd_disk_backend_defrag_duration_seconds, as etcd's defrag() observes
 * it once the rewrite is done (a failed one is not observed, as in etcd, which panics then).
 */
export async function defragment(backend: Backend): Promise<void> {
  const t0 = performance.now();
  await backend.drain();
  await backend.engine.compactRange(Buffer.alloc(0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  metrics.disk.backendDefrag.observe(secondsSince(t0));
}

/** Defragments the database of a data dir no server is using (ctl defrag --data-dir). */
export async function defragDataDir(dataDir: string): Promise<void> {
  const dir = path.join(dataDir, 'member', 'db');
  if (!existsSync(dir)) throw new Error(`open ${dir}: no such file or directory`);
  const backend = await Backend.open(dir);
  try {
    await defragment(backend);
  } finally {
    await backend.close();
  }
}

export interface HashKvResult {
  hash: number;
  /** The store's revision when the hash was taken (response header revision). */
  currentRev: bigint;
  /** The revision hashed up to (etcd 3.6 hash_revision). */
  hashRev: bigint;
  compactRev: bigint;
}

export async function hashKV(kv: KvStore, backend: Backend, rev: bigint): Promise<HashKvResult> {
  for (let attempt = 0; attempt < hashKvAttemptsMax; attempt++) {
    const compactRev = kv.compactRev();
    const currentRev = kv.rev();
    // etcd HashByRev: at or below the compaction is compacted (unlike Range: below).
    if (rev > 0n && rev <= compactRev) throw new EtcdError(Errors.Compacted);
    if (rev > 0n && rev > currentRev) throw new EtcdError(Errors.FutureRev);
    const at = rev === 0n ? currentRev : rev;
    // Land every gathered batch first: a compaction's physical phase starts only once the
    // batch that scheduled it has landed, so waiting for the phase before landing it would
    // hash records the compaction is about to delete.
    await backend.drain();
    await kv.physicalCompaction();
    const records = backend.scan(mvccKeyFloor(0n), mvccKeyFloor(at + 1n));
    // The iterator's view is fixed now; if no compaction was applied meanwhile, every record
    // ≤ the compaction it sees is one the compaction keeps.
    const sameCompaction = kv.compactRev() === compactRev;
    let h = crc32cUpdate(0, Buffer.from('key'));
    for await (const [k, v] of records) {
      h = crc32cUpdate(h, etcdRevisionKey(k));
      h = crc32cUpdate(h, etcdRecordValue(k, v));
    }
    if (sameCompaction) return { hash: h, currentRev, hashRev: at, compactRev };
  }
  throw new EtcdError(Errors.Timeout);
}
