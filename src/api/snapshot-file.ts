/**
 * The snapshot file format: a bbolt database file, the format etcd streams from
 * Maintenance.Snapshot and `etcdctl snapshot status|restore` read (go.etcd.io/bbolt, page
 * layout of bbolt 1.3: page.go, meta in db.go, node.go). Writing the same format means a
 * snapshot of etcdts can be inspected and restored by the real etcdctl 3.4 and started by a real
 * etcd, and a snapshot of a real etcd can be restored into etcdts. The stream ends with the
 * SHA-256 of the file (etcd v3rpc maintenance.go Snapshot), which restore checks.
 *
 * Only what a snapshot needs is built: the writer bulk-loads buckets whose keys arrive in
 * increasing order (leaves filled, then branch levels, bottom-up; no free pages); the reader
 * walks buckets (branch, leaf, overflow and inline pages) of any bbolt file.
 *
 * Layout written: page 0 and 1 meta (txid 1 and 2, same content), page 2 an empty freelist,
 * pages 3.. the bucket trees in the order they fill, then the root bucket's tree. All integers
 * little-endian (bbolt writes native order; etcd ships on little-endian machines).
 *
 * Invariants (writer): keys of a bucket strictly increase; every page below the high-water mark
 * is referenced exactly once (bbolt tx.Check finds no unreachable page); a node larger than a
 * page occupies consecutive pages (overflow = extra pages).
 */
import { assert } from '../base/assert.js';

export const pageBytes = 4096;
const pageHeaderBytes = 16;
const elementBytes = 16;
const bucketHeaderBytes = 16;
const metaBytes = 64;
const magic = 0xed0cdaed;
const formatVersion = 2;

const pageFlag = { branch: 0x01, leaf: 0x02, meta: 0x04, freelist: 0x10 } as const;
const bucketLeafFlag = 0x01;

/** SHA-256 size: etcd appends the file's digest to the snapshot stream. */
export const snapshotHashBytes = 32;

// ---- FNV-1a 64 (bbolt meta checksum) ----

function fnv64a(b: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const x of b) {
    h ^= BigInt(x);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

// ---- writer ----

/** Where written pages go: `pgid` × pageBytes is the file offset. */
export interface PageSink {
  write(pgid: number, data: Buffer): Promise<void>;
}

interface Elem {
  key: Buffer;
  value: Buffer;
  flags: number;
}

interface ChildRef {
  key: Buffer;
  pgid: number;
}

/** Allocates page ids in file order. */
class PageAllocator {
  next = 3;
  alloc(count: number): number {
    const id = this.next;
    this.next += count;
    return id;
  }
}

function pagesFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / pageBytes));
}

function pageHeader(buf: Buffer, pgid: number, flags: number, count: number, overflow: number): void {
  buf.writeBigUInt64LE(BigInt(pgid), 0);
  buf.writeUInt16LE(flags, 8);
  buf.writeUInt16LE(count, 10);
  buf.writeUInt32LE(overflow, 12);
}

function leafPage(pgid: number, elems: Elem[]): Buffer {
  let size = pageHeaderBytes + elems.length * elementBytes;
  for (const e of elems) size += e.key.length + e.value.length;
  const pages = pagesFor(size);
  const buf = Buffer.alloc(pages * pageBytes);
  pageHeader(buf, pgid, pageFlag.leaf, elems.length, pages - 1);
  let data = pageHeaderBytes + elems.length * elementBytes;
  elems.forEach((e, i) => {
    const at = pageHeaderBytes + i * elementBytes;
    buf.writeUInt32LE(e.flags, at);
    buf.writeUInt32LE(data - at, at + 4);
    buf.writeUInt32LE(e.key.length, at + 8);
    buf.writeUInt32LE(e.value.length, at + 12);
    data += e.key.copy(buf, data);
    data += e.value.copy(buf, data);
  });
  return buf;
}

function branchPage(pgid: number, children: ChildRef[]): Buffer {
  let size = pageHeaderBytes + children.length * elementBytes;
  for (const c of children) size += c.key.length;
  const pages = pagesFor(size);
  const buf = Buffer.alloc(pages * pageBytes);
  pageHeader(buf, pgid, pageFlag.branch, children.length, pages - 1);
  let data = pageHeaderBytes + children.length * elementBytes;
  children.forEach((c, i) => {
    const at = pageHeaderBytes + i * elementBytes;
    buf.writeUInt32LE(data - at, at);
    buf.writeUInt32LE(c.key.length, at + 4);
    buf.writeBigUInt64LE(BigInt(c.pgid), at + 8);
    data += c.key.copy(buf, data);
  });
  return buf;
}

/** A page's element count is a u16. */
const elemsPerPageMax = 0xffff;

/** Bulk-loads one bucket (or the root bucket) from keys in increasing order. */
export class BucketWriter {
  private leaf: Elem[] = [];
  private leafBytes = pageHeaderBytes;
  private readonly leaves: ChildRef[] = [];
  private lastKey: Buffer | null = null;
  private finished = false;

