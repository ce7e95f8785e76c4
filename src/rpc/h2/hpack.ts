/**
 * HPACK (RFC 7541) for the server side of etcdts's HTTP/2: a full decoder (static and dynamic
 * table, Huffman strings, size updates) and a minimal encoder.
 *
 * The encoder never adds to the client's dynamic table: every field it sends is a static-table
 * index or a literal "without indexing" (§6.2.2), so its output for a given header list is a
 * constant and can be built once (see grpc-server.ts) — and the client's
 * SETTINGS_HEADER_TABLE_SIZE never matters to us.
 *
 * Decoder invariants: the dynamic table's size (32 + name + value octets per entry, §4.1) never
 * exceeds its maximum; a size update may only come first in a block and may not exceed the
 * size we advertised (§4.2, §6.3); every error is an HpackError, which the connection turns into
 * a COMPRESSION_ERROR (the table is then out of step with the client's, so the connection ends).
 * Strings are latin1 (one char per octet); header names must be lower case (HTTP/2 §8.2.1).
 */
import { HuffmanError, huffmanDecode } from './huffman.js';

export class HpackError extends Error {}

/** RFC 7541 Appendix A: index 1..61. */
export const staticTable: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const staticCount = staticTable.length - 1;

/** A decoded field; `name`/`value` are latin1 strings. */
export type HeaderField = [name: string, value: string];

/** An integer with an N-bit prefix (§5.1); rejects values past 2^31 (no legitimate use). */
function readInt(buf: Uint8Array, pos: number, end: number, prefixBits: number): [number, number] {
  const mask = (1 << prefixBits) - 1;
  let v = (buf[pos] as number) & mask;
  pos++;
  if (v < mask) return [v, pos];
  let shift = 0;
  for (;;) {
    if (pos >= end) throw new HpackError('truncated integer');
    const b = buf[pos++] as number;
    v += (b & 0x7f) * 2 ** shift;
    if (v > 0x7fffffff) throw new HpackError('integer overflow');
    if ((b & 0x80) === 0) return [v, pos];
    shift += 7;
    if (shift > 28) throw new HpackError('integer too long'); // else 0 × 2^shift turns NaN past 2^1024
  }
}

export class HpackDecoder {
  /** Newest first. */
  private entries: HeaderField[] = [];
  private size = 0;
  private maxSize: number;

  /** `tableBytesMax`: our SETTINGS_HEADER_TABLE_SIZE (the limit a size update may ask for). */
  constructor(private readonly tableBytesMax = 4096) {
    this.maxSize = tableBytesMax;
  }

  /**
   * Decodes one complete header block. `listBytesMax` bounds the decoded list (32 + name +
   * value per field, as SETTINGS_MAX_HEADER_LIST_SIZE counts); past it the block is still
   * decoded to the end (the table must stay in step) but `tooLarge` is set and fields dropped.
   */
  decode(buf: Uint8Array, listBytesMax: number): { fields: HeaderField[]; tooLarge: boolean } {
    const fields: HeaderField[] = [];
    let listBytes = 0;
    let tooLarge = false;
    let pos = 0;
    const end = buf.length;
    let sawField = false;
    const add = (f: HeaderField): void => {
      sawField = true;
      listBytes += 32 + f[0].length + f[1].length;
      if (listBytes > listBytesMax) tooLarge = true;
      else fields.push(f);
    };
    while (pos < end) {
      const b = buf[pos] as number;
      if (b & 0x80) {
        let idx;
        [idx, pos] = readInt(buf, pos, end, 7);
        add(this.field(idx));
      } else if (b & 0x40) {
        let idx;
        [idx, pos] = readInt(buf, pos, end, 6);
        let name: string;
        if (idx === 0) [name, pos] = this.readString(buf, pos, end);
        else name = this.field(idx)[0];
        let value: string;
        [value, pos] = this.readString(buf, pos, end);
        const f: HeaderField = [name, value];
        this.insert(f);
        add(f);
      } else if (b & 0x20) {
        if (sawField) throw new HpackError('dynamic table size update after a field');
        let n;
        [n, pos] = readInt(buf, pos, end, 5);
        if (n > this.tableBytesMax) throw new HpackError(`dynamic table size update to ${n} above ${this.tableBytesMax}`);
        this.maxSize = n;
        this.evict();
      } else {
        // 0000xxxx without indexing, 0001xxxx never indexed: same decoding.
        let idx;
        [idx, pos] = readInt(buf, pos, end, 4);
        let name: string;
        if (idx === 0) [name, pos] = this.readString(buf, pos, end);
        else name = this.field(idx)[0];
        let value: string;
        [value, pos] = this.readString(buf, pos, end);
        add([name, value]);
      }
    }
    return { fields, tooLarge };
  }

