/** `get <key> [range_end]`: Range (etcdctl get_command.go behaviour, 3.4 flags). */
import type { RangeRequest } from '../../api/kv-types.js';
import { SortOrder, SortTarget, emptyRangeRequest } from '../../api/kv-types.js';
import { prefixEnd } from '../../base/bytes.js';
import type { Command } from '../command.js';
import type { FlagSet, FlagSpec } from '../flags.js';
import { CliExit, ExitCode } from '../output.js';
import { SimplePrinter } from '../printers/simple.js';

export const getFlags: FlagSpec[] = [
  { name: 'consistency', kind: 'string', def: 'l', usage: 'Linearizable(l) or Serializable(s)' },
  { name: 'sort-by', kind: 'string', def: '', usage: 'Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION' },
  { name: 'order', kind: 'string', def: '', usage: 'Order of results; ASCEND or DESCEND (ASCEND by default)' },
  { name: 'limit', kind: 'int64', def: '0', usage: 'Maximum number of results' },
  { name: 'prefix', kind: 'bool', def: 'false', usage: 'Get keys with matching prefix' },
  { name: 'from-key', kind: 'bool', def: 'false', usage: 'Get keys that are greater than or equal to the given key using byte compare' },
  { name: 'rev', kind: 'int64', def: '0', usage: 'Specify the kv revision' },
  { name: 'keys-only', kind: 'bool', def: 'false', usage: 'Get only the keys' },
  { name: 'print-value-only', kind: 'bool', def: 'false', usage: 'Only write values when using the "simple" output format' },
];

const zero = Buffer.from([0]);

/** getGetOp: the Range request for `get` args. */
export function getOp(args: Buffer[], flags: FlagSet): RangeRequest {
  if (args.length === 0) throw new CliExit(ExitCode.BadArgs, 'get command needs one argument as key and an optional argument as range_end');
  const prefix = flags.bool('prefix');
  const fromKey = flags.bool('from-key');
  if (prefix && fromKey) throw new CliExit(ExitCode.BadArgs, '`--prefix` and `--from-key` cannot be set at the same time, choose one');
  const req = emptyRangeRequest(args[0] as Buffer);
  const consistency = flags.str('consistency');
  if (consistency === 's') req.serializable = true;
  else if (consistency !== 'l') throw new CliExit(ExitCode.BadFeature, `unknown consistency flag ${JSON.stringify(consistency)}`);
  if (args.length > 1) {
    if (prefix || fromKey) throw new CliExit(ExitCode.BadArgs, 'too many arguments, only accept one argument when `--prefix` or `--from-key` is set');
    req.range_end = args[1] as Buffer;
  }
  req.limit = flags.int('limit');
  const rev = flags.int('rev');
  if (rev > 0n) req.revision = rev;
  const orderText = flags.str('order');
  let order: number = SortOrder.NONE;
  switch (orderText.toUpperCase()) {
    case 'ASCEND':
      order = SortOrder.ASCEND;
      break;
    case 'DESCEND':
      order = SortOrder.DESCEND;
      break;
    case '':
      break;
    default:
      throw new CliExit(ExitCode.BadFeature, `bad sort order ${orderText}`);
  }
  const targetText = flags.str('sort-by');
  const targets: Record<string, number> = {
    CREATE: SortTarget.CREATE,
    KEY: SortTarget.KEY,
    MODIFY: SortTarget.MOD,
    VALUE: SortTarget.VALUE,
    VERSION: SortTarget.VERSION,
    '': SortTarget.KEY,
  };
  const target = targets[targetText.toUpperCase()];
  if (target === undefined) throw new CliExit(ExitCode.BadFeature, `bad sort target ${targetText}`);
  // clientv3 WithSort: keys come sorted ascending anyway, so KEY/ASCEND is sent as no sort.
  if (target === SortTarget.KEY && order === SortOrder.ASCEND) order = SortOrder.NONE;
  req.sort_order = order;
  req.sort_target = target;
  if (prefix) {
    if (req.key.length === 0) {
      req.key = zero;
      req.range_end = zero;
    } else req.range_end = Buffer.from(prefixEnd(req.key));
  }
  if (fromKey) {
    if (req.key.length === 0) req.key = zero;
    req.range_end = zero;
  }
  if (flags.bool('keys-only')) req.keys_only = true;
  return req;
}

export const getCommand: Command = {
  name: 'get',
  use: '[options] <key> [range_end]',
  short: 'Gets the key or a range of keys',
  flags: getFlags,
  async run(ctx, args) {
    const req = getOp(args.map((a) => Buffer.from(a, 'latin1')), ctx.flags);
    const client = await ctx.client();
    const r = await client.range(req);
    const display = ctx.display();
    if (ctx.flags.bool('print-value-only')) {
      if (!(display instanceof SimplePrinter)) throw new CliExit(ExitCode.BadArgs, 'print-value-only is only for `--write-out=simple`');
      display.valueOnly = true;
    }
    ctx.out.stdout(display.get(r));
  },
};
