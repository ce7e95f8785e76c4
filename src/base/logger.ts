/**
 * Structured log lines shaped as etcd's zap logger writes them (checked on etcd 3.4.23 with
 * --logger zap), one JSON object per line:
 *   {"level":"info","ts":"2026-11-23T14:05:04.389Z","caller":"etcdserver/raft.go:536",
 *    "msg":"starting local member","local-member-id":"b71f75320dc06a6c","cluster-id":"1c45a069f3a1d796"}
 * Keys in that order, then the fields in the order given. `caller` is "<dir>/<file>:<line>" of the
 * code that logged. Values: bigint as a JSON number (exact, as zap writes uint64 counters); ids are
 * passed as hex strings (`idField`, etcd's types.ID.String()); durations as Go prints them
 * (`goDuration`: "100ms", "1s", "1h0m0s"); Error as its message; URL without the trailing slash.
 * Levels as zap's: a logger at `warn` drops debug and info.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';
/** The levels a Logger writes at. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, dpanic: 4, panic: 5, fatal: 6 };

export function isLogLevel(v: string): v is LogLevel {
  return Object.prototype.hasOwnProperty.call(rank, v);
}

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export interface LoggerOptions {
  /** Lowest level written (default info); panic/fatal/dpanic write none of the four. */
  level?: LogLevel;
  /** Receives each line without its newline (default: stderr). */
  out?: (line: string) => void;
  /** A fixed caller, or false to leave the key out; default: the logging code's file:line. */
  caller?: string | false;
  /** The time source (tests). */
  now?: () => Date;
}

/** etcd's types.ID.String(): lower-case hex without padding. */
export function idField(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

/** Go's time.Duration.String() of a duration in milliseconds: "0s", "1.5ms", "100ms", "1s", "1h0m0s". */
export function goDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const abs = Math.abs(ns);
  const trim = (x: number, digits: number): string => x.toFixed(digits).replace(/\.?0+$/, '');
  if (abs < 1e3) return `${sign}${abs}ns`;
  if (abs < 1e6) return `${sign}${trim(abs / 1e3, 3)}µs`;
  if (abs < 1e9) return `${sign}${trim(abs / 1e6, 6)}ms`;
  const h = Math.floor(abs / 3600e9);
  const m = Math.floor((abs % 3600e9) / 60e9);
  const s = trim((abs % 60e9) / 1e9, 9);
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

const maxDepth = 8;

function encode(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      // zap writes NaN and infinities as strings.
      return Number.isFinite(v) ? String(v) : JSON.stringify(Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf');
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return 'null';
    case 'object':
      break;
  }
  if (v === null) return 'null';
  if (depth >= maxDepth) return '"[too deep]"';
  if (v instanceof Error) return JSON.stringify(v.message);
  if (v instanceof URL) {
    const s = v.toString();
    return JSON.stringify(v.pathname === '/' && v.search === '' && v.hash === '' ? s.replace(/\/$/, '') : s);
  }
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
  if (Array.isArray(v)) return `[${v.map((x: unknown) => encode(x, depth + 1)).join(',')}]`;
  if (v instanceof Map) {
    const parts: string[] = [];
    for (const [k, x] of v) parts.push(`${JSON.stringify(String(k))}:${encode(x, depth + 1)}`);
    return `{${parts.join(',')}}`;
  }
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${encode(x, depth + 1)}`);
  }
  return `{${parts.join(',')}}`;
}

/** One log line (without newline); exported for tests and for writers other than Logger. */
export function formatLine(level: Level, ts: Date, caller: string | undefined, msg: string, fields?: Fields): string {
  let line = `{"level":"${level}","ts":${JSON.stringify(ts.toISOString())}`;
  if (caller !== undefined) line += `,"caller":${JSON.stringify(caller)}`;
  line += `,"msg":${JSON.stringify(msg)}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined || k === 'level' || k === 'ts' || k === 'caller' || k === 'msg') continue;
      line += `,${JSON.stringify(k)}:${encode(v, 1)}`;
    }
  }
  return line + '}';
}

/** "<dir>/<file>:<line>" of the first stack frame outside this file. */
function callerFromStack(): string | undefined {
  const stack = new Error().stack;
  if (stack === undefined) return undefined;
  for (const frame of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?\s*$/.exec(frame);
    if (!m) continue;
    const file = m[1] ?? '';
    if (/[\\/]base[\\/]logger\.[jt]s$/.test(file)) continue;
    const parts = file.split(/[\\/]/);
    return `${parts.slice(-2).join('/')}:${m[2] ?? '0'}`;
  }
  return undefined;
}

function stderrLine(line: string): void {
  process.stderr.write(line + '\n');
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = rank[opts.level ?? 'info'];
  const out = opts.out ?? stderrLine;
  const now = opts.now ?? (() => new Date());
  const emit = (level: Level, msg: string, fields?: Fields): void => {
    if (rank[level] < min) return;
    const caller = opts.caller === false ? undefined : (opts.caller ?? callerFromStack());
    out(formatLine(level, now(), caller, msg, fields));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = createLogger({ level: 'fatal', out: () => undefined, caller: false });

export interface TestLogger {
  logger: Logger;
  /** Every line written, in order. */
  lines: string[];
  /** The lines parsed back (bigints beyond 2^53 lose precision here; assert on `lines` for those). */
  records(): Fields[];
  /** Drops what was captured so far. */
  clear(): void;
}

/** A logger that keeps its lines in memory, for tests. Default level: debug. */
export function createTestLogger(level: LogLevel = 'debug'): TestLogger {
  const lines: string[] = [];
  return {
    logger: createLogger({ level, out: (l) => lines.push(l) }),
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Fields),
    clear: () => void lines.splice(0),
  };
}

/**
 * The writer for etcd's --log-outputs: "default" and "stderr" → stderr, "stdout" → stdout,
 * anything else → that file, appended to. Returns the writer and a close function.
 */
export function outputsWriter(outputs: readonly string[]): { out: (line: string) => void; close: () => void } {
  const fds: number[] = [];
  const writers = [...new Set(outputs)].map((o): ((line: string) => void) => {
    if (o === 'default' || o === 'stderr') return stderrLine;
    if (o === 'stdout') return (line) => void process.stdout.write(line + '\n');
    const fd = openSync(o, 'a');
    fds.push(fd);
    return (line) => void writeSync(fd, line + '\n');
  });
  return {
    out: (line) => {
      for (const w of writers) w(line);
    },
    close: () => {
      for (const fd of fds.splice(0)) closeSync(fd);
    },
  };
}
