/**
 * ctl txn: etcdctl's transaction grammar (ctlv3/command/txn_command.go, README). From stdin:
 * compares one per line, a blank line, success ops, a blank line, failure ops, a blank line.
 * With -i the same with prompts. Ops use put/get/del syntax; values quoted as Go strings.
 */
import { parseArgs } from './args.js';
import { buildDel, buildGet, buildPut, delFlags, getFlags, putFlags, type Ctx } from './kv-commands.js';
import { CliExit, ExitCode } from './output.js';
import { printables, printResponse } from './printers.js';
import { boolValue } from './args.js';

type Obj = Record<string, unknown>;

/** Go's strconv.Unquote of a double-quoted literal; returns a binary (latin1) string. */
export function goUnquote(lit: string): string {
  if (lit.length < 2 || lit[0] !== '"' || lit[lit.length - 1] !== '"') throw new Error('invalid syntax');
  const bytes: number[] = [];
  const body = Buffer.from(lit.slice(1, -1), 'latin1');
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as number;
    if (c !== 0x5c) {
      if (c === 0x22) throw new Error('invalid syntax');
      bytes.push(c);
      continue;
    }
    const n = String.fromCharCode(body[++i] as number);
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39 };
    if (n in simple) bytes.push(simple[n] as number);
    else if (n === 'x') {
      bytes.push(parseInt(body.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else if (n >= '0' && n <= '7') {
      bytes.push(parseInt(body.subarray(i, i + 3).toString('latin1'), 8));
      i += 2;
    } else if (n === 'u' || n === 'U') {
      const len = n === 'u' ? 4 : 8;
      const cp = parseInt(body.subarray(i + 1, i + 1 + len).toString('latin1'), 16);
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      i += len;
    } else throw new Error('invalid syntax');
  }
  return Buffer.from(bytes).toString('latin1');
}

/** etcdctl Argify: split on spaces, keeping "quoted" (Go-unquoted) and 'quoted' words. */
export function argify(s: string): string[] {
  const re = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?/g;
  return [...s.matchAll(re)].map((m) => {
    const a = m[0];
    if (a.startsWith("'")) return a.slice(1, -1);
    if (a.startsWith('"')) {
      try {
        return goUnquote(a);
      } catch {
        return a;
      }
    }
    return a;
  });
}

const cmpOps: Record<string, number> = { '=': 0, '>': 1, '<': 2, '!=': 3 };

/** Scans a Go %q operand at the start of s; returns [value, rest]. */
function scanQuoted(s: string): [string, string] | null {
  const m = /^\s*("(?:[^"\\]|\\.)*")/.exec(s);
  if (!m) return null;
  return [goUnquote(m[1] as string), s.slice(m[0].length)];
}

export function parseCompare(line: string): Obj {
  const paren = line.indexOf('(');
  if (paren < 0) throw new CliExit(ExitCode.InvalidInput, `malformed comparison: ${line}`);
  const target = line.slice(0, paren);
  const a = scanQuoted(line.slice(paren + 1));
  const rest = a ? /^\)\s+(\S+)(.*)$/.exec(a[1]) : null;
  const b = rest ? scanQuoted(rest[2] as string) : null;
  if (!a || !rest || !b) throw new CliExit(ExitCode.InvalidInput, `malformed comparison: ${line}`);
  const key = a[0];
  const op = rest[1] as string;
  const val = b[0];
  const result = cmpOps[op];
  if (result === undefined) throw new CliExit(ExitCode.InvalidInput, `Unknown result op ${JSON.stringify(op)}`);
  const base = { key: Buffer.from(key, 'latin1'), result, range_end: Buffer.alloc(0) };
  const int = (): string => {
    if (!/^[+-]?\d+$/.test(val)) throw new CliExit(ExitCode.InvalidInput, `strconv.ParseInt: parsing ${JSON.stringify(val)}: invalid syntax`);
    return BigInt(val).toString();
  };
  switch (target) {
    case 'ver':
    case 'version':
      return { ...base, target: 0, target_union: 'version', version: int() };
    case 'c':
    case 'create':
      return { ...base, target: 1, target_union: 'create_revision', create_revision: int() };
    case 'm':
    case 'mod':
      return { ...base, target: 2, target_union: 'mod_revision', mod_revision: int() };
    case 'val':
    case 'value':
      return { ...base, target: 3, target_union: 'value', value: Buffer.from(val, 'latin1') };
    case 'lease':
      return { ...base, target: 4, target_union: 'lease', lease: int() };
    default:
      throw new CliExit(ExitCode.InvalidInput, `malformed comparison: ${line} (unknown target ${target})`);
  }
}

export function parseOp(line: string): Obj {
  const args = argify(line);
  const cmd = args[0];
  const rest = args.slice(1);
  if (cmd === 'put') {
    const p = parseArgs(rest, putFlags);
    const flag = (n: string): string => p.flags.get(n) ?? (putFlags[n]?.def as string);
    if (p.positional.length !== 2) throw new CliExit(ExitCode.InvalidInput, `invalid txn request: ${line}`);
    return { request: 'request_put', request_put: buildPut(p.positional, flag) };
  }
  if (cmd === 'get') {
    const p = parseArgs(rest, getFlags);
    const flag = (n: string): string => p.flags.get(n) ?? (getFlags[n]?.def as string);
    return { request: 'request_range', request_range: buildGet(p.positional, flag) };
  }
  if (cmd === 'del') {
    const p = parseArgs(rest, delFlags);
    const flag = (n: string): string => p.flags.get(n) ?? (delFlags[n]?.def as string);
    return { request: 'request_delete_range', request_delete_range: buildDel(p.positional, flag) };
  }
  throw new CliExit(ExitCode.InvalidInput, `invalid txn request: ${line}`);
}

export async function txnCommand(ctx: Ctx): Promise<void> {
  if (ctx.positional.length > 0) throw new CliExit(ExitCode.BadArgs, 'txn command does not accept argument');
  const interactive = boolValue(ctx.flag('interactive'), 'interactive');
  const lines = (await ctx.stdin()).split('\n');
  let at = 0;
  const section = (prompt: string): string[] => {
    if (interactive) ctx.out(prompt);
    const out: string[] = [];
    while (at < lines.length) {
      const l = (lines[at++] as string).replace(/\r$/, '');
      if (l === '') break;
      out.push(l);
    }
    return out;
  };
  const compare = section('compares:\n').map(parseCompare);
  const success = section('success requests (get, put, del):\n').map(parseOp);
  const failure = section('failure requests (get, put, del):\n').map(parseOp);
  const resp = await ctx.client().txn({ compare, success, failure });
  ctx.out(printResponse(printables.txn, resp, ctx.print));
}
