/**
 * 64-bit quantities are bigint inside etcdts. These helpers convert at the edges: the wire
 * (strings from proto-loader with longs: String), storage (8-byte big-endian) and printing.
 */
import { assert } from './assert.js';

export const u64Max = (1n << 64n) - 1n;
export const i64Max = (1n << 63n) - 1n;
export const i64Min = -(1n << 63n);

export function toBigInt(v: string | number | bigint | null | undefined | { toString(): string }): bigint {
  if (v === null || v === undefined || v === '') return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return BigInt(v.toString());
}

export function u64ToBytesBE(v: bigint, out = new Uint8Array(8), offset = 0): Uint8Array {
  assert(v >= 0n && v <= u64Max, `u64 out of range: ${v}`);
  let x = v;
  for (let i = 7; i >= 0; i--) {
    out[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export function u64FromBytesBE(b: Uint8Array, offset = 0): bigint {
  let x = 0n;
  for (let i = 0; i < 8; i++) x = (x << 8n) | BigInt(b[offset + i] as number);
  return x;
}

/** Lower-case hex without padding, as Go's %x. */
export function hex(v: bigint): string {
  return (v < 0n ? v + (1n << 64n) : v).toString(16);
}

/** Zero-padded 16-digit hex, as Go's %016x. */
export function hex16(v: bigint): string {
  return hex(v).padStart(16, '0');
}

/** Interpret a signed int64 as its unsigned bit pattern (Go's uint64(x)). */
export function asU64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** Interpret an unsigned 64-bit value as signed (Go's int64(x)). */
export function asI64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
