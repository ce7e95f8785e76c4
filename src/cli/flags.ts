/**
 * Command-line flags parsed by pflag's rules, since they decide how etcdctl reads a command line
 * and which error it prints: flags anywhere among the arguments; `--name=value`, `--name value`,
 * `-w value`, `-wvalue`, `-w=value`; a boolean never takes the next argument (`--prefix=false`
 * only); `--` ends the flags; a lone `-` is an argument. Error texts are pflag's, value errors
 * Go's strconv/time messages. (yargs' parser differs on exactly these points, e.g. it reads
 * `--prefix false` as prefix=false, so ctl keeps its own small parser.)
 */
import { parseGoDuration } from './go-format.js';
import { CliExit, ExitCode } from './output.js';

export type FlagKind = 'bool' | 'string' | 'int64' | 'duration' | 'stringSlice';

export interface FlagSpec {
  name: string;
  short?: string;
  kind: FlagKind;
  /** Default as pflag prints it (DefValue): `false`, `0`, `5s`, `[127.0.0.1:2379]`, or the string. */
  def: string;
  usage: string;
  /** NoOptDefVal: a bool given without a value is this (etcdctl's help prints `[=false]`). */
}

export type FlagValue = boolean | string | bigint | string[];

export class FlagSet {
  readonly specs: FlagSpec[];
  private readonly byName = new Map<string, FlagSpec>();
  private readonly byShort = new Map<string, FlagSpec>();
  /** Values set on the command line, by flag name (raw, then converted). */
  readonly set = new Map<string, FlagValue>();

  /** cobra ArgsLenAtDash: positional arguments before `--`, or -1 without one. */
  argsLenAtDash = -1;

  constructor(specs: FlagSpec[]) {
    this.specs = specs;
    for (const s of specs) {
      this.byName.set(s.name, s);
      if (s.short) this.byShort.set(s.short, s);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  spec(name: string): FlagSpec | undefined {
    return this.byName.get(name);
  }

  isBool(name: string): boolean {
    return this.byName.get(name)?.kind === 'bool';
  }

  shortIsBool(c: string): boolean {
    return this.byShort.get(c)?.kind === 'bool';
  }

  /** Parses argv; returns the positional arguments. Throws CliExit(1, pflag's message, usage). */
  parse(argv: string[]): string[] {
    const args: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i] as string;
      if (a === '--') {
        this.argsLenAtDash = args.length;
        args.push(...argv.slice(i + 1));
        break;
      }
      if (a.length < 2 || a[0] !== '-') {
        args.push(a);
        continue;
      }
      if (a[1] === '-') {
        const body = a.slice(2);
        const eq = body.indexOf('=');
        const name = eq >= 0 ? body.slice(0, eq) : body;
        const spec = this.byName.get(name);
        if (!spec) throw flagError(`unknown flag: --${name}`);
        if (eq >= 0) this.assign(spec, body.slice(eq + 1), false);
        else if (spec.kind === 'bool') this.assign(spec, 'true', false);
        else if (i + 1 < argv.length) this.assign(spec, argv[++i] as string, false);
        else throw flagError(`flag needs an argument: --${name}`);
        continue;
      }
      // shorthand cluster: -abc, -wjson, -w=json, -w json
      let rest = a.slice(1);
      while (rest.length > 0) {
        const c = rest[0] as string;
        const spec = this.byShort.get(c);
        if (!spec) throw flagError(`unknown shorthand flag: '${c}' in ${a}`);
        if (rest.length > 2 && rest[1] === '=') {
          this.assign(spec, rest.slice(2), true);
          rest = '';
        } else if (spec.kind === 'bool') {
          this.assign(spec, 'true', true);
          rest = rest.slice(1);
        } else if (rest.length > 1) {
          this.assign(spec, rest.slice(1), true);
          rest = '';
        } else if (i + 1 < argv.length) {
          this.assign(spec, argv[++i] as string, true);
          rest = '';
        } else {
          throw flagError(`flag needs an argument: '${c}' in -${c}`);
        }
      }
    }
    return args;
  }