  constructor(
    private readonly alloc: PageAllocator,
    private readonly sink: PageSink,
  ) {}

  async add(key: Buffer, value: Buffer, flags = 0): Promise<void> {
    assert(!this.finished, 'add to a finished bucket');
    assert(key.length > 0, 'bbolt keys are not empty');
    assert(this.lastKey === null || Buffer.compare(this.lastKey, key) < 0, 'bucket keys must strictly increase');
    this.lastKey = key;
    const bytes = elementBytes + key.length + value.length;
    if (this.leaf.length > 0 && (this.leafBytes + bytes > pageBytes || this.leaf.length >= elemsPerPageMax)) await this.flushLeaf();
    this.leaf.push({ key, value, flags });
    this.leafBytes += bytes;
  }

  private async flushLeaf(): Promise<void> {
    const elems = this.leaf;
    this.leaf = [];
    this.leafBytes = pageHeaderBytes;
    const page = leafPage(0, elems);
    const pgid = this.alloc.alloc(page.length / pageBytes);
    page.writeBigUInt64LE(BigInt(pgid), 0);
    await this.sink.write(pgid, page);
    this.leaves.push({ key: elems[0]?.key ?? Buffer.alloc(0), pgid });
  }

  /** Writes what is left and the branch levels; returns the root page id. */
  async finish(): Promise<number> {
    assert(!this.finished, 'bucket finished twice');
    this.finished = true;
    if (this.leaf.length > 0 || this.leaves.length === 0) await this.flushLeaf();
    let level = this.leaves;
    while (level.length > 1) {
      const up: ChildRef[] = [];
      let group: ChildRef[] = [];
      let bytes = pageHeaderBytes;
      const flush = async (): Promise<void> => {
        const page = branchPage(0, group);
        const pgid = this.alloc.alloc(page.length / pageBytes);
        page.writeBigUInt64LE(BigInt(pgid), 0);
        await this.sink.write(pgid, page);
        up.push({ key: (group[0] as ChildRef).key, pgid });
        group = [];
        bytes = pageHeaderBytes;
      };
      for (const c of level) {
        const b = elementBytes + c.key.length;
        // At least two children per branch page, so every level shrinks.
        if (group.length >= 2 && (bytes + b > pageBytes || group.length >= elemsPerPageMax)) await flush();
        group.push(c);
        bytes += b;
      }
      if (group.length > 0) await flush();
      level = up;
    }
    return (level[0] as ChildRef).pgid;
  }
}

/**
 * Writes a whole bbolt file: open buckets with bucket(name) (any order, any interleaving of
 * adds), then finish() writes the root bucket, the freelist and the meta pages and returns the
 * number of pages (file size = pages × pageBytes).
 */
export class BoltWriter {
  private readonly alloc = new PageAllocator();
  private readonly buckets = new Map<string, BucketWriter>();

  constructor(private readonly sink: PageSink) {}

  bucket(name: string): BucketWriter {
    let b = this.buckets.get(name);
    if (!b) {
      b = new BucketWriter(this.alloc, this.sink);
      this.buckets.set(name, b);
    }
    return b;
  }

  async finish(): Promise<number> {
    const roots: [Buffer, number][] = [];
    for (const [name, b] of this.buckets) roots.push([Buffer.from(name, 'latin1'), await b.finish()]);
    roots.sort((a, b) => Buffer.compare(a[0], b[0]));
    const root = new BucketWriter(this.alloc, this.sink);
    for (const [name, pgid] of roots) {
      const header = Buffer.alloc(bucketHeaderBytes);
      header.writeBigUInt64LE(BigInt(pgid), 0); // root page; sequence 0
      await root.add(name, header, bucketLeafFlag);
    }
    const rootPgid = await root.finish();
    const hwm = this.alloc.next;
    const freelist = Buffer.alloc(pageBytes);
    pageHeader(freelist, 2, pageFlag.freelist, 0, 0);
    await this.sink.write(2, freelist);
    for (const pgid of [0, 1]) await this.sink.write(pgid, metaPage(pgid, rootPgid, hwm, pgid + 1));
    return hwm;
  }
}

function metaPage(pgid: number, rootPgid: number, hwm: number, txid: number): Buffer {
  const buf = Buffer.alloc(pageBytes);
  pageHeader(buf, pgid, pageFlag.meta, 0, 0);
  const m = pageHeaderBytes;
  buf.writeUInt32LE(magic, m);
  buf.writeUInt32LE(formatVersion, m + 4);
  buf.writeUInt32LE(pageBytes, m + 8);
  buf.writeUInt32LE(0, m + 12); // flags
  buf.writeBigUInt64LE(BigInt(rootPgid), m + 16); // root bucket: root page
  buf.writeBigUInt64LE(0n, m + 24); // root bucket: sequence
  buf.writeBigUInt64LE(2n, m + 32); // freelist page
  buf.writeBigUInt64LE(BigInt(hwm), m + 40); // high-water mark
  buf.writeBigUInt64LE(BigInt(txid), m + 48);
  buf.writeBigUInt64LE(fnv64a(buf.subarray(m, m + 56)), m + 56);
  return buf;
}

