/**
 * Reading etcd's flag values from the command line (Go `flag` syntax) and from ETCD_* variables
 * (pkg/flags SetFlagsFromEnv), each value checked as the Go flag's Set would, with Go's and
 * etcd's words. What the values mean is flags.ts's business.
 */
import { ConfigError } from './config-error.js';
import { envNameOf, flagSpecs, flagsByName, type FlagSpec } from './flag-table.js';
import { parseGoBool, parseGoDurationMs, parseGoInt, parseGoUint, ValueError } from './go-values.js';
import { parseEtcdUrls } from './urls.js';

/** The sentence Go's flag package uses for a bad command-line value. */
function cliValueError(spec: FlagSpec, v: string, reason: string): ConfigError {
  const text =
    spec.kind === 'bool'
      ? `invalid boolean value ${JSON.stringify(v)} for -${spec.name}: ${reason}`
      : `invalid value ${JSON.stringify(v)} for flag -${spec.name}: ${reason}`;
  return new ConfigError(text, spec.name, v);
}

/** Checks a value the way the flag's Set would; throws ValueError with Go's reason. */
export function checkValue(spec: FlagSpec, v: string): void {
  switch (spec.kind) {
    case 'string':
      return;
    case 'bool':
      parseGoBool(v);
      return;
    case 'uint':
      parseGoUint(v, 64);
      return;
    case 'uint32': {
      // etcd's own uint32 flag type quotes strconv's error.
      const n = /^[0-9]+$/.test(v) ? BigInt(v) : undefined;
      if (n === undefined) throw new ValueError(`strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
      if (n > 0xffff_ffffn) throw new ValueError(`strconv.ParseUint: parsing ${JSON.stringify(v)}: value out of range`);
      return;
    }
    case 'int':
      parseGoInt(v, 64);
      return;
    case 'duration':
      parseGoDurationMs(v);
      return;
    case 'urls':
      parseEtcdUrls(v);
      return;
    case 'select':
      if (!(spec.values ?? []).includes(v)) throw new ValueError('invalid value');
      return;
  }
}

export interface CommandLine {
  values: Map<string, string>;
  help: boolean;
}

/** Go's flag.Parse over etcd's flag set, then etcd's "no positional arguments" rule. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const values = new Map<string, string>();
  let positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.length < 2 || !arg.startsWith('-')) {
      positional = argv.slice(i);
      break;
    }
    let body = arg.slice(1);
    if (body.startsWith('-')) {
      if (body.length === 1) {
        positional = argv.slice(i + 1); // "--" ends the flags
        break;
      }
      body = body.slice(1);
    }
    if (body === '' || body.startsWith('-') || body.startsWith('=')) throw new ConfigError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    // etcd defines no help flag: Go's flag package answers -h/-help with the usage.
    if (name === 'h' || name === 'help') return { values, help: true };
    const spec = flagsByName.get(name);
    if (spec === undefined) throw new ConfigError(`flag provided but not defined: -${name}`, name);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`flag needs an argument: -${name}`, name);
      value = next;
      i++;
    }
    try {
      checkValue(spec, value);
    } catch (e) {
      if (e instanceof ValueError) throw cliValueError(spec, value, e.message);
      throw e;
    }
    values.set(name, value);
  }
  if (positional.length > 0) throw new ConfigError(`'${positional[0] as string}' is not a valid flag`, undefined, positional[0]);
  return { values, help: false };
}

/** pkg/flags SetFlagsFromEnv + verifyEnv, as etcd 3.4.23 behaves. */
export function applyEnvironment(
  values: Map<string, string>,
  env: Record<string, string | undefined>,
  warnings: string[],
  notices: string[],
): Set<string> {
  const fromEnv = new Set<string>();
  const used = new Set<string>();
  for (const spec of flagSpecs) {
    const key = envNameOf(spec.name);
    const v = env[key];
    if (v === undefined || v === '') continue;
    if (values.has(spec.name)) {
      throw new ConfigError(
        `conflicting environment variable ${JSON.stringify(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
        spec.name,
        v,
      );
    }
    try {
      checkValue(spec, v);
    } catch (e) {
      if (e instanceof ValueError) throw new ConfigError(`invalid value ${JSON.stringify(v)} for ${key}: ${e.message}`, spec.name, v);
      throw e;
    }
    used.add(key);
    if (spec.name === 'version') continue; // read by etcd after --version was already decided
    values.set(spec.name, v);
    fromEnv.add(spec.name);
    notices.push(`recognized and used environment variable ${key}=${v}`);
  }
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !k.startsWith('ETCD_') || used.has(k)) continue;
    warnings.push(`unrecognized environment variable ${k}=${v}`);
  }
  return fromEnv;
}
