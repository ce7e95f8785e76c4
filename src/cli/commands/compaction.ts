/** `compaction <revision>`: Compact, printed the same way in every output format. */
import type { Command } from '../command.js';
import { parseGoInt } from '../flags.js';
import { CliExit, ExitCode } from '../output.js';

export const compactionCommand: Command = {
  name: 'compaction',
  use: '[options] <revision>',
  short: 'Compacts the event history in etcd',
  flags: [{ name: 'physical', kind: 'bool', def: 'false', usage: "'true' to wait for compaction to physically remove all old revisions" }],
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'compaction command needs 1 argument');
    let rev: bigint;
    try {
      rev = parseGoInt10(args[0] as string);
    } catch (e) {
      throw new CliExit(ExitCode.Error, (e as Error).message);
    }
    const client = await ctx.client();
    await client.compact({ revision: rev, physical: ctx.flags.bool('physical') });
    ctx.out.stdout(`compacted revision ${rev}\n`);
  },
};

/** strconv.ParseInt(s, 10, 64). */
function parseGoInt10(s: string): bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  return parseGoInt(s.replace(/^([+-]?)0+(?=\d)/, '$1'));
}
