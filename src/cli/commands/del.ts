/** `del <key> [range_end]`: DeleteRange (etcdctl del_command.go behaviour, 3.4 flags). */
import type { DeleteRangeRequest } from '../../api/kv-types.js';
import { prefixEnd } from '../../base/bytes.js';
import type { Command } from '../command.js';
import type { FlagSet, FlagSpec } from '../flags.js';
import { CliExit, ExitCode } from '../output.js';

export const delFlags: FlagSpec[] = [
  { name: 'prefix', kind: 'bool', def: 'false', usage: 'delete keys with matching prefix' },
  { name: 'prev-kv', kind: 'bool', def: 'false', usage: 'return deleted key-value pairs' },
  { name: 'from-key', kind: 'bool', def: 'false', usage: 'delete keys that are greater than or equal to the given key using byte compare' },
];

const zero = Buffer.from([0]);

/** getDelOp: the DeleteRange request for `del` args. */
export function delOp(args: Buffer[], flags: FlagSet): DeleteRangeRequest {
  if (args.length === 0 || args.length > 2) {
    throw new CliExit(ExitCode.BadArgs, 'del command needs one argument as key and an optional argument as range_end');
  }
  const prefix = flags.bool('prefix');
  const fromKey = flags.bool('from-key');
  if (prefix && fromKey) throw new CliExit(ExitCode.BadArgs, '`--prefix` and `--from-key` cannot be set at the same time, choose one');
  const req: DeleteRangeRequest = { key: args[0] as Buffer, range_end: Buffer.alloc(0), prev_kv: flags.bool('prev-kv') };
  if (args.length > 1) {
    if (prefix || fromKey) throw new CliExit(ExitCode.BadArgs, 'too many arguments, only accept one argument when `--prefix` or `--from-key` is set');
    req.range_end = args[1] as Buffer;
  }
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
  return req;
}

export const delCommand: Command = {
  name: 'del',
  use: '[options] <key> [range_end]',
  short: 'Removes the specified key or range of keys [key, range_end)',
  flags: delFlags,
  async run(ctx, args) {
    const req = delOp(args.map((a) => Buffer.from(a, 'latin1')), ctx.flags);
    const client = await ctx.client();
    const r = await client.deleteRange(req);
    ctx.out.stdout(ctx.display().del(r));
  },
};
