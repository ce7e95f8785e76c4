/** ctl put, get, del, compaction, txn: etcdctl's KV commands (ctlv3/command/*_command.go). */
import { prefixEnd } from '../base/bytes.js';
import type { EtcdClient } from '../client/client.js';
import { boolValue, type FlagDef, type Parsed } from './args.js';
import { CliExit, ExitCode } from './output.js';
import { printables, printResponse, type PrintOptions } from './printers.js';

type Obj = Record<string, unknown>;

export interface Ctx {
  client: () => EtcdClient;
  print: PrintOptions;
  stdin: () => Promise<string>;
  out: (s: string) => void;
  flag: (name: string) => string;
  positional: string[];
  interactive?: boolean;
}

export const putFlags: Record<string, FlagDef> = {
  lease: { kind: 'string', def: '0' },
  'prev-kv': { kind: 'bool', def: 'false' },
  'ignore-value': { kind: 'bool', def: 'false' },
  'ignore-lease': { kind: 'bool', def: 'false' },
};

export const getFlags: Record<string, FlagDef> = {
  consistency: { kind: 'string', def: 'l' },
  'sort-by': { kind: 'string', def: '' },
  order: { kind: 'string', def: '' },
  limit: { kind: 'int', def: '0' },
  prefix: { kind: 'bool', def: 'false' },
  'from-key': { kind: 'bool', def: 'false' },
  rev: { kind: 'int', def: '0' },
  'keys-only': { kind: 'bool', def: 'false' },
  'count-only': { kind: 'bool', def: 'false' },
  'print-value-only': { kind: 'bool', def: 'false' },
};

export const delFlags: Record<string, FlagDef> = {
  prefix: { kind: 'bool', def: 'false' },
  'prev-kv': { kind: 'bool', def: 'false' },
  'from-key': { kind: 'bool', def: 'false' },
  range: { kind: 'bool', def: 'false' },
};

export const compactionFlags: Record<string, FlagDef> = { physical: { kind: 'bool', def: 'false' } };
export const txnFlags: Record<string, FlagDef> = { interactive: { kind: 'bool', def: 'false', short: 'i' } };