  private field(idx: number): HeaderField {
    if (idx === 0) throw new HpackError('index 0');
    if (idx <= staticCount) return staticTable[idx] as HeaderField;
    const e = this.entries[idx - staticCount - 1];
    if (e === undefined) throw new HpackError(`index ${idx} out of the table`);
    return e;
  }

  private readString(buf: Uint8Array, pos: number, end: number): [string, number] {
    if (pos >= end) throw new HpackError('truncated string');
    const huff = ((buf[pos] as number) & 0x80) !== 0;
    let len;
    [len, pos] = readInt(buf, pos, end, 7);
    if (pos + len > end) throw new HpackError('truncated string');
    let s: string;
    if (huff) {
      try {
        s = huffmanDecode(buf, pos, pos + len);
      } catch (e) {
        if (e instanceof HuffmanError) throw new HpackError(e.message);
        throw e;
      }
    } else {
      s = latin1(buf, pos, pos + len);
    }
    return [s, pos + len];
  }

  private insert(f: HeaderField): void {
    const sz = 32 + f[0].length + f[1].length;
    if (sz > this.maxSize) {
      // §4.4: an entry larger than the table empties it and is not added.
      this.entries = [];
      this.size = 0;
      return;
    }
    this.entries.unshift(f);
    this.size += sz;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize) {
      const e = this.entries.pop() as HeaderField;
      this.size -= 32 + e[0].length + e[1].length;
    }
  }

  /** Entries and size (tests). */
  table(): { entries: HeaderField[]; size: number; maxSize: number } {
    return { entries: [...this.entries], size: this.size, maxSize: this.maxSize };
  }
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  if (end - start < 48) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i] as number);
    return s;
  }
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

// ---- encoding (never indexed into the client's table) ----

function intBytes(v: number, prefixBits: number, first: number): number[] {
  const mask = (1 << prefixBits) - 1;
  if (v < mask) return [first | v];
  const out = [first | mask];
  v -= mask;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const staticIndexByField = new Map<string, number>();
const staticIndexByName = new Map<string, number>();
for (let i = staticCount; i >= 1; i--) {
  const [n, v] = staticTable[i] as HeaderField;
  staticIndexByField.set(`${n}\0${v}`, i);
  staticIndexByName.set(n, i);
}

/** Encodes a header list (lower-case names, latin1 values) as a header block. */
export function encodeHeaders(fields: readonly HeaderField[]): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of fields) {
    const full = staticIndexByField.get(`${name}\0${value}`);
    if (full !== undefined) {
      bytes.push(...intBytes(full, 7, 0x80));
      continue;
    }
    const ni = staticIndexByName.get(name);
    if (ni !== undefined) bytes.push(...intBytes(ni, 4, 0x00));
    else {
      bytes.push(0x00, ...intBytes(name.length, 7, 0x00));
      for (let i = 0; i < name.length; i++) bytes.push(name.charCodeAt(i) & 0xff);
    }
    bytes.push(...intBytes(value.length, 7, 0x00));
    for (let i = 0; i < value.length; i++) bytes.push(value.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes);
}