// ---- reader ----

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

/** Positional reads of the file (the trailing hash, if any, is past the pages). */
export interface FileReader {
  size: number;
  read(offset: number, length: number): Buffer;
}

interface Meta {
  pageSize: number;
  root: number;
  hwm: number;
  txid: bigint;
}

function readMeta(buf: Buffer): Meta | null {
  const m = pageHeaderBytes;
  if (buf.length < m + metaBytes) return null;
  if (buf.readUInt32LE(m) !== magic || buf.readUInt32LE(m + 4) !== formatVersion) return null;
  if (buf.readBigUInt64LE(m + 56) !== fnv64a(buf.subarray(m, m + 56))) return null;
  return {
    pageSize: buf.readUInt32LE(m + 8),
    root: Number(buf.readBigUInt64LE(m + 16)),
    hwm: Number(buf.readBigUInt64LE(m + 40)),
    txid: buf.readBigUInt64LE(m + 48),
  };
}

/** Reads the buckets of a bbolt file. */
export class BoltReader {
  readonly pageSize: number;
  private readonly meta: Meta;

  constructor(private readonly file: FileReader) {
    if (file.size < 2 * pageHeaderBytes + 2 * metaBytes) throw new SnapshotFormatError('file size too small');
    const m0 = readMeta(file.read(0, Math.min(file.size, pageBytes)));
    const size1 = m0?.pageSize ?? pageBytes;
    const m1 = file.size >= size1 + pageHeaderBytes + metaBytes ? readMeta(file.read(size1, Math.min(file.size - size1, pageBytes))) : null;
    const best = m0 && m1 ? (m1.txid > m0.txid ? m1 : m0) : (m0 ?? m1);
    if (!best) throw new SnapshotFormatError('invalid database');
    if (best.pageSize < 512 || best.pageSize > 65536 || best.hwm * best.pageSize > file.size) throw new SnapshotFormatError('invalid database');
    this.meta = best;
    this.pageSize = best.pageSize;
  }

  /** Bytes of the database proper (bbolt Tx.Size: high-water mark × page size). */
  get size(): number {
    return this.meta.hwm * this.pageSize;
  }

  private page(pgid: number): Buffer {
    if (pgid < 2 || pgid >= this.meta.hwm) throw new SnapshotFormatError(`page ${pgid} out of range`);
    const head = this.file.read(pgid * this.pageSize, pageHeaderBytes);
    const overflow = head.readUInt32LE(12);
    const len = (overflow + 1) * this.pageSize;
    if (pgid + overflow >= this.meta.hwm) throw new SnapshotFormatError(`page ${pgid} overflows the file`);
    return this.file.read(pgid * this.pageSize, len);
  }

  /** Names of the top-level buckets, in key order. */
  bucketNames(): Buffer[] {
    const out: Buffer[] = [];
    for (const e of this.walk(this.meta.root, null)) out.push(e.key);
    return out;
  }

  /** Key/value pairs of a top-level bucket in key order; null if there is no such bucket. */
  bucket(name: Buffer): Iterable<[Buffer, Buffer]> | null {
    for (const e of this.walk(this.meta.root, null)) {
      if (!e.key.equals(name)) continue;
      if (!(e.flags & bucketLeafFlag)) throw new SnapshotFormatError(`${name.toString()} is not a bucket`);
      const root = Number(e.value.readBigUInt64LE(0));
      const inline = root === 0 ? e.value.subarray(bucketHeaderBytes) : null;
      const self = this;
      return {
        *[Symbol.iterator]() {
          for (const x of self.walk(root, inline)) if (!(x.flags & bucketLeafFlag)) yield [x.key, x.value] as [Buffer, Buffer];
        },
      };
    }
    return null;
  }

  private *walk(pgid: number, inline: Buffer | null, depth = 0): Generator<Elem> {
    if (depth > 64) throw new SnapshotFormatError('tree too deep');
    const p = inline ?? this.page(pgid);
    const flags = p.readUInt16LE(8);
    const count = p.readUInt16LE(10);
    if (flags & pageFlag.leaf) {
      for (let i = 0; i < count; i++) {
        const at = pageHeaderBytes + i * elementBytes;
        const eflags = p.readUInt32LE(at);
        const pos = at + p.readUInt32LE(at + 4);
        const ksize = p.readUInt32LE(at + 8);
        const vsize = p.readUInt32LE(at + 12);
        if (pos + ksize + vsize > p.length) throw new SnapshotFormatError(`element beyond page ${pgid}`);
        yield { flags: eflags, key: p.subarray(pos, pos + ksize), value: p.subarray(pos + ksize, pos + ksize + vsize) };
      }
    } else if (flags & pageFlag.branch) {
      for (let i = 0; i < count; i++) {
        const at = pageHeaderBytes + i * elementBytes;
        yield* this.walk(Number(p.readBigUInt64LE(at + 8)), null, depth + 1);
      }
    } else {
      throw new SnapshotFormatError(`page ${pgid}: unexpected page type ${flags}`);
    }
  }
}