  private assign(spec: FlagSpec, raw: string, _viaShort: boolean): void {
    const flagName = spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
    try {
      const prev = this.set.get(spec.name);
      const v = convert(spec, raw);
      if (spec.kind === 'stringSlice' && Array.isArray(prev) && Array.isArray(v)) this.set.set(spec.name, [...prev, ...v]);
      else this.set.set(spec.name, v);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw flagError(`invalid argument "${raw}" for "${flagName}" flag: ${msg}`);
    }
  }

  /** Sets a value from the environment (no usage on error; etcdctl ignores bad env values). */
  setFromEnv(name: string, raw: string): boolean {
    const spec = this.byName.get(name);
    if (!spec) return false;
    try {
      this.set.set(name, convert(spec, raw));
      return true;
    } catch {
      return false;
    }
  }

  get(name: string): FlagValue {
    const v = this.set.get(name);
    if (v !== undefined) return v;
    const spec = this.byName.get(name);
    if (!spec) throw new Error(`no flag --${name}`);
    return defaultOf(spec);
  }

  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  str(name: string): string {
    return this.get(name) as string;
  }

  int(name: string): bigint {
    return this.get(name) as bigint;
  }

  /** A duration flag in milliseconds. */
  ms(name: string): number {
    return Number((this.get(name) as bigint) / 1_000_000n);
  }

  list(name: string): string[] {
    return this.get(name) as string[];
  }

  changed(name: string): boolean {
    return this.set.has(name);
  }
}

function flagError(message: string): CliExit {
  return new CliExit(ExitCode.Error, message, { usage: true });
}

function defaultOf(spec: FlagSpec): FlagValue {
  if (spec.kind === 'stringSlice') return spec.def === '[]' ? [] : spec.def.slice(1, -1).split(',');
  return convert(spec, spec.def);
}

const i64Max = (1n << 63n) - 1n;
const i64Min = -(1n << 63n);

/** strconv.ParseInt(s, 0, 64) with Go's error text. */
export function parseGoInt(s: string): bigint {
  const syntax = new Error(`strconv.ParseInt: parsing "${s}": invalid syntax`);
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[0-9_]+)$/.exec(s);
  if (!m) throw syntax;
  let body = m[2] as string;
  if (body.includes('_')) {
    // Go allows underscores only between digits with a base prefix; keep it simple: reject misuse
    if (/__|_$|^_/.test(body.replace(/^0[xXbBoO]?/, ''))) throw syntax;
    if (!/^0[xXbBoO]?/.test(body) || body === '0') throw syntax;
    body = body.replace(/_/g, '');
  }
  let v: bigint;
  if (/^0[oO]/.test(body)) v = BigInt('0o' + body.slice(2));
  else if (/^0[0-7]+$/.test(body)) v = BigInt('0o' + body.slice(1));
  else if (/^0[xXbB]/.test(body)) v = BigInt(body.toLowerCase());
  else if (/^[0-9]+$/.test(body)) v = BigInt(body);
  else throw syntax;
  if (m[1] === '-') v = -v;
  if (v > i64Max || v < i64Min) throw new Error(`strconv.ParseInt: parsing "${s}": value out of range`);
  return v;
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing "${s}": invalid syntax`);
}

/** pflag's stringSlice: a CSV record. */
function parseCsv(s: string): string[] {
  if (s === '') return [];
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function convert(spec: FlagSpec, raw: string): FlagValue {
  switch (spec.kind) {
    case 'bool':
      return parseGoBool(raw);
    case 'string':
      return raw;
    case 'int64':
      return parseGoInt(raw);
    case 'duration':
      return parseGoDuration(raw);
    case 'stringSlice':
      return parseCsv(raw);
  }
}
