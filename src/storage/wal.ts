/**
 * The write-ahead log: Raft entries and hard state, appended to segment files and fdatasynced
 * (etcd's wal package plays this role). A plain file append + fdatasync costs a fraction of a
 * synced classic-level batch (measured here: p50 0.85 ms vs 7.4 ms for 100 × 300-byte entries on
 * a loaded machine), and the log is written once per Ready, so it is the write path's cost.
 *
 * Files: <dir>/<seq 16 hex>-<first index 16 hex>.wal. Records: u32 BE payload length | u32 BE
 * CRC-32 of the payload | payload = u8 type, then
 *   1 entry:      u64 index | u64 term | u8 entry type | data
 *   2 hard state: u64 term | u64 vote | u64 commit
 *   3 floor:      u64 index             (a snapshot at index replaced every entry before it)
 * Replay applies records in order: an entry at an index ≤ the last one replaces the tail from
 * there (a new leader overwrote a conflicting suffix, Raft §5.3); a floor drops all entries.
 *
 * Segments are created at their full size as sparse files (ftruncate) and written in place:
 * fdatasync then flushes data only, not a file-size change (measured here: p90 0.4–1.7 ms vs
 * 4–8 ms for appends that grow the file). Zero bytes after the last record end a segment.
 *
 * Files go through disk.ts: node:fs, or the simulator's in-memory disk that tears writes.
 *
 * Invariants: live entries are contiguous; every segment starts with the hard state current
 * when it was opened, so deleting older segments never loses it; a record is either wholly in
 * the file or detected as torn at replay (length + CRC) — a torn record can only be the last
 * of the last segment (a crash during an append), where it is cut off; anywhere else it is
 * corruption and open fails; save() resolves only once its records are on disk (O_DSYNC).
 */
import { metrics, secondsSince } from '../base/metrics.js';
import path from 'node:path';
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';
import { nodeDisk, type Disk, type DiskFile } from './disk.js';

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

/** Size after which a new segment file is started. */
export const walSegmentBytesMax = 64 * 1024 * 1024;

const recEntry = 1;
const recHardState = 2;
const recFloor = 3;
const headerBytes = 8;

export class WalCorruptError extends Error {}

