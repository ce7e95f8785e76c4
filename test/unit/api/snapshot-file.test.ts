/**
 * The bbolt snapshot format: what the writer bulk-loads the reader reads back (branch levels,
 * overflow pages, empty buckets), and the file passes bbolt's own consistency rules (every page
 * below the high-water mark referenced exactly once, valid meta checksums, page ids in headers).
 */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/base/crc32c.js';
import { BoltReader, BoltWriter, SnapshotFormatError, pageBytes } from '../../../src/api/snapshot-file.js';

async function build(buckets: Record<string, [Buffer, Buffer][]>): Promise<Buffer> {
  const pages = new Map<number, Buffer>();
  const w = new BoltWriter({
    write: async (pgid, data) => {
      for (let i = 0; i < data.length / pageBytes; i++) {
        expect(pages.has(pgid + i), `page ${pgid + i} written twice`).toBe(false);
        pages.set(pgid + i, data.subarray(i * pageBytes, (i + 1) * pageBytes));
      }
    },
  });
  for (const [name, kvs] of Object.entries(buckets)) {
    const b = w.bucket(name);
    for (const [k, v] of kvs) await b.add(k, v);
  }
  const hwm = await w.finish();
  const file = Buffer.alloc(hwm * pageBytes);
  for (let i = 0; i < hwm; i++) {
    const p = pages.get(i);
    expect(p, `page ${i} below the high-water mark never written`).toBeDefined();
    p?.copy(file, i * pageBytes);
  }
  return file;
}

function reader(file: Buffer): BoltReader {
  return new BoltReader({ size: file.length, read: (o, l) => file.subarray(o, o + l) });
}

/** bbolt tx.Check's page accounting: each page < hwm is meta, freelist or reachable once. */
function checkPages(file: Buffer): void {
  const hwm = Number(file.readBigUInt64LE(16 + 40));
  const seen = new Map<number, number>([[0, 1], [1, 1], [2, 1]]);
  const visit = (pgid: number): void => {
    const at = pgid * pageBytes;
    expect(Number(file.readBigUInt64LE(at))).toBe(pgid);
    const flags = file.readUInt16LE(at + 8);
    const count = file.readUInt16LE(at + 10);
    const overflow = file.readUInt32LE(at + 12);
    for (let i = 0; i <= overflow; i++) seen.set(pgid + i, (seen.get(pgid + i) ?? 0) + 1);
    for (let i = 0; i < count; i++) {
      const e = at + 16 + i * 16;
      if (flags === 0x01) visit(Number(file.readBigUInt64LE(e + 8)));
      else if (flags === 0x02 && file.readUInt32LE(e) & 1) {
        const pos = e + file.readUInt32LE(e + 4);
        const root = Number(file.readBigUInt64LE(pos + file.readUInt32LE(e + 8)));
        visit(root);
      }
    }
  };
  visit(Number(file.readBigUInt64LE(16 + 16)));
  for (let i = 0; i < hwm; i++) expect(seen.get(i), `page ${i}`).toBe(1);
}

describe('bbolt snapshot file', () => {
  it('reads back every bucket and key-value in order, across branch levels and overflow pages', async () => {
    const key: [Buffer, Buffer][] = [];
    for (let i = 0; i < 20_000; i++) {
      const k = Buffer.alloc(17);
      k.writeBigUInt64BE(BigInt(i + 2), 0);
      k[8] = 0x5f;
      key.push([k, Buffer.from(`value-${i}`.repeat(i % 97 === 0 ? 900 : 1))]);
    }
    const meta: [Buffer, Buffer][] = [[Buffer.from('consistent_index'), Buffer.alloc(8, 1)]];
    const file = await build({ meta, key, lease: [], alarm: [] });
    checkPages(file);
    const r = reader(file);
    expect(r.size).toBe(file.length);
    expect(r.bucketNames().map(String)).toEqual(['alarm', 'key', 'lease', 'meta']);
    const got = [...(r.bucket(Buffer.from('key')) ?? [])];
    expect(got.length).toBe(key.length);
    got.forEach(([k, v], i) => {
      expect(k.equals((key[i] as [Buffer, Buffer])[0])).toBe(true);
      expect(v.equals((key[i] as [Buffer, Buffer])[1])).toBe(true);
    });
    expect([...(r.bucket(Buffer.from('lease')) ?? [])]).toEqual([]);
    expect(r.bucket(Buffer.from('nope'))).toBeNull();
  });

  it('refuses keys out of order and files that are not bbolt', async () => {
    const w = new BoltWriter({ write: async () => undefined });
    const b = w.bucket('key');
    await b.add(Buffer.from('b'), Buffer.alloc(0));
    await expect(b.add(Buffer.from('a'), Buffer.alloc(0))).rejects.toThrow(/increase/);
    const garbage = Buffer.alloc(3 * pageBytes, 7);
    expect(() => reader(garbage)).toThrow(SnapshotFormatError);
    const file = await build({ key: [[Buffer.from('k'), Buffer.from('v')]] });
    file.writeUInt8((file[16 + 20] as number) ^ 1, 16 + 20); // meta 0 root page: checksum no longer matches, meta 1 is used
    expect([...(reader(file).bucket(Buffer.from('key')) ?? [])].length).toBe(1);
    file.writeUInt8((file[pageBytes + 16 + 20] as number) ^ 1, pageBytes + 16 + 20); // both metas broken
    expect(() => reader(file)).toThrow(SnapshotFormatError);
  });

  it('CRC-32C matches the Castagnoli check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});
