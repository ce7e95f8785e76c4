/**
 * The durable Raft log and hard state in classic-level (DESIGN "Durability and apply").
 *
 * Records (prefixes declared in schema.ts):
 *   raft entry:  <entry prefix><index u64 BE>  →  term u64 BE | type u8 | data
 *   hard state:  <hard state key>              →  term u64 BE | vote u64 BE | commit u64 BE
 *
 * Invariants: indexes in the store are contiguous from firstIndex to lastIndex; appending
 * entries that start at index i removes every stored entry ≥ i first (a leader's log wins,
 * Raft §5.3), in the same atomic write; save() with sync=true returns only after fsync, and a
 * write is never acknowledged to a client before the save that holds it has returned.
 */
import type { ClassicLevel } from 'classic-level';
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';

export interface LogEntry {
  term: bigint;
  index: bigint;
  type: number;
  data: Uint8Array;
}

export interface LogHardState {
  term: bigint;
  vote: bigint;
  commit: bigint;
}

type Db = ClassicLevel<Buffer, Buffer>;
export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export class RaftLog {
  private first = 1n;
  private last = 0n;

  private constructor(
    private readonly db: Db,
    private readonly entryPrefix: Buffer,
    private readonly hardStateKey: Buffer,
  ) {}

  static async open(db: Db, entryPrefix: Buffer, hardStateKey: Buffer): Promise<RaftLog> {
    const log = new RaftLog(db, entryPrefix, hardStateKey);
    const lo = entryPrefix;
    const hi = Buffer.concat([entryPrefix, Buffer.alloc(8, 0xff), Buffer.from([0xff])]);
    for await (const k of db.keys({ gte: lo, lt: hi, limit: 1 })) log.first = log.indexOf(k);
    for await (const k of db.keys({ gte: lo, lt: hi, limit: 1, reverse: true })) log.last = log.indexOf(k);
    if (log.last === 0n) log.first = 1n;
    return log;
  }

  private keyOf(index: bigint): Buffer {
    const k = Buffer.allocUnsafe(this.entryPrefix.length + 8);
    this.entryPrefix.copy(k, 0);
    u64ToBytesBE(index, k, this.entryPrefix.length);
    return k;
  }

  private indexOf(key: Buffer): bigint {
    return u64FromBytesBE(key, this.entryPrefix.length);
  }

  firstIndex(): bigint {
    return this.first;
  }

  lastIndex(): bigint {
    return this.last;
  }

  hardState(): LogHardState {
    const v = this.db.getSync(this.hardStateKey);
    if (!v) return { term: 0n, vote: 0n, commit: 0n };
    return { term: u64FromBytesBE(v, 0), vote: u64FromBytesBE(v, 8), commit: u64FromBytesBE(v, 16) };
  }

  entry(index: bigint): LogEntry | undefined {
    if (index < this.first || index > this.last) return undefined;
    const v = this.db.getSync(this.keyOf(index));
    if (!v) return undefined;
    return decodeEntry(index, v);
  }

  /** Entries in [lo, hi). */
  async entries(lo: bigint, hi: bigint): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for await (const [k, v] of this.db.iterator({ gte: this.keyOf(lo), lt: this.keyOf(hi) })) {
      out.push(decodeEntry(this.indexOf(k), v));
    }
    return out;
  }

  /**
   * Appends entries (contiguous, possibly overwriting a conflicting tail) and/or the hard
   * state in one atomic write; fsyncs when sync is set.
   */
  async save(
    hs: LogHardState | undefined,
    entries: LogEntry[],
    sync: boolean,
    opts: { floor?: bigint; extra?: BatchOp[] } = {},
  ): Promise<void> {
    const ops: BatchOp[] = opts.extra ? [...opts.extra] : [];
    let newLast = this.last;
    let newFirst = this.first;
    if (opts.floor !== undefined) {
      // A snapshot at `floor` replaces the whole log: drop every stored entry in the same write.
      for (let i = this.first; i <= this.last; i++) ops.push({ type: 'del', key: this.keyOf(i) });
      newFirst = opts.floor + 1n;
      newLast = opts.floor;
    }
    const head = entries[0];
    if (head) {
      assert(head.index >= newFirst && head.index <= newLast + 1n, `log gap: append ${head.index} after ${newLast}`);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as LogEntry;
        assert(e.index === head.index + BigInt(i), 'entries not contiguous');
        ops.push({ type: 'put', key: this.keyOf(e.index), value: encodeEntry(e) });
      }
      const tail = (entries[entries.length - 1] as LogEntry).index;
      for (let i = tail + 1n; i <= newLast; i++) ops.push({ type: 'del', key: this.keyOf(i) });
      newLast = tail;
    }
    if (hs) {
      const v = Buffer.allocUnsafe(24);
      u64ToBytesBE(hs.term, v, 0);
      u64ToBytesBE(hs.vote, v, 8);
      u64ToBytesBE(hs.commit, v, 16);
      ops.push({ type: 'put', key: this.hardStateKey, value: v });
    }
    if (ops.length === 0) return;
    await this.db.batch(ops, { sync });
    this.first = newFirst;
    this.last = newLast;
    if (this.last === 0n) this.first = 1n;
  }

  /**
   * Makes `index` the log's floor after a snapshot at `index` was installed or loaded: drops
   * every stored entry ≤ index, and if none is left above it, the next append starts at index+1.
   * Only entries the snapshot covers are dropped, so committed entries above it survive.
   */
  async resetTo(index: bigint, sync: boolean): Promise<void> {
    if (this.last < this.first && this.first === index + 1n) return;
    const hi = this.last < index ? this.last : index;
    const ops: BatchOp[] = [];
    for (let i = this.first; i <= hi; i++) ops.push({ type: 'del', key: this.keyOf(i) });
    if (ops.length > 0) await this.db.batch(ops, { sync });
    if (this.last <= index) {
      this.first = index + 1n;
      this.last = index;
    } else {
      this.first = index + 1n;
    }
  }

  /** Drops entries below index (after a snapshot covers them). */
  async compact(index: bigint): Promise<void> {
    if (index <= this.first) return;
    assert(index <= this.last + 1n, 'compact beyond last index');
    await this.db.batch(
      Array.from({ length: Number(index - this.first) }, (_, i) => ({
        type: 'del' as const,
        key: this.keyOf(this.first + BigInt(i)),
      })),
    );
    this.first = index;
  }
}

export function encodeEntry(e: LogEntry): Buffer {
  const v = Buffer.allocUnsafe(9 + e.data.length);
  u64ToBytesBE(e.term, v, 0);
  v[8] = e.type;
  v.set(e.data, 9);
  return v;
}

export function decodeEntry(index: bigint, v: Uint8Array): LogEntry {
  return { index, term: u64FromBytesBE(v, 0), type: v[8] as number, data: v.subarray(9) };
}
