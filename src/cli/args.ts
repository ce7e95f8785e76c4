/**
 * Command-line parsing as etcdctl's cobra/pflag does it: flags may come anywhere among the
 * arguments, `--flag=value`, `--flag value`, `-w value`, booleans as `--flag` or
 * `--flag=false`; `--` ends the flags. Every global flag can also come from ETCDCTL_<FLAG>.
 * (A small parser rather than yargs: pflag's rules, e.g. that a boolean never takes the next
 * argument as its value, decide how etcdctl reads a command line, and ctl must read it the same.)
 */
import { CliExit, ExitCode } from './output.js';

export type FlagKind = 'string' | 'bool' | 'int' | 'duration';

export interface FlagDef {
  kind: FlagKind;
  def: string;
  short?: string;
}

export const globalFlags: Record<string, FlagDef> = {
  endpoints: { kind: 'string', def: '127.0.0.1:2379' },
  'dial-timeout': { kind: 'duration', def: '2s' },
  'command-timeout': { kind: 'duration', def: '5s' },
  'keepalive-time': { kind: 'duration', def: '2s' },
  'keepalive-timeout': { kind: 'duration', def: '6s' },
  'write-out': { kind: 'string', def: 'simple', short: 'w' },
  hex: { kind: 'bool', def: 'false' },
  user: { kind: 'string', def: '' },
  password: { kind: 'string', def: '' },
  'insecure-transport': { kind: 'bool', def: 'true' },
  'insecure-skip-tls-verify': { kind: 'bool', def: 'false' },
  'insecure-discovery': { kind: 'bool', def: 'true' },
  cert: { kind: 'string', def: '' },
  key: { kind: 'string', def: '' },
  cacert: { kind: 'string', def: '' },
  'discovery-srv': { kind: 'string', def: '', short: 'd' },
  'discovery-srv-name': { kind: 'string', def: '' },
  debug: { kind: 'bool', def: 'false' },
};

export interface Parsed {
  positional: string[];
  flags: Map<string, string>;
}

export function parseArgs(argv: string[], defs: Record<string, FlagDef>): Parsed {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  const byShort = new Map(Object.entries(defs).flatMap(([n, d]) => (d.short ? [[d.short, n] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const long = a.startsWith('--');
    const body = a.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    let name = eq >= 0 ? body.slice(0, eq) : body;
    if (!long) {
      const full = byShort.get(name.slice(0, 1));
      if (!full) throw new CliExit(ExitCode.Error, `unknown shorthand flag: '${name.slice(0, 1)}' in ${a}`);
      // -wjson and -w json and -w=json
      if (eq < 0 && name.length > 1) {
        flags.set(full, name.slice(1));
        continue;
      }
      name = full;
    }
    const def = defs[name];
    if (!def) throw new CliExit(ExitCode.Error, `unknown flag: --${name}`);
    if (eq >= 0) flags.set(name, body.slice(eq + 1));
    else if (def.kind === 'bool') flags.set(name, 'true');
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new CliExit(ExitCode.Error, `flag needs an argument: --${name}`);
      flags.set(name, next);
      i++;
    }
  }
  return { positional, flags };
}

export function flagValue(p: Parsed, defs: Record<string, FlagDef>, name: string, env: Record<string, string | undefined> = {}): string {
  const v = p.flags.get(name);
  if (v !== undefined) return v;
  const e = env[`ETCDCTL_${name.toUpperCase().replace(/-/g, '_')}`];
  if (e !== undefined && name in globalFlags) return e;
  return (defs[name] as FlagDef).def;
}

export function boolValue(s: string, name: string): boolean {
  if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(s)) return true;
  if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(s)) return false;
  throw new CliExit(ExitCode.Error, `invalid argument "${s}" for "--${name}" flag: strconv.ParseBool: parsing "${s}": invalid syntax`);
}

/** Go duration ("2s", "500ms", "1m30s") in milliseconds. */
export function durationMs(s: string, name: string): number {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (s === '0') return 0;
  let total = 0;
  let used = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    used += m[0].length;
  }
  if (used === 0 || used !== s.length) throw new CliExit(ExitCode.Error, `invalid argument "${s}" for "--${name}" flag: time: invalid duration "${s}"`);
  return total;
}
