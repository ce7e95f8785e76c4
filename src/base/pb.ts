/**
 * Protobuf wire primitives for the hand-written codecs of the hot path (api/codec/): a
 * bounds-checked reader that yields bytes as views (no copy) and 64-bit integers as bigint, and
 * size/write helpers for an exact-size two-pass encoder (size first, then write into one buffer).
 *
 * Semantics as Go's proto3 marshal and unmarshal: unknown fields are skipped; for repeated
 * scalars both packed and unpacked forms are read; int64 is two's complement (a negative value
 * is a 10-byte varint); zero scalars, empty bytes and absent messages are not written.
 * Every read past the end, bad wire type or over-long varint throws PbDecodeError.
 */
export class PbDecodeError extends Error {
  override name = 'PbDecodeError';
}

const two32 = 0x1_0000_0000;

export class PbReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new PbDecodeError(`proto: ${what} at byte ${this.pos}`);
  }

  more(): boolean {
    return this.pos < this.end;
  }

  /** A field tag: field number × 8 + wire type. */
  tag(): number {
    const t = this.varint32();
    if (t >>> 3 === 0) this.fail('illegal tag 0');
    return t;
  }

  varint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++] as number;
    if (this.pos > this.end) this.fail('unexpected EOF');
    if (b < 0x80) return b;
    let v = b & 0x7f;
    let mul = 0x80;
    for (let i = 1; i < 10; i++) {
      if (this.pos >= this.end) this.fail('unexpected EOF');
      b = buf[this.pos++] as number;
      if (i < 5) v += (b & 0x7f) * mul;
      if (b < 0x80) return v % two32;
      mul *= 0x80;
    }
    return this.fail('varint overflow');
  }

  /** A varint as bigint, two's complement signed (int64). */
  int64(): bigint {
    const buf = this.buf;
    let pos = this.pos;
    // Fast path: up to 7 bytes (49 bits) in float64 arithmetic.
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= this.end) this.fail('unexpected EOF');
      const b = buf[pos++] as number;
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return v === 0 ? 0n : BigInt(v);
      }
      mul *= 0x80;
    }
    let big = 0n;
    let shift = 0n;
    pos = this.pos;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) this.fail('unexpected EOF');
      const b = buf[pos++] as number;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return BigInt.asIntN(64, big);
      }
      shift += 7n;
    }
    return this.fail('varint overflow');
  }

  /** uint64 as bigint. */
  uint64(): bigint {
    const v = this.int64();
    return v < 0n ? BigInt.asUintN(64, v) : v;
  }

  bool(): boolean {
    const buf = this.buf;
    let any = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('unexpected EOF');
      const b = buf[this.pos++] as number;
      if ((b & 0x7f) !== 0) any = true;
      if (b < 0x80) return any;
    }
    return this.fail('varint overflow');
  }

  /** A length-delimited field's payload as a view into the buffer. */
  bytes(): Buffer {
    const len = this.varint32();
    const start = this.pos;
    if (len > this.end - start) this.fail('unexpected EOF');
    this.pos = start + len;
    return this.buf.subarray(start, start + len);
  }

  string(): string {
    const len = this.varint32();
    const start = this.pos;
    if (len > this.end - start) this.fail('unexpected EOF');
    this.pos = start + len;
    return this.buf.toString('utf8', start, start + len);
  }

  /** Start and end of an embedded message; moves past it. */
  span(): [number, number] {
    const len = this.varint32();
    const start = this.pos;
    if (len > this.end - start) this.fail('unexpected EOF');
    this.pos = start + len;
    return [start, start + len];
  }

  /** Repeated enum/int32 values, packed or not. */
  repeatedInt32(wireType: number, into: number[]): void {
    if (wireType === 0) {
      into.push(this.varint32() | 0);
      return;
    }
    if (wireType !== 2) this.fail(`wire type ${wireType} for a repeated scalar`);
    const [s, e] = this.span();
    const sub = new PbReader(this.buf, s, e);
    while (sub.more()) into.push(sub.varint32() | 0);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.int64();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.span();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        this.fail(`wire type ${wireType}`);
    }
    if (this.pos > this.end) this.fail('unexpected EOF');
  }

  expect(wireType: number, want: number): void {
    if (wireType !== want) this.fail(`wire type ${wireType}, want ${want}`);
  }
}

// ---- sizes ----

export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : v < 0x800000000 ? 5 : v < 0x40000000000 ? 6 : v < 0x2000000000000 ? 7 : 8;
}

const u32n = 0x1_0000_0000n;

/** Bytes of an int64/uint64 varint (negative: 10). */
export function int64Size(v: bigint): number {
  if (v < 0n) return 10;
  if (v < u32n) return varintSize(Number(v));
  const enc = bigVarints.get(v);
  if (enc !== undefined) return enc.length;
  let n = 5;
  let x = v >> 35n;
  while (x > 0n) {
    n++;
    x >>= 7n;
  }
  return n;
}

/** A non-zero int64 field with a 1-byte tag (fields 1–15). */
export function int64FieldSize(v: bigint): number {
  return v === 0n ? 0 : 1 + int64Size(v);
}

export function bytesFieldSize(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len;
}

/** An embedded message field with a 1-byte tag (written even when empty). */
export function messageFieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

// ---- writing ----

/**
 * Varints of int64 values beyond 2^53 — in practice the cluster and member ids in every
 * response header, and lease ids. Encoding one with bigint arithmetic allocates ~20 BigInts
 * (a tenth of a put's allocations, measured), so the first bigVarintsMax such values are kept
 * encoded; others are encoded each time.
 */
const bigVarints = new Map<bigint, Uint8Array>();
const bigVarintsMax = 256;

function bigVarint(v: bigint): Uint8Array {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  const enc = Uint8Array.from(out);
  if (bigVarints.size < bigVarintsMax) bigVarints.set(v, enc);
  return enc;
}

export class PbWriter {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  varint(v: number): void {
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  int64(v: bigint): void {
    if (v >= 0n && v < 0x20000000000000n) return this.varint(Number(v));
    const enc = bigVarints.get(v) ?? bigVarint(v);
    const buf = this.buf;
    for (let i = 0; i < enc.length; i++) buf[this.pos++] = enc[i] as number;
  }

  int64Field(tag: number, v: bigint): void {
    if (v === 0n) return;
    this.buf[this.pos++] = tag;
    this.int64(v);
  }

  boolField(tag: number, v: boolean): void {
    if (!v) return;
    this.buf[this.pos++] = tag;
    this.buf[this.pos++] = 1;
  }

  bytesField(tag: number, b: Uint8Array): void {
    if (b.length === 0) return;
    this.buf[this.pos++] = tag;
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Tag and length of an embedded message whose bytes follow. */
  header(tag: number, len: number): void {
    this.buf[this.pos++] = tag;
    this.varint(len);
  }

  raw(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}
