/**
 * The classic-level backend shared by the raft log, MVCC and (later) lease, auth and
 * membership. Writers add operations to a WriteBatch; the server commits one batch per apply
 * round, so the consistent index lands atomically with the changes it produced.
 *
 * Invariants: batch commits reach the database in the order they were committed (each commit
 * waits for the previous one), so a later batch never lands before an earlier one.
 */
import { ClassicLevel } from 'classic-level';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';

export type Db = ClassicLevel<Buffer, Buffer>;
export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export class WriteBatch {
  readonly ops: BatchOp[] = [];
  put(key: Buffer, value: Buffer): void {
    this.ops.push({ type: 'put', key, value });
  }
  del(key: Buffer): void {
    this.ops.push({ type: 'del', key });
  }
  get size(): number {
    return this.ops.length;
  }
}

export class Backend {
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    readonly db: Db,
    readonly dir: string,
  ) {}

  static async open(dir: string): Promise<Backend> {
    mkdirSync(dir, { recursive: true });
    const db: Db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return new Backend(db, dir);
  }

  getSync(key: Buffer): Buffer | undefined {
    return this.db.getSync(key) ?? undefined;
  }

  getU64(key: Buffer): bigint | undefined {
    const v = this.getSync(key);
    return v ? u64FromBytesBE(v) : undefined;
  }

  static u64(v: bigint): Buffer {
    return Buffer.from(u64ToBytesBE(v));
  }

  /** Commits a batch after every earlier commit; sync forces an fsync. */
  commit(batch: WriteBatch, sync = false): Promise<void> {
    if (batch.size === 0) return this.tail;
    const ops = batch.ops;
    const p = this.tail.then(() => this.db.batch(ops, { sync }));
    this.tail = p;
    return p;
  }

  async *entries(gte: Buffer, lt: Buffer): AsyncGenerator<[Buffer, Buffer]> {
    for await (const [k, v] of this.db.iterator({ gte, lt })) yield [k, v];
  }

  /** Bytes on disk of the database directory. */
  sizeOnDisk(): number {
    let total = 0;
    for (const f of readdirSync(this.dir)) {
      try {
        total += statSync(path.join(this.dir, f)).size;
      } catch {
        /* file removed by a concurrent leveldb compaction */
      }
    }
    return total;
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.db.close();
  }
}
