/**
 * etcd keys and values are bytes. The gateway carries them as base64; the page keeps them as
 * Uint8Array and decides how to show them only when it draws them. No DOM here (unit-tested
 * under Node).
 */
export type Bytes = Uint8Array;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export const slash = 0x2f;

export function utf8(s: string): Bytes {
  return encoder.encode(s);
}

/** The text of valid UTF-8 bytes, or null. */
export function textOf(b: Bytes): string | null {
  try {
    return strictDecoder.decode(b);
  } catch {
    return null;
  }
}

export function toBase64(b: Bytes): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Standard or URL-safe base64 (absent = empty, as the gateway leaves empty bytes out). */
export function fromBase64(s: string | undefined): Bytes {
  if (s === undefined || s === '') return new Uint8Array(0);
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64Url(b: Bytes): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function compareBytes(a: Bytes, b: Bytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function equalBytes(a: Bytes, b: Bytes): boolean {
  return compareBytes(a, b) === 0;
}

export function startsWith(b: Bytes, prefix: Bytes): boolean {
  if (prefix.length > b.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

export function concat(...parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The end of the range holding every key with this prefix, as clientv3's GetPrefixRangeEnd:
 * the prefix with its last byte below 0xff incremented and what follows dropped; "\0" (every
 * key from the start) when there is no such byte.
 */
export function prefixEnd(prefix: Bytes): Bytes {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if ((prefix[i] as number) < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = (end[i] as number) + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

/** The smallest key after `key`. */
export function keyAfter(key: Bytes): Bytes {
  return concat(key, new Uint8Array([0]));
}

/** A readable, unambiguous label: UTF-8 text as is, other bytes as \xNN. */
export function label(b: Bytes): string {
  const t = textOf(b);
  if (t !== null && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(t)) return t;
  let s = '';
  for (const x of b) s += x >= 0x20 && x < 0x7f && x !== 0x5c ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`;
  return s;
}

/** Reads back a label (\xNN escapes as bytes, the rest as UTF-8): what the user types as a key. */
export function fromLabel(s: string): Bytes {
  if (!s.includes('\\x')) return utf8(s);
  const parts: Bytes[] = [];
  let rest = s;
  for (;;) {
    const m = /\\x([0-9a-fA-F]{2})/.exec(rest);
    if (m === null) break;
    parts.push(utf8(rest.slice(0, m.index)), new Uint8Array([parseInt(m[1] as string, 16)]));
    rest = rest.slice(m.index + 4);
  }
  parts.push(utf8(rest));
  return concat(...parts);
}

/** Classic hex dump: offset, 16 bytes in hex, their printable characters. */
export function hexDump(b: Bytes, maxBytes = 64 * 1024): string {
  const lines: string[] = [];
  const n = Math.min(b.length, maxBytes);
  for (let off = 0; off < n; off += 16) {
    const row = b.subarray(off, Math.min(off + 16, n));
    const hex = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (b.length > n) lines.push(`… ${b.length - n} more bytes`);
  return lines.join('\n');
}

/** A 64-bit id the gateway sends as a decimal string, in etcdctl's %016x. */
export function idHex(dec: string | undefined): string {
  if (dec === undefined || dec === '') return '0';
  return BigInt.asUintN(64, BigInt(dec)).toString(16).padStart(16, '0');
}

/** A hex id typed by a user (etcdctl prints %016x or %x) as the gateway's decimal string. */
export function idFromHex(hex: string): string {
  const h = hex.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{1,16}$/.test(h)) throw new Error(`not a hexadecimal id: ${hex}`);
  return BigInt.asIntN(64, BigInt(`0x${h}`)).toString();
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u] as string}`;
}