const crcTable = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = (crcTable[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function segName(seq: bigint, first: bigint): string {
  return `${seq.toString(16).padStart(16, '0')}-${first.toString(16).padStart(16, '0')}.wal`;
}

function parseSegName(n: string): { seq: bigint; first: bigint } | null {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/.exec(n);
  return m ? { seq: BigInt(`0x${m[1]}`), first: BigInt(`0x${m[2]}`) } : null;
}

function record(payload: Buffer): Buffer {
  const h = Buffer.allocUnsafe(headerBytes);
  h.writeUInt32BE(payload.length, 0);
  h.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([h, payload]);
}

function entryRecord(e: LogEntry): Buffer {
  const p = Buffer.allocUnsafe(18 + e.data.length);
  p[0] = recEntry;
  u64ToBytesBE(e.index, p, 1);
  u64ToBytesBE(e.term, p, 9);
  p[17] = e.type;
  p.set(e.data, 18);
  return record(p);
}

function hardStateRecord(hs: LogHardState): Buffer {
  const p = Buffer.allocUnsafe(25);
  p[0] = recHardState;
  u64ToBytesBE(hs.term, p, 1);
  u64ToBytesBE(hs.vote, p, 9);
  u64ToBytesBE(hs.commit, p, 17);
  return record(p);
}

function floorRecord(index: bigint): Buffer {
  const p = Buffer.allocUnsafe(9);
  p[0] = recFloor;
  u64ToBytesBE(index, p, 1);
  return record(p);
}

/**
 * A new segment at its full size (sparse), durable in its directory. Segment files are opened
 * O_DSYNC: each write returns once its data is on disk, so a Ready's records cost one write
 * instead of two calls (write, then fdatasync) — one syscall on the main thread for a small
 * Ready while the disk is fast, else one threadpool trip (disk.ts, inlineWriteBytesMax).
 */
async function createSegment(disk: Disk, file: string, bytes: number, dir: string): Promise<DiskFile> {
  const fh = await disk.open(file, { create: true, dsync: true });
  await fh.truncate(bytes);
  await fh.sync();
  await disk.syncDir(dir);
  return fh;
}

interface Segment {
  seq: bigint;
  first: bigint;
  file: string;
}

export interface WalState {
  hardState: LogHardState;
  /** Live entries, contiguous (possibly empty). */
  entries: LogEntry[];
}

export class Wal {
  private hs: LogHardState = { term: 0n, vote: 0n, commit: 0n };
  /** Index of the last live entry (0 when none since the floor). */
  private last = 0n;
  private size = 0;

  private constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    private segments: Segment[],
    private fh: DiskFile,
    private readonly segmentBytesMax: number,
  ) {}

  /** Opens (creating if needed) the log in `dir` and replays it. */
  static async open(dir: string, segmentBytesMax = walSegmentBytesMax, disk: Disk = nodeDisk): Promise<{ wal: Wal; state: WalState }> {
    await disk.mkdirp(dir);
    const segs: Segment[] = (await disk.list(dir))
      .map((n) => ({ n, p: parseSegName(n) }))
      .filter((x): x is { n: string; p: { seq: bigint; first: bigint } } => x.p !== null)
      .map((x) => ({ ...x.p, file: path.join(dir, x.n) }))
      .sort((a, b) => (a.seq < b.seq ? -1 : 1));
    let hs: LogHardState = { term: 0n, vote: 0n, commit: 0n };
    let entries: LogEntry[] = [];
    let end = 0;
    for (let s = 0; s < segs.length; s++) {
      const seg = segs[s] as Segment;
      const buf = await disk.readFile(seg.file);
      let off = 0;
      while (off < buf.length) {
        const torn = (why: string): never => {
          throw new WalCorruptError(`${seg.file}: ${why} at offset ${off}`);
        };
        if (off + 4 <= buf.length && buf.readUInt32BE(off) === 0) break; // preallocated zeros: end of data
        let ok = off + headerBytes <= buf.length;
        const len = ok ? buf.readUInt32BE(off) : 0;
        ok = ok && off + headerBytes + len <= buf.length;
        const payload = ok ? buf.subarray(off + headerBytes, off + headerBytes + len) : Buffer.alloc(0);
        ok = ok && len > 0 && crc32(payload) === buf.readUInt32BE(off + 4);
        if (!ok) {
          if (s !== segs.length - 1) torn('corrupt record in a sealed segment');
          // A crash during the last append: cut the torn tail off and go on from there.
          await disk.truncate(seg.file, off);
          await disk.truncate(seg.file, Math.max(off, segmentBytesMax));
          break;
        }
        switch (payload[0]) {
          case recEntry: {
            const index = u64FromBytesBE(payload, 1);
            const e: LogEntry = { index, term: u64FromBytesBE(payload, 9), type: payload[17] as number, data: payload.subarray(18) };
            const head = entries[0];
            if (head === undefined) entries.push(e);
            else {
              const lastIdx = (entries[entries.length - 1] as LogEntry).index;
              if (index > lastIdx + 1n) torn(`gap: entry ${index} after ${lastIdx}`);
              if (index < head.index) entries = [e];
              else {
                entries.length = Number(index - head.index);
                entries.push(e);
              }
            }
            break;
          }
          case recHardState:
            hs = { term: u64FromBytesBE(payload, 1), vote: u64FromBytesBE(payload, 9), commit: u64FromBytesBE(payload, 17) };
            break;
          case recFloor: {
            const floor = u64FromBytesBE(payload, 1);
            entries = entries.filter((e) => e.index > floor);
            if (entries.length > 0 && (entries[0] as LogEntry).index !== floor + 1n) entries = [];
            break;
          }
          default:
            torn(`unknown record type ${payload[0]}`);
        }
        off += headerBytes + len;
      }
      end = off;
    }
    let cur = segs[segs.length - 1];
    let fh: DiskFile;
    if (cur === undefined) {
      cur = { seq: 0n, first: 1n, file: path.join(dir, segName(0n, 1n)) };
      segs.push(cur);
      fh = await createSegment(disk, cur.file, segmentBytesMax, dir);
      end = 0;
    } else {
      fh = await disk.open(cur.file, { dsync: true });
    }
    const wal = new Wal(disk, dir, segs, fh, segmentBytesMax);
    wal.hs = hs;
    wal.last = entries.length > 0 ? (entries[entries.length - 1] as LogEntry).index : 0n;
    wal.size = end;
    return { wal, state: { hardState: hs, entries } };
  }

  hardState(): LogHardState {
    return { ...this.hs };
  }

  lastIndex(): bigint {
    return this.last;
  }

  /** Appends entries (contiguous; may rewrite a conflicting tail) and/or the hard state. */
  async save(hs: LogHardState | undefined, entries: LogEntry[], _sync: boolean, floor?: bigint): Promise<void> {
    const parts: Buffer[] = [];
    if (floor !== undefined) parts.push(floorRecord(floor));
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as LogEntry;
      if (i > 0) assert(e.index === (entries[i - 1] as LogEntry).index + 1n, 'wal entries not contiguous');
      parts.push(entryRecord(e));
    }
    if (hs) parts.push(hardStateRecord(hs));
    if (parts.length === 0) return;
    if (this.size >= this.segmentBytesMax) await this.rotate(entries[0]?.index ?? this.last + 1n);
    const buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    // O_DSYNC: durable when write() returns, whether or not `sync` asked for it — so the
    // write is what etcd_disk_wal_fsync_duration_seconds measures here.
    const t0 = performance.now();
    await this.fh.write(buf, this.size);
    metrics.disk.walFsync.observe(secondsSince(t0));
    this.size += buf.length;
    metrics.disk.walWriteBytes += buf.length;
    if (floor !== undefined) this.last = floor;
    const tail = entries[entries.length - 1];
    if (tail) this.last = tail.index;
    if (hs) this.hs = { ...hs };
  }

  /** Starts a new segment whose first record is the current hard state. */
  private async rotate(nextIndex: bigint): Promise<void> {
    await this.fh.close();
    const prev = this.segments[this.segments.length - 1] as Segment;
    const seg: Segment = { seq: prev.seq + 1n, first: nextIndex, file: path.join(this.dir, segName(prev.seq + 1n, nextIndex)) };
    this.fh = await createSegment(this.disk, seg.file, this.segmentBytesMax, this.dir);
    const hs = hardStateRecord(this.hs);
    await this.fh.write(hs, 0);
    this.segments.push(seg);
    this.size = hs.length;
  }

  /** Deletes sealed segments that hold only entries below `index`. */
  async compact(index: bigint): Promise<void> {
    while (this.segments.length > 1) {
      const next = this.segments[1] as Segment;
      if (next.first > index) break;
      const old = this.segments.shift() as Segment;
      await this.disk.remove(old.file);
    }
  }

  /** Bytes of records in the current segment (tests). */
  dataBytes(): number {
    return this.size;
  }

  /** Segment files, oldest first (tests). */
  files(): string[] {
    return this.segments.map((x) => x.file);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