function parseInt64(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new CliExit(ExitCode.Error, `strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  return BigInt(s);
}

export function buildPut(positional: string[], flag: (n: string) => string, stdinValue?: string): Obj {
  const key = positional[0] as string;
  const leaseStr = flag('lease');
  let lease: bigint;
  try {
    if (!/^[0-9a-fA-F]+$/.test(leaseStr)) throw new Error();
    lease = BigInt.asIntN(64, BigInt('0x' + leaseStr));
  } catch {
    throw new CliExit(ExitCode.BadArgs, `bad lease ID (strconv.ParseInt: parsing ${JSON.stringify(leaseStr)}: invalid syntax), expecting ID in Hex`);
  }
  const value = positional[1] ?? stdinValue ?? '';
  return {
    key: Buffer.from(key, 'latin1'),
    value: Buffer.from(value, 'latin1'),
    lease: lease.toString(),
    prev_kv: boolValue(flag('prev-kv'), 'prev-kv'),
    ignore_value: boolValue(flag('ignore-value'), 'ignore-value'),
    ignore_lease: boolValue(flag('ignore-lease'), 'ignore-lease'),
  };
}

export async function putCommand(ctx: Ctx): Promise<void> {
  const p = ctx.positional;
  const ignoreValue = boolValue(ctx.flag('ignore-value'), 'ignore-value');
  if (p.length === 0 || p.length > 2) {
    throw new CliExit(ExitCode.BadArgs, 'put command needs 1 argument and input from stdin or 2 arguments');
  }
  let stdinValue: string | undefined;
  if (p.length === 1 && !ignoreValue) {
    stdinValue = await ctx.stdin();
    if (stdinValue === '') throw new CliExit(ExitCode.BadArgs, 'put command needs 1 argument and input from stdin or 2 arguments');
  }
  const req = buildPut(p, ctx.flag, stdinValue);
  const resp = await ctx.client().put(req);
  ctx.out(printResponse(printables.put, resp, ctx.print));
}

const sortTargets: Record<string, number> = { CREATE: 2, KEY: 0, MODIFY: 3, VALUE: 4, VERSION: 1 };

export function buildGet(positional: string[], flag: (n: string) => string): Obj {
  if (positional.length === 0 || positional.length > 2) {
    throw new CliExit(ExitCode.BadArgs, 'get command needs one argument as key and an optional argument as range_end');
  }
  const prefix = boolValue(flag('prefix'), 'prefix');
  const fromKey = boolValue(flag('from-key'), 'from-key');
  if (prefix && fromKey) throw new CliExit(ExitCode.BadArgs, '`--prefix` and `--from-key` cannot be set at the same time, choose one');
  let key = Buffer.from(positional[0] as string, 'latin1');
  let end = Buffer.alloc(0);
  if (positional[1] !== undefined) {
    if (prefix) throw new CliExit(ExitCode.BadArgs, 'too many arguments, only accept one argument when `--prefix` is set.');
    if (fromKey) throw new CliExit(ExitCode.BadArgs, 'too many arguments, only accept one argument when `--from-key` is set.');
    end = Buffer.from(positional[1], 'latin1');
  }
  if (prefix) {
    if (key.length === 0) {
      key = Buffer.from([0]);
      end = Buffer.from([0]);
    } else end = Buffer.from(prefixEnd(key));
  }
  if (fromKey) {
    if (key.length === 0) key = Buffer.from([0]);
    end = Buffer.from([0]);
  }
  const consistency = flag('consistency');
  let serializable: boolean;
  if (consistency === 'l') serializable = false;
  else if (consistency === 's') serializable = true;
  else throw new CliExit(ExitCode.BadFeature, `unknown consistency flag ${JSON.stringify(consistency)}`);
  const order = flag('order').toUpperCase();
  let sortOrder = 0;
  if (order === 'ASCEND') sortOrder = 1;
  else if (order === 'DESCEND') sortOrder = 2;
  else if (order !== '') throw new CliExit(ExitCode.BadFeature, `bad sort order ${flag('order')}`);
  const targetName = flag('sort-by').toUpperCase();
  let sortTarget = 0;
  if (targetName !== '') {
    const t = sortTargets[targetName];
    if (t === undefined) throw new CliExit(ExitCode.BadFeature, `bad sort target ${flag('sort-by')}`);
    sortTarget = t;
  }
  // clientv3.WithSort: ascending by key is the server's natural order, so it asks for none.
  if (sortTarget === 0 && sortOrder === 1) sortOrder = 0;
  return {
    key,
    range_end: end,
    limit: parseInt64(flag('limit')).toString(),
    revision: parseInt64(flag('rev')).toString(),
    sort_order: sortOrder,
    sort_target: sortTarget,
    serializable,
    keys_only: boolValue(flag('keys-only'), 'keys-only'),
    count_only: boolValue(flag('count-only'), 'count-only'),
  };
}

export async function getCommand(ctx: Ctx): Promise<void> {
  const req = buildGet(ctx.positional, ctx.flag);
  const valueOnly = boolValue(ctx.flag('print-value-only'), 'print-value-only');
  if (req.count_only && ctx.print.format !== 'fields') {
    throw new CliExit(ExitCode.BadFeature, '--count-only is only for `--write-out=fields`');
  }
  const resp = await ctx.client().range(req);
  ctx.out(printResponse(printables.get, resp, { ...ctx.print, valueOnly }));
}

export function buildDel(positional: string[], flag: (n: string) => string): Obj {
  if (positional.length === 0 || positional.length > 2) {
    throw new CliExit(ExitCode.BadArgs, 'del command needs one argument as key and an optional argument as range_end');
  }
  const prefix = boolValue(flag('prefix'), 'prefix');
  const fromKey = boolValue(flag('from-key'), 'from-key');
  if (prefix && fromKey) throw new CliExit(ExitCode.BadArgs, '`--prefix` and `--from-key` cannot be set at the same time, choose one');
  let key = Buffer.from(positional[0] as string, 'latin1');
  let end = Buffer.alloc(0);
  if (positional[1] !== undefined) {
    if (prefix) throw new CliExit(ExitCode.BadArgs, 'too many arguments, only accept one argument when `--prefix` is set.');
    end = Buffer.from(positional[1], 'latin1');
  }
  if (prefix) {
    if (key.length === 0) {
      key = Buffer.from([0]);
      end = Buffer.from([0]);
    } else end = Buffer.from(prefixEnd(key));
  }
  if (fromKey) {
    if (key.length === 0) key = Buffer.from([0]);
    end = Buffer.from([0]);
  }
  return { key, range_end: end, prev_kv: boolValue(flag('prev-kv'), 'prev-kv') };
}

export async function delCommand(ctx: Ctx): Promise<void> {
  const resp = await ctx.client().deleteRange(buildDel(ctx.positional, ctx.flag));
  ctx.out(printResponse(printables.del, resp, ctx.print));
}

export async function compactionCommand(ctx: Ctx): Promise<void> {
  if (ctx.positional.length !== 1) throw new CliExit(ExitCode.BadArgs, 'compaction command needs 1 argument');
  const rev = parseInt64(ctx.positional[0] as string);
  await ctx.client().compact({ revision: rev.toString(), physical: boolValue(ctx.flag('physical'), 'physical') });
  // etcdctl prints this line whatever the output format.
  ctx.out(`compacted revision ${rev}\n`);
}
