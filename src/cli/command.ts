/**
 * The command tree (cobra's model as etcdctl uses it): a command has a name, a one-line use and
 * short description, local flags, flags it passes down to its subcommands (persistent), and
 * either a run function or subcommands. Help text follows etcdctl's own usage template.
 */
import type { EtcdClient } from '../client/client.js';
import { FlagSet, type FlagSpec } from './flags.js';
import type { OfflineTools } from './offline.js';
import type { Out } from './output.js';
import type { Printer } from './printers/printer.js';
import { tabwrite } from './tabwriter.js';

export const programName = 'etcdctl';
/** What `version` prints (see the report in the session notes: ctl mirrors etcdctl 3.4.23). */
export const ctlVersion = '3.4.23';
export const apiVersion = '3.4';

export interface RunContext {
  out: Out;
  flags: FlagSet;
  env: Readonly<Record<string, string | undefined>>;
  /** All of stdin (put without a value). */
  readStdin(): Promise<Buffer>;
  /** Reads stdin line by line (txn); null at end of input. */
  readLine(): Promise<{ line: string; eof: boolean }>;
  /** etcdctl's mustClientFromCmd: env, display, endpoints, auth; exits on failure. */
  client(): Promise<EtcdClient>;
  /** The printer chosen by --write-out (valid after client()). */
  display(): Printer;
  /** A client on one endpoint (endpoint health dials each endpoint alone). */
  clientFor(endpoint: string, tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer } | null): EtcdClient;
  /** The endpoints of --endpoints (or of the member list with --cluster). */
  endpoints(): Promise<string[]>;
  /** Local-file work (snapshot restore, defrag --data-dir), when the entry point provides it. */
  offline?: OfflineTools;
}

export interface Command {
  name: string;
  /** Use line after the name, e.g. `[options] <key> [range_end]`. */
  use?: string;
  short: string;
  long?: string;
  flags?: FlagSpec[];
  persistentFlags?: FlagSpec[];
  children?: Command[];
  run?: (ctx: RunContext, args: string[]) => Promise<void>;
  parent?: Command;
}

export function helpFlag(c: Command): FlagSpec {
  return { name: 'help', short: 'h', kind: 'bool', def: 'false', usage: `help for ${c.name}` };
}

export function link(c: Command, parent?: Command): Command {
  if (parent) c.parent = parent;
  for (const k of c.children ?? []) link(k, c);
  return c;
}

export function pathOf(c: Command): string[] {
  return c.parent ? [...pathOf(c.parent), c.name] : [c.name];
}

/** Flags a command receives from its ancestors. */
export function inheritedFlags(c: Command): FlagSpec[] {
  const out: FlagSpec[] = [];
  for (let p = c.parent; p; p = p.parent) out.push(...(p.persistentFlags ?? []));
  return out;
}

export function localFlags(c: Command): FlagSpec[] {
  return [...(c.flags ?? []), ...(c.persistentFlags ?? []), helpFlag(c)];
}

export function flagSetFor(c: Command): FlagSet {
  return new FlagSet([...localFlags(c), ...inheritedFlags(c)]);
}

const byName = (a: FlagSpec, b: FlagSpec): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** etcdctl's flag lines: `  -w, --write-out="simple"<TAB>usage`. */
function flagLines(specs: FlagSpec[]): string {
  return [...specs]
    .sort(byName)
    .map((f) => {
      let line = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
      if (f.kind === 'bool') line += `[=${f.def}]`;
      else if (f.kind === 'string') line += `=${JSON.stringify(f.def)}`;
      else line += `=${f.def}`;
      return `${line}\t${f.usage}\n`;
    })
    .join('');
}

function useLine(c: Command): string {
  const path = pathOf(c).join(' ');
  const use = c.use ? `${path} ${c.use}` : path;
  return use.includes('[flags]') ? use : `${use} [flags]`;
}

/** Leaf commands under c, with their path below c (the root lists `member list` etc.). */
function commandList(c: Command, root: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const k of [...(c.children ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (root && k.children) for (const [n, s] of commandList(k, true)) out.push([`${k.name} ${n}`, s]);
    else out.push([k.name, k.short]);
  }
  return out;
}

/** etcdctl's help text for a command (its usage template through Go's tabwriter). */
export function helpText(c: Command): string {
  const isRoot = !c.parent;
  const name = isRoot ? c.name : pathOf(c).slice(1).join(' ');
  let s = `NAME:\n\t${name} - ${c.short}\n\nUSAGE:\n\t${useLine(c)}\n\n`;
  if (c.long) s += `DESCRIPTION:\n${c.long.split('\n').map((l) => `\t${l}`).join('\n')}\n\n`;
  if (isRoot) s += `VERSION:\n\t${ctlVersion}\n\n`;
  if (c.children) {
    s += `API VERSION:\n\t${apiVersion}\n\n\nCOMMANDS:\n`;
    for (const [n, short] of commandList(c, isRoot)) s += `\t${n}\t${short}\n`;
    s += '\n';
  }
  s += `OPTIONS:\n${flagLines(isRoot ? [...(c.persistentFlags ?? [])] : localFlags(c))}\n`;
  if (!isRoot) s += `GLOBAL OPTIONS:\n${flagLines(inheritedFlags(c))}\n`;
  return tabwrite(s);
}

/** cobra's default usage (used by txn's nested put/get/del parser on a flag error). */
export function cobraUsage(c: Command): string {
  const specs = [...(c.flags ?? []), helpFlag(c)].sort(byName);
  const lines = specs.map((f) => {
    let line = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const varname = f.kind === 'bool' ? '' : f.kind === 'int64' ? 'int' : f.kind === 'stringSlice' ? 'strings' : f.kind;
    if (varname) line += ` ${varname}`;
    line += '\0';
    let usage = f.usage;
    const zero = f.kind === 'bool' ? f.def === 'false' : f.kind === 'string' ? f.def === '' : f.kind === 'int64' ? f.def === '0' : f.def === '0s';
    if (!zero) usage += f.kind === 'string' ? ` (default ${JSON.stringify(f.def)})` : ` (default ${f.def})`;
    return line + usage;
  });
  const maxlen = Math.max(...lines.map((l) => l.indexOf('\0') + 1));
  const body = lines
    .map((l) => {
      const sidx = l.indexOf('\0');
      return `${l.slice(0, sidx)} ${' '.repeat(maxlen - sidx)} ${l.slice(sidx + 1)}`;
    })
    .join('\n');
  return `Usage:\n   ${c.name} ${c.use ?? ''} [flags]\n\nFlags:\n${body}\n\n`;
}

/** Levenshtein distance (cobra's suggestions use <= 2). */
function distance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

export function suggestions(c: Command, typed: string): string[] {
  return (c.children ?? [])
    .filter((k) => distance(typed.toLowerCase(), k.name.toLowerCase()) <= 2 || k.name.startsWith(typed.toLowerCase()))
    .map((k) => k.name);
}

export type { FlagSpec };
export { FlagSet };
export type ClientGetter = () => Promise<EtcdClient>;
