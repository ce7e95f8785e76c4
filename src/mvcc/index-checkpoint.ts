/**
 * A checkpoint of the in-memory key index (issue 11: restart time with a million keys). A
 * member that stops gracefully writes its key index — every key's generations, and the lease of
 * its live value — to one file; the next start loads it and reads from the database only the
 * records written after it, instead of every record of the store (etcd, and etcdts without a
 * checkpoint, rebuild the index from all revisions: 6 s for a million keys here).
 *
 * File (member/index.ckpt): "ETIX" | u8 version | u64 checkpoint id | f64 revision R | u32 keys |
 * per key in key order: varint id length, id bytes (latin1), varint 8 fixed fields, varint
 * |cur| and cur, varint |old| and old, lease (u8 0 | u8 1 + 8 bytes two's complement) | sha256
 * of everything before it. Numbers are non-negative integers below 2^53 (varint in 7-bit groups).
 *
 * Trust: the checkpoint is used only when (1) its digest is right, (2) the database holds
 * meta `index_checkpoint` = the file's id — written (synced) after the file, so a crash between
 * the two leaves a mismatch, and a snapshot install replaces the meta key with the leader's or
 * none — and (3) every record at or below R is still what the checkpoint describes: records are
 * immutable and only compaction removes them, which open() reapplies to the index from the
 * scheduled compaction revision — provided that revision is ≤ R: a compaction past R may have
 * removed records after R, whose histories the checkpoint then could not continue, so KvStore
 * reads everything instead. Anything else falls back to the full scan too. Records above R
 * (written after the checkpoint, before a crash or the next stop) are read and applied as the
 * full scan would.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Backend, WriteBatch } from '../storage/backend.js';
import { nodeDisk, type Disk } from '../storage/disk.js';
import { metaKey } from '../storage/schema.js';
import { KeyIndex } from './key-index.js';

const magic = Buffer.from('ETIX');
const version = 1;

export class CheckpointError extends Error {}

class Out {
  private chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  readonly hash = createHash('sha256');

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flushChunk();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  private flushChunk(): void {
    if (this.pos === 0) return;
    const c = Buffer.from(this.buf.subarray(0, this.pos));
    this.hash.update(c);
    this.chunks.push(c);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
  }

  raw(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  varint(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  latin1(s: string): void {
    this.varint(s.length);
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  numbers(xs: number[] | null): void {
    if (xs === null) return this.varint(0);
    this.varint(xs.length);
    for (const x of xs) this.varint(x);
  }

  finish(): Buffer[] {
    this.flushChunk();
    this.chunks.push(this.hash.digest());
    return this.chunks;
  }
}

class In {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly end: number,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.end) throw new CheckpointError('index checkpoint truncated');
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      this.need(1);
      const b = this.buf[this.pos++] as number;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new CheckpointError('index checkpoint varint too long');
  }

  latin1(): string {
    const n = this.varint();
    this.need(n);
    const s = this.buf.toString('latin1', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  numbers(): number[] | null {
    const n = this.varint();
    if (n === 0) return null;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.varint();
    return out;
  }
}

export interface IndexSnapshot {
  /** Keys in key order. */
  keys: KeyIndex[];
  /** The lease of each live key that has one, by key id. */
  leases: Map<string, bigint>;
  /** Every record with main revision ≤ this is described by the checkpoint. */
  revision: number;
}

export function checkpointFile(dataDir: string): string {
  return path.join(dataDir, 'member', 'index.ckpt');
}

/**
 * Writes the checkpoint of `keys` (in key order, every record ≤ revision landed), then records
 * its id in the backend (synced). Returns the bytes written.
 */
export async function writeIndexCheckpoint(
  file: string,
  backend: Backend,
  keys: Iterable<KeyIndex>,
  leaseOf: (ki: KeyIndex) => bigint,
  revision: number,
  count: number,
  disk: Disk = nodeDisk,
  /** 8 bytes naming this checkpoint (default random; the simulator's come from its seed). */
  id: Buffer = randomBytes(8),
): Promise<number> {
  const o = new Out();
  o.raw(magic);
  o.raw(Buffer.from([version]));
  o.raw(id);
  const head = Buffer.allocUnsafe(12);
  head.writeDoubleBE(revision, 0);
  head.writeUInt32BE(count, 8);
  o.raw(head);
  let n = 0;
  const lease = Buffer.allocUnsafe(9);
  for (const ki of keys) {
    n++;
    o.latin1(ki.id);
    const d = ki.dump();
    for (const f of d.fields) o.varint(f);
    o.numbers(d.cur);
    o.numbers(d.old);
    const l = ki.isLive() ? leaseOf(ki) : 0n;
    if (l === 0n) o.raw(Buffer.from([0]));
    else {
      lease[0] = 1;
      lease.writeBigInt64BE(BigInt.asIntN(64, l), 1);
      o.raw(lease);
    }
  }
  if (n !== count) throw new CheckpointError(`index checkpoint: ${n} keys, expected ${count}`);
  const chunks = o.finish();
  const tmp = `${file}.tmp`;
  const fh = await disk.open(tmp, { create: true, mode: 0o600 });
  let bytes = 0;
  try {
    for (const c of chunks) {
      await fh.write(c, bytes);
      bytes += c.length;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await disk.rename(tmp, file);
  const b = new WriteBatch();
  b.put(metaKey.indexCheckpoint, id);
  await backend.commit(b, true);
  return bytes;
}

/** The checkpoint, or null when there is none or it cannot be trusted (see the header). */
export async function readIndexCheckpoint(file: string, backend: Backend, disk: Disk = nodeDisk): Promise<IndexSnapshot | null> {
  let buf: Buffer;
  try {
    buf = await disk.readFile(file);
  } catch {
    return null;
  }
  if (buf.length < 4 + 1 + 8 + 12 + 32 || !buf.subarray(0, 4).equals(magic) || buf[4] !== version) return null;
  const end = buf.length - 32;
  if (!createHash('sha256').update(buf.subarray(0, end)).digest().equals(buf.subarray(end))) return null;
  const id = buf.subarray(5, 13);
  const stored = backend.getSync(metaKey.indexCheckpoint);
  if (stored === undefined || !stored.equals(id)) return null;
  const revision = buf.readDoubleBE(13);
  const count = buf.readUInt32BE(21);
  const r = new In(buf, end);
  r.pos = 25;
  const keys = new Array<KeyIndex>(count);
  const leases = new Map<string, bigint>();
  const fields = new Array<number>(8);
  let prev = '';
  for (let i = 0; i < count; i++) {
    const kid = r.latin1();
    if (i > 0 && !(prev < kid)) throw new CheckpointError('index checkpoint keys out of order');
    prev = kid;
    for (let f = 0; f < 8; f++) fields[f] = r.varint();
    const cur = r.numbers();
    const old = r.numbers();
    keys[i] = KeyIndex.undump(kid, [...fields], cur, old);
    r.need(1);
    if (buf[r.pos++] === 1) {
      r.need(8);
      leases.set(kid, buf.readBigInt64BE(r.pos));
      r.pos += 8;
    }
  }
  if (r.pos !== end) throw new CheckpointError('index checkpoint has trailing bytes');
  return { keys, leases, revision };
}

/** Removes a checkpoint (snapshot install: the database is another's now). */
export async function removeIndexCheckpoint(file: string, disk: Disk = nodeDisk): Promise<void> {
  await disk.remove(file);
}
