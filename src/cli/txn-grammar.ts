/**
 * etcdctl's txn input (ETCD-FACTS §4): compares one per line, a blank line, success ops, a blank
 * line, failure ops, a blank line. A compare is `<target>("<key>") <op> "<value>"`, target one of
 * c|create|m|mod|val|value|ver|version|lease, op one of = != < >; key and value are Go quoted
 * strings. An op is a put/get/del command line, split as etcdctl's argify does (double-quoted
 * strings unquoted Go-style) and parsed with that command's own flags.
 *
 * Strings here are binary (latin1): one char per input byte.
 */
import type { Compare, RequestOp } from '../api/kv-types.js';
import { CompareResult, CompareTarget } from '../api/kv-types.js';
import { goQuote } from './go-format.js';
import { CliExit, ExitCode } from './output.js';

/** Go's %q scan of a double-quoted or back-quoted string at the start of s: [value, rest]. */
export function scanQuoted(s: string): [string, string] | null {
  if (s.startsWith('`')) {
    const end = s.indexOf('`', 1);
    return end < 0 ? null : [s.slice(1, end), s.slice(end + 1)];
  }
  if (!s.startsWith('"')) return null;
  let out = '';
  let i = 1;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '"') return [out, s.slice(i + 1)];
    if (c === '\n') return null;
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = s[i + 1];
    if (e === undefined) return null;
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (simple[e] !== undefined) {
      out += simple[e];
      i += 2;
    } else if (e === 'x') {
      const h = s.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
      out += String.fromCharCode(parseInt(h, 16));
      i += 4;
    } else if (/[0-7]/.test(e)) {
      const o = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) return null;
      out += String.fromCharCode(parseInt(o, 8));
      i += 4;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      const h = s.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) return null;
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
      out += Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
      i += 2 + n;
    } else return null;
  }
  return null;
}

/** A binary string as Go's %q prints it (for error messages). */
function quoteForError(s: string): string {
  return goQuote(Buffer.from(s, 'latin1'));
}

const targets: Record<string, number> = {
  ver: CompareTarget.VERSION,
  version: CompareTarget.VERSION,
  c: CompareTarget.CREATE,
  create: CompareTarget.CREATE,
  m: CompareTarget.MOD,
  mod: CompareTarget.MOD,
  val: CompareTarget.VALUE,
  value: CompareTarget.VALUE,
  lease: CompareTarget.LEASE,
};

const results: Record<string, number> = {
  '=': CompareResult.EQUAL,
  '!=': CompareResult.NOT_EQUAL,
  '<': CompareResult.LESS,
  '>': CompareResult.GREATER,
};

/** parseCompare of etcdctl: `target("key") op "value"`. */
export function parseCompare(line: string): Compare {
  const lp = line.indexOf('(');
  if (lp < 0) throw new CliExit(ExitCode.InvalidInput, `malformed comparison: ${line}`);
  const target = line.slice(0, lp);
  // fmt.Sscanf(rest, "%q) %s %q", &key, &op, &val)
  let key = '';
  let op = '';
  let val = '';
  let n = 0;
  let rest = line.slice(lp + 1);
  const k = scanQuoted(rest);
  if (k) {
    key = k[0];
    n = 1;
    rest = k[1];
    // a space in a Sscanf format needs at least one space in the input
    const sp = /^\)[ \t\r]+/.exec(rest);
    if (sp) {
      rest = rest.slice(sp[0].length);
      const m = /^\S+/.exec(rest);
      if (m) {
        op = m[0];
        n = 2;
        rest = rest.slice(op.length);
        const sp2 = /^[ \t\r]+/.exec(rest);
        const v = sp2 ? scanQuoted(rest.slice(sp2[0].length)) : null;
        if (v) {
          val = v[0];
          n = 3;
        }
      }
    }
  }
  if (n !== 3) {
    throw new CliExit(
      ExitCode.InvalidInput,
      `malformed comparison: ${line}; got ${target}(${quoteForError(key)}) ${op} ${quoteForError(val)}`,
    );
  }
  const t = targets[target];
  if (t === undefined) throw new CliExit(ExitCode.InvalidInput, `malformed comparison: ${line} (unknown target ${target})`);
  const result = results[op];
  if (result === undefined) {
    // clientv3.Compare panics on an unknown operator; etcdctl 3.4.23 dies with this line.
    throw new CliExit(ExitCode.BadConnection, 'panic: Unknown result op\n', { raw: true });
  }
  const cmp: Compare = { result, target: t, key: Buffer.from(key, 'latin1'), range_end: Buffer.alloc(0) };
  if (t === CompareTarget.VALUE) {
    cmp.target_union = 'value';
    cmp.value = Buffer.from(val, 'latin1');
    return cmp;
  }
  if (!/^[+-]?[0-9]+$/.test(val)) throw new CliExit(ExitCode.InvalidInput, `invalid txn compare request: ${line}`);
  const v = BigInt(val);
  if (v > (1n << 63n) - 1n || v < -(1n << 63n)) throw new CliExit(ExitCode.InvalidInput, `invalid txn compare request: ${line}`);
  // etcdctl 3.4.23 panics on lease(); ctl compares the key's lease as etcdctl 3.5 does.
  const field = ({ 0: 'version', 1: 'create_revision', 2: 'mod_revision', 4: 'lease' } as const)[t as 0 | 1 | 2 | 4];
  cmp.target_union = field;
  cmp[field] = v;
  return cmp;
}

/**
 * etcdctl's argify: tokens are double-quoted strings (Go-unquoted), single-quoted strings, or
 * runs of non-space. (etcdctl 3.4 strips single quotes with a slice bound taken from the number
 * of tokens, a bug; ctl strips the quotes.)
 */
export function argify(s: string): string[] {
  const re = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?/g;
  const out: string[] = [];
  for (const m of s.matchAll(re)) {
    const a = m[0];
    if (a.startsWith("'")) out.push(a.slice(1, -1));
    else if (a.startsWith('"')) {
      const q = scanQuoted(a);
      if (!q) throw new CliExit(ExitCode.InvalidInput, 'unexpected EOF');
      out.push(q[0]);
    } else out.push(a);
  }
  return out;
}

export type OpParser = (line: string) => Promise<RequestOp>;
