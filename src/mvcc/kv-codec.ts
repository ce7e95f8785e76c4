/**
 * Encoding of MVCC record values on disk: the mvccpb.KeyValue protobuf encoding (as etcd stores
 * it in bbolt), written by hand because it runs once per write and once per record at start-up.
 * The record key is the revision (storage/schema.ts mvccKey). A tombstone's value holds the key
 * and the delete revision only.
 *
 * Decoded buffers are views into the record buffer (no copy): records are immutable, so a
 * KeyValue handed out is never changed by anyone (callers must not mutate it either).
 */
import { assert } from '../base/assert.js';
import type { KeyValue } from '../api/kv-types.js';

function varintLen(v: bigint): number {
  let x = BigInt.asUintN(64, v);
  let n = 1;
  while (x >= 0x80n) {
    x >>= 7n;
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: bigint): number {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    buf[pos++] = Number(x & 0x7fn) | 0x80;
    x >>= 7n;
  }
  buf[pos++] = Number(x);
  return pos;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  // Fast path in float64 arithmetic while the value fits 49 bits (every realistic revision,
  // version and length); bigint only for the rest (large or negative lease ids).
  let x = 0;
  let mul = 1;
  let p = pos;
  for (let i = 0; i < 7; i++) {
    const b = buf[p++];
    assert(b !== undefined, 'truncated varint');
    x += (b & 0x7f) * mul;
    if (b < 0x80) return [BigInt(x), p];
    mul *= 128;
  }
  let big = 0n;
  let shift = 0n;
  p = pos;
  for (;;) {
    const b = buf[p++];
    assert(b !== undefined, 'truncated varint');
    big |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7n;
  }
  return [BigInt.asIntN(64, big), p];
}

export function encodeKv(kv: KeyValue): Buffer {
  // Fields in number order, zero values omitted (proto3).
  let size = 1 + varintLen(BigInt(kv.key.length)) + kv.key.length;
  if (kv.create_revision !== 0n) size += 1 + varintLen(kv.create_revision);
  if (kv.mod_revision !== 0n) size += 1 + varintLen(kv.mod_revision);
  if (kv.version !== 0n) size += 1 + varintLen(kv.version);
  if (kv.value.length > 0) size += 1 + varintLen(BigInt(kv.value.length)) + kv.value.length;
  if (kv.lease !== 0n) size += 1 + varintLen(kv.lease);
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  out[p++] = (1 << 3) | 2;
  p = writeVarint(out, p, BigInt(kv.key.length));
  p += kv.key.copy(out, p);
  const int = (field: number, v: bigint): void => {
    if (v === 0n) return;
    out[p++] = field << 3;
    p = writeVarint(out, p, v);
  };
  int(2, kv.create_revision);
  int(3, kv.mod_revision);
  int(4, kv.version);
  if (kv.value.length > 0) {
    out[p++] = (5 << 3) | 2;
    p = writeVarint(out, p, BigInt(kv.value.length));
    p += kv.value.copy(out, p);
  }
  int(6, kv.lease);
  assert(p === size, `kv encoding size mismatch ${p} != ${size}`);
  return out;
}

export function decodeKv(buf: Buffer): KeyValue {
  const kv: KeyValue = {
    key: Buffer.alloc(0),
    create_revision: 0n,
    mod_revision: 0n,
    version: 0n,
    value: Buffer.alloc(0),
    lease: 0n,
  };
  let p = 0;
  while (p < buf.length) {
    const tag = buf[p++] as number;
    const field = tag >> 3;
    const wire = tag & 7;
    if (wire === 2) {
      let len: bigint;
      [len, p] = readVarint(buf, p);
      const bytes = buf.subarray(p, p + Number(len));
      p += Number(len);
      if (field === 1) kv.key = bytes;
      else if (field === 5) kv.value = bytes;
    } else {
      assert(wire === 0, `unexpected wire type ${wire}`);
      let v: bigint;
      [v, p] = readVarint(buf, p);
      if (field === 2) kv.create_revision = v;
      else if (field === 3) kv.mod_revision = v;
      else if (field === 4) kv.version = v;
      else if (field === 6) kv.lease = v;
    }
  }
  return kv;
}

/** What start-up needs of a record, without allocating Buffers: see peekKv. */
export interface KvPeek {
  /** The key as latin1 (one char per byte). */
  key: string;
  createMain: number;
  version: number;
  lease: bigint;
}

/**
 * Reads a record's key, create revision, version and lease into `out` (reused across records:
 * start-up reads every record once, and a million KeyValue objects would be garbage at once).
 * Varints are read as numbers (no tuple, no bigint) except the lease, which may use 64 bits.
 */
export function peekKv(buf: Buffer, out: KvPeek): void {
  out.key = '';
  out.createMain = 0;
  out.version = 0;
  out.lease = 0n;
  const end = buf.length;
  let p = 0;
  while (p < end) {
    const tag = buf[p++] as number;
    const field = tag >> 3;
    // A varint as a number (exact to 2^53; lengths and revisions), remembering where it began.
    const start = p;
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++];
      assert(b !== undefined, 'truncated varint');
      v += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    if ((tag & 7) === 2) {
      if (field === 1) out.key = buf.toString('latin1', p, p + v);
      p += v;
    } else {
      assert((tag & 7) === 0, `unexpected wire type ${tag & 7}`);
      if (field === 2) out.createMain = v;
      else if (field === 4) out.version = v;
      else if (field === 6) out.lease = p - start > 7 ? readVarint(buf, start)[0] : BigInt(v);
    }
  }
}
