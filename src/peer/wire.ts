/**
 * Protobuf wire primitives for the peer codec (codec.ts): varint sizes, a writer into an
 * exact-size buffer, and a bounds-checked reader. uint64 values are bigint; every read checks the
 * frame's end and throws PeerDecodeError instead of reading past it.
 */
export class PeerDecodeError extends Error {
  override name = 'PeerDecodeError';
}

export const u64Limit = 1n << 64n;
export const u32 = 0x1_0000_0000n;

export function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of a uint64 varint; RangeError outside [0, 2^64). */
export function u64Size(v: bigint): number {
  if (v < u32) {
    if (v < 0n) throw new RangeError(`value out of uint64 range: ${v}`);
    return varint32Size(Number(v));
  }
  if (v >= u64Limit) throw new RangeError(`value out of uint64 range: ${v}`);
  let hi = Number(v >> 32n);
  // The low 32 bits take 4 full groups (28 bits) plus 4 bits shared with the high half.
  let n = 5;
  hi >>>= 3;
  while (hi > 0) {
    n++;
    hi >>>= 7;
  }
  return n;
}

export function lenFieldSize(len: number): number {
  return 1 + varint32Size(len) + len;
}

export function u64FieldSize(v: bigint): number {
  return v === 0n ? 0 : 1 + u64Size(v);
}

export class Writer {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  varint32(v: number): void {
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  u64(v: bigint): void {
    if (v < u32) return this.varint32(Number(v));
    let lo = Number(v & 0xffffffffn);
    let hi = Number(v >> 32n);
    while (hi > 0) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  u64Field(tag: number, v: bigint): void {
    if (v === 0n) return;
    this.byte(tag);
    this.u64(v);
  }

  bytesField(tag: number, b: Uint8Array): void {
    this.byte(tag);
    this.varint32(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  header(tag: number, len: number): void {
    this.byte(tag);
    this.varint32(len);
  }
}

export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new PeerDecodeError(`malformed peer frame: ${what} at byte ${this.pos}`);
  }

  next(): number {
    if (this.pos >= this.end) this.fail('truncated');
    return this.buf[this.pos++] as number;
  }

  varint32(): number {
    let b = this.next();
    if (b < 0x80) return b;
    let v = b & 0x7f;
    for (let shift = 7; ; shift += 7) {
      b = this.next();
      if (shift === 28) {
        if (b > 0x0f) this.fail('32-bit value too large');
        return v + b * 0x10000000;
      }
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  }

  u64(): bigint {
    let lo = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.next();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return BigInt(lo >>> 0);
    }
    b = this.next();
    lo = (lo | ((b & 0x7f) << 28)) >>> 0;
    let hi = (b & 0x7f) >>> 4;
    if (b >= 0x80) {
      for (let shift = 3; ; shift += 7) {
        b = this.next();
        // The tenth byte holds bit 63 only.
        if (shift === 31 && b > 1) this.fail('varint beyond 64 bits');
        hi = (hi | ((b & 0x7f) << shift)) >>> 0;
        if (b < 0x80) break;
      }
    }
    return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Start and end of a length-delimited field's payload; moves past it. */
  span(): [number, number] {
    const len = this.varint32();
    const start = this.pos;
    if (len > this.end - start) this.fail('length beyond frame');
    this.pos = start + len;
    return [start, start + len];
  }

  /** A copy, as a plain Uint8Array (Buffer#slice would alias the frame, and stay a Buffer). */
  bytes(): Uint8Array {
    const [s, e] = this.span();
    const out = copySlot(e - s);
    out.set(this.buf.subarray(s, e));
    return out;
  }

  bool(): boolean {
    return this.u64() !== 0n;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.u64();
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
    if (this.pos > this.end) this.fail('truncated');
  }

  sub(): Reader {
    const [s, e] = this.span();
    return new Reader(this.buf, s, e);
  }

  /** Repeated uint64, packed or not. */
  repeatedU64(wireType: number, into: bigint[]): void {
    if (wireType === 0) {
      into.push(this.u64());
      return;
    }
    if (wireType !== 2) this.fail('repeated uint64 wire type');
    const r = this.sub();
    while (r.pos < r.end) into.push(r.u64());
  }

  expect(wireType: number, want: number): void {
    if (wireType !== want) this.fail(`wire type ${wireType}, want ${want}`);
  }
}

/** Small copies are cut from shared 8 KiB slabs (as Node's Buffer pool does): one view object
 *  per copy instead of a whole ArrayBuffer. A slab lives while any copy cut from it does. */
const slabBytes = 8192;
const slabCopyMax = 512;
let slab = new ArrayBuffer(slabBytes);
let slabUsed = 0;

function copySlot(len: number): Uint8Array {
  if (len > slabCopyMax) return new Uint8Array(len);
  if (slabUsed + len > slabBytes) {
    slab = new ArrayBuffer(slabBytes);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, len);
  // Keep views 8-byte aligned, as the Buffer pool does.
  slabUsed += (len + 7) & ~7;
  return out;
}
