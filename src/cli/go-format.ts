/**
 * Go's text formatting as etcdctl uses it: %q quoting (strconv.Quote), time.Duration's String,
 * go-humanize's SI byte sizes, and etcdctl's --hex byte escaping.
 */

/**
 * strconv.Quote of the bytes interpreted as a Go string. Like every printer here it returns a
 * binary string (one char per output byte), written out as latin1.
 */
export function goQuote(b: Buffer | string): string {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  let out = '"';
  let i = 0;
  while (i < buf.length) {
    const c = buf[i] as number;
    if (c < 0x80) {
      i++;
      if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += '\\\\';
      else if (c === 0x07) out += '\\a';
      else if (c === 0x08) out += '\\b';
      else if (c === 0x0c) out += '\\f';
      else if (c === 0x0a) out += '\\n';
      else if (c === 0x0d) out += '\\r';
      else if (c === 0x09) out += '\\t';
      else if (c === 0x0b) out += '\\v';
      else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
      else out += String.fromCharCode(c);
      continue;
    }
    // a UTF-8 sequence: keep it if valid and printable, else escape the byte
    const len = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    const seq = len > 0 && i + len <= buf.length ? buf.subarray(i, i + len) : null;
    const str = seq ? seq.toString('utf8') : '';
    if (seq && !str.includes('\ufffd') && Buffer.from(str).equals(seq) && /\P{C}/u.test(str)) {
      out += seq.toString('latin1');
      i += len;
    } else {
      out += '\\x' + c.toString(16).padStart(2, '0');
      i++;
    }
  }
  return out + '"';
}

/** etcdctl --hex: every byte as \xNN. */
export function hexEscape(b: Buffer): string {
  let s = '';
  for (const c of b) s += '\\x' + c.toString(16).padStart(2, '0');
  return s;
}

/** Go's time.Duration.String() for a duration in nanoseconds. */
export function goDuration(ns: number): string {
  const n = Math.round(ns);
  if (n === 0) return '0s';
  const neg = n < 0;
  const a = Math.abs(n);
  const trim = (x: string): string => x.replace(/\.?0+$/, '');
  let s: string;
  if (a < 1000) s = `${a}ns`;
  else if (a < 1_000_000) s = `${trim((a / 1000).toFixed(3))}µs`;
  else if (a < 1_000_000_000) s = `${trim((a / 1_000_000).toFixed(6))}ms`;
  else {
    const totalS = a / 1e9;
    const h = Math.floor(totalS / 3600);
    const m = Math.floor((totalS - h * 3600) / 60);
    const sec = totalS - h * 3600 - m * 60;
    const secStr = `${trim(sec.toFixed(9)) || '0'}s`;
    s = h > 0 ? `${h}h${m}m${secStr}` : m > 0 ? `${m}m${secStr}` : secStr;
  }
  return neg ? `-${s}` : s;
}

/** go-humanize Bytes: SI units, one decimal below 10. */
export function humanizeBytes(n: number): string {
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  if (n < 10) return `${n} B`;
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const suffix = sizes[e] as string;
  const val = Math.floor((n / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return val < 10 ? `${val.toFixed(1)} ${suffix}` : `${val.toFixed(0)} ${suffix}`;
}

/** A JSON string literal as Go's encoding/json writes it (HTML-safe escapes), as a binary string. */
export function goJsonString(s: string): string {
  const j = JSON.stringify(s).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return Buffer.from(j, 'utf8').toString('latin1');
}
