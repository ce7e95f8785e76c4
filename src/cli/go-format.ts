/**
 * Go's text formatting as etcdctl prints it: %q (strconv.Quote), encoding/json and zap string
 * escaping, time.Duration parsing and String(), go-humanize's SI byte sizes, etcdctl's --hex.
 *
 * Output convention of the whole cli/: text is built as "binary strings", one char per output
 * byte (latin1), so that arbitrary key bytes reach stdout unchanged. `bin(s)` turns a JS string
 * into that form (its UTF-8 bytes).
 */

/** A JS string's UTF-8 bytes as a binary string. */
export function bin(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** Bytes as a binary string. */
export function binBytes(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** One UTF-8 decoding step as Go's utf8.DecodeRune: [rune, width]; rune -1 means invalid (width 1). */
export function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c0 = b[i] as number;
  if (c0 < 0x80) return [c0, 1];
  const cont = (k: number): number => {
    const c = b[i + k];
    return c !== undefined && (c & 0xc0) === 0x80 ? c & 0x3f : -1;
  };
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = cont(1);
    return c1 < 0 ? [-1, 1] : [((c0 & 0x1f) << 6) | c1, 2];
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const c1 = cont(1);
    const c2 = cont(2);
    if (c1 < 0 || c2 < 0) return [-1, 1];
    const r = ((c0 & 0x0f) << 12) | (c1 << 6) | c2;
    if (r < 0x800 || (r >= 0xd800 && r <= 0xdfff)) return [-1, 1];
    return [r, 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const c1 = cont(1);
    const c2 = cont(2);
    const c3 = cont(3);
    if (c1 < 0 || c2 < 0 || c3 < 0) return [-1, 1];
    const r = ((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
    if (r < 0x10000 || r > 0x10ffff) return [-1, 1];
    return [r, 4];
  }
  return [-1, 1];
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function goIsPrint(r: number): boolean {
  if (r === 0x20) return true;
  if (r < 0x20 || r === 0x7f) return false;
  return printable.test(String.fromCodePoint(r));
}

const hexDigits = '0123456789abcdef';
function hex2(n: number): string {
  return (hexDigits[n >> 4] as string) + (hexDigits[n & 15] as string);
}

/** strconv.Quote of the bytes taken as a Go string (what `%q` prints), as a binary string. */
export function goQuote(input: Uint8Array | string): string {
  const b = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let out = '"';
  for (let i = 0; i < b.length; ) {
    const [r, w] = decodeRune(b, i);
    if (r < 0) {
      out += '\\x' + hex2(b[i] as number);
      i += 1;
      continue;
    }
    i += w;
    if (r === 0x22 || r === 0x5c) {
      out += '\\' + String.fromCharCode(r);
    } else if (goIsPrint(r)) {
      out += binBytes(b.subarray(i - w, i));
    } else if (r === 7) out += '\\a';
    else if (r === 8) out += '\\b';
    else if (r === 12) out += '\\f';
    else if (r === 10) out += '\\n';
    else if (r === 13) out += '\\r';
    else if (r === 9) out += '\\t';
    else if (r === 11) out += '\\v';
    else if (r < 0x20 || r === 0x7f) out += '\\x' + hex2(r);
    else if (r < 0x10000) out += '\\u' + r.toString(16).padStart(4, '0');
    else out += '\\U' + r.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** etcdctl --hex (addHexPrefix of hex.EncodeToString): every byte as \xNN. */
export function hexEscape(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += '\\x' + hex2(c);
  return s;
}

/**
 * A JSON string literal as Go 1.19's encoding/json writes it (etcdctl 3.4.23 is built with
 * go1.19): <, >, & and control characters as \u00XX except \n \r \t, invalid UTF-8 as \ufffd,
 * U+2028/U+2029 escaped. Input is bytes (or a JS string, taken as its UTF-8); output binary.
 */
export function goJsonString(input: Uint8Array | string): string {
  return jsonString(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, true);
}

/** A JSON string as zap's JSON encoder writes it (no HTML escaping, U+2028/9 kept). */
export function zapJsonString(input: string): string {
  return jsonString(Buffer.from(input, 'utf8'), false);
}

/** The escaping both share; `goHtmlSafe` adds encoding/json's <, >, & and U+2028/U+2029 escapes. */
function jsonString(b: Uint8Array, goHtmlSafe: boolean): string {
  let out = '"';
  for (let i = 0; i < b.length; ) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += '\\\\';
      else if (c === 0x0a) out += '\\n';
      else if (c === 0x0d) out += '\\r';
      else if (c === 0x09) out += '\\t';
      else if (c < 0x20 || (goHtmlSafe && (c === 0x3c || c === 0x3e || c === 0x26))) out += '\\u00' + hex2(c);
      else out += String.fromCharCode(c);
      continue;
    }
    const [r, w] = decodeRune(b, i);
    if (r < 0) {
      out += '\\ufffd';
      i += 1;
      continue;
    }
    if (goHtmlSafe && (r === 0x2028 || r === 0x2029)) out += '\\u' + r.toString(16);
    else out += binBytes(b.subarray(i, i + w));
    i += w;
  }
  return out + '"';
}

// ---- time.Duration ----

const unitNs: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n, // U+00B5
  'μs': 1000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.ParseDuration: nanoseconds, or an Error with Go's message. */
export function parseGoDuration(s: string): bigint {
  const orig = s;
  const quoted = `"${orig}"`;
  const invalid = (): Error => new Error(`time: invalid duration ${quoted}`);
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0;
  let totalNs = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s) as RegExpExecArray;
    const intPart = m[1] as string;
    const frac = m[2];
    if (intPart === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(m[0].length);
    const u = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (u === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const unit = unitNs[u];
    if (unit === undefined) throw new Error(`time: unknown unit "${u}" in duration ${quoted}`);
    s = s.slice(u.length);
    let v = BigInt(intPart === '' ? '0' : intPart) * unit;
    if (frac) {
      const scale = 10n ** BigInt(frac.length);
      v += (BigInt(frac) * unit) / scale;
    }
    totalNs += v;
    total++;
    if (totalNs > (1n << 63n) - 1n) throw invalid();
  }
  void total;
  return neg ? -totalNs : totalNs;
}

/** Go's time.Duration.String() of a duration in nanoseconds. */
export function goDuration(nsIn: bigint | number): string {
  let ns = typeof nsIn === 'bigint' ? nsIn : BigInt(Math.round(nsIn));
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  if (neg) ns = -ns;
  const frac = (v: bigint, digits: number): string => {
    const p = 10n ** BigInt(digits);
    const whole = v / p;
    const f = (v % p).toString().padStart(digits, '0').replace(/0+$/, '');
    return f === '' ? whole.toString() : `${whole}.${f}`;
  };
  let s: string;
  if (ns < 1000n) s = `${ns}ns`;
  else if (ns < 1_000_000n) s = `${frac(ns, 3)}µs`;
  else if (ns < 1_000_000_000n) s = `${frac(ns, 6)}ms`;
  else {
    const h = ns / 3_600_000_000_000n;
    const rem = ns % 3_600_000_000_000n;
    const m = rem / 60_000_000_000n;
    const sec = rem % 60_000_000_000n;
    const secStr = `${frac(sec, 9)}s`;
    s = h > 0n ? `${h}h${m}m${secStr}` : m > 0n ? `${m}m${secStr}` : secStr;
  }
  return neg ? `-${s}` : s;
}

/** Go's %.Nf: round half to even on the exact binary value's decimal expansion. */
function goFixed(v: number, digits: number): string {
  const scaled = v * 10 ** digits;
  const fl = Math.floor(scaled);
  if (scaled - fl === 0.5) {
    const even = fl % 2 === 0 ? fl : fl + 1;
    return (even / 10 ** digits).toFixed(digits);
  }
  return v.toFixed(digits);
}

/** go-humanize Bytes (SI, base 1000): `25 kB`, `1.2 MB`, `9 B`. */
export function humanizeBytes(n: bigint | number): string {
  const x = Number(n);
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  if (x < 10) return `${x} B`;
  const e = Math.floor(Math.log(x) / Math.log(1000));
  const suffix = sizes[e] as string;
  const val = Math.floor((x / 1000 ** e) * 10 + 0.5) / 10;
  return val < 10 ? `${goFixed(val, 1)} ${suffix}` : `${goFixed(val, 0)} ${suffix}`;
}
