/**
 * The fuzzer's input makers, all driven by one seeded generator so that a seed and an input
 * number regenerate the same bytes: random protobuf messages of a given type (valid by
 * construction, from proto/ through protobufjs reflection), and mutations of byte strings
 * (bit flips, byte edits, truncation, splices, varints that overflow, lengths that lie).
 */
import protobuf from 'protobufjs';
import type { SeededRand } from '../../src/base/random.js';

export function bytes(r: SeededRand, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = r.int(256);
  return b;
}

function pick<T>(r: SeededRand, xs: readonly T[]): T {
  return xs[r.int(xs.length)] as T;
}

const interestingInts = [0, 1, -1, 2, 127, 128, 255, 256, 32767, 65535, 0x7fffffff, -0x80000000, 0xffffffff];
const interestingLongs = ['0', '1', '-1', '9223372036854775807', '-9223372036854775808', '18446744073709551615', '4294967296'];
const interestingStrings = ['', 'a', 'foo', '\u0000', '/', 'root', '\u00ff\u00fe', 'x'.repeat(300), '%%%', '../..', 'k\n\r'];

function randomScalar(r: SeededRand, type: string): unknown {
  switch (type) {
    case 'string':
      return r.next() < 0.5 ? pick(r, interestingStrings) : bytes(r, r.int(20)).toString('latin1');
    case 'bytes':
      return r.next() < 0.3 ? Buffer.from(pick(r, interestingStrings)) : bytes(r, r.int(r.next() < 0.9 ? 24 : 2000));
    case 'bool':
      return r.next() < 0.5;
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64': {
      // protobufjs takes decimal strings for 64-bit fields.
      return r.next() < 0.5 ? pick(r, interestingLongs) : String(r.int(1_000_000));
    }
    case 'double':
    case 'float':
      return r.next() * 1e6;
    default:
      return r.next() < 0.5 ? pick(r, interestingInts) : r.int(1000);
  }
}

/** A random message of `type` (depth-limited), as a plain object protobufjs can encode. */
export function randomMessage(r: SeededRand, type: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const oneofSet = new Set<string>();
  for (const f of type.fieldsArray) {
    if (r.next() < 0.35) continue;
    if (f.partOf) {
      if (oneofSet.has(f.partOf.name)) continue;
      oneofSet.add(f.partOf.name);
    }
    f.resolve();
    const one = (): unknown => {
      if (f.resolvedType instanceof protobuf.Type) return depth >= 3 ? {} : randomMessage(r, f.resolvedType, depth + 1);
      if (f.resolvedType instanceof protobuf.Enum) {
        const vals = Object.values(f.resolvedType.values);
        return r.next() < 0.9 ? pick(r, vals) : r.int(100);
      }
      return randomScalar(r, f.type);
    };
    if (f.repeated) out[f.name] = Array.from({ length: r.int(depth >= 2 ? 2 : 4) }, one);
    else out[f.name] = one();
  }
  return out;
}

export function encodeRandom(r: SeededRand, type: protobuf.Type): Buffer {
  const obj = randomMessage(r, type);
  return Buffer.from(type.encode(type.fromObject(obj)).finish());
}

function varintBytes(v: bigint): number[] {
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** One mutation of `b` (never longer than `maxLen`). */
export function mutate(r: SeededRand, b: Buffer, maxLen = 64 * 1024): Buffer {
  const x = Buffer.from(b);
  switch (r.int(12)) {
    case 0: {
      // flip bits
      for (let k = 1 + r.int(4); k > 0 && x.length > 0; k--) {
        const i = r.int(x.length);
        x[i] = (x[i] as number) ^ (1 << r.int(8));
      }
      return x;
    }
    case 1: {
      // set bytes to interesting values
      for (let k = 1 + r.int(3); k > 0 && x.length > 0; k--) x[r.int(x.length)] = pick(r, [0, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x08]);
      return x;
    }
    case 2:
      return x.subarray(0, r.int(x.length + 1));
    case 3: {
      const i = r.int(x.length + 1);
      return Buffer.concat([x.subarray(0, i), bytes(r, 1 + r.int(16)), x.subarray(i)]).subarray(0, maxLen);
    }
    case 4: {
      const i = r.int(x.length + 1);
      return Buffer.concat([x.subarray(0, i), x.subarray(Math.min(x.length, i + 1 + r.int(8)))]);
    }
    case 5: {
      // duplicate a slice (repeated / duplicated fields)
      if (x.length === 0) return x;
      const i = r.int(x.length);
      const j = Math.min(x.length, i + 1 + r.int(32));
      const times = 1 + r.int(r.next() < 0.1 ? 200 : 4);
      return Buffer.concat([x, ...Array.from({ length: times }, () => x.subarray(i, j))]).subarray(0, maxLen);
    }
    case 6: {
      // a field whose length claims more than there is
      const tag = ((1 + r.int(20)) << 3) | 2;
      const claim = pick(r, [0x7fffffffn, 0xffffffffn, 1n << 40n, BigInt(x.length + 1 + r.int(100))]);
      return Buffer.concat([x, Buffer.from([tag, ...varintBytes(claim)]), bytes(r, r.int(4))]);
    }
    case 7: {
      // an overlong varint (11+ bytes) somewhere
      const i = r.int(x.length + 1);
      const v = Buffer.from([...Array.from({ length: 10 + r.int(8) }, () => 0xff), 0x01]);
      return Buffer.concat([x.subarray(0, i), Buffer.from([(1 + r.int(15)) << 3]), v, x.subarray(i)]).subarray(0, maxLen);
    }
    case 8: {
      // wire types 3, 4, 6, 7 (groups, invalid)
      const tag = ((1 + r.int(15)) << 3) | pick(r, [3, 4, 6, 7]);
      const i = r.int(x.length + 1);
      return Buffer.concat([x.subarray(0, i), Buffer.from([tag]), x.subarray(i)]);
    }
    case 9: {
      // field number 0 or huge
      const tag = varintBytes((pick(r, [0n, 536870911n, 19000n, 1n << 29n]) << 3n) | BigInt(r.int(3)));
      return Buffer.concat([Buffer.from(tag), x]);
    }
    case 10:
      return bytes(r, r.int(64));
    default: {
      // splice two halves of itself
      const i = r.int(x.length + 1);
      const j = r.int(x.length + 1);
      return Buffer.concat([x.subarray(0, i), x.subarray(j)]);
    }
  }
}

/** Several stacked mutations. */
export function mutateMany(r: SeededRand, b: Buffer, maxLen?: number): Buffer {
  let x = b;
  for (let k = 1 + (r.next() < 0.3 ? r.int(4) : 0); k > 0; k--) x = mutate(r, x, maxLen);
  return x;
}
