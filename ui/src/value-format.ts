/** How a value is shown: as text, as pretty-printed JSON, or as a hex dump for other bytes. */
import { hexDump, textOf, type Bytes } from './bytes.js';

export type ValueMode = 'text' | 'json' | 'hex';

/** Text with control characters other than tab and line breaks is better read in hex. */
function readableText(b: Bytes): string | null {
  const t = textOf(b);
  return t !== null && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(t) ? t : null;
}

function jsonOf(t: string): unknown {
  const s = t.trim();
  if (!(s.startsWith('{') || s.startsWith('['))) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** The mode a value opens in. */
export function detectMode(b: Bytes): ValueMode {
  const t = readableText(b);
  if (t === null) return 'hex';
  return jsonOf(t) === undefined ? 'text' : 'json';
}

/** The modes that can show this value (hex always can). */
export function modesFor(b: Bytes): ValueMode[] {
  const t = readableText(b);
  if (t === null) return ['hex'];
  return jsonOf(t) === undefined ? ['text', 'hex'] : ['json', 'text', 'hex'];
}

export function renderValue(b: Bytes, mode: ValueMode): string {
  if (mode === 'hex') return hexDump(b);
  const t = readableText(b) ?? '';
  if (mode === 'json') {
    const v = jsonOf(t);
    return v === undefined ? t : JSON.stringify(v, null, 2);
  }
  return t;
}

/** A one-line preview for lists. */
export function preview(b: Bytes, max = 80): string {
  const t = readableText(b);
  const s = t === null ? `(${b.length} bytes binary)` : t.replace(/\s+/g, ' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
