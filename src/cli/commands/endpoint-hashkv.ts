/**
 * `endpoint hashkv [--rev N]`: Maintenance.HashKV of each endpoint (or of every member with
 * --cluster), each on its own connection. A failing endpoint is reported on stderr (`Failed to
 * get the hash of endpoint ...`), the others are printed, then `Error: <last error>` and exit 1,
 * as etcdctl 3.4.23 does.
 */
import type { Command } from '../command.js';
import { bin } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { hashKvOutput, type EndpointHashKV } from '../printers/maintenance.js';

export const endpointHashKvCommand: Command = {
  name: 'hashkv',
  short: 'Prints the KV history hash for each endpoint in --endpoints',
  flags: [{ name: 'rev', kind: 'int64', def: '0', usage: 'maximum revision to hash (default: all revisions)' }],
  async run(ctx) {
    await ctx.client();
    ctx.display();
    const rev = ctx.flags.int('rev');
    const eps = await ctx.endpoints();
    const list: EndpointHashKV[] = [];
    let lastError: string | null = null;
    for (const ep of eps) {
      const c = ctx.clientFor(ep);
      try {
        list.push({ ep, resp: await c.hashKV(rev, 0) });
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
        ctx.out.stderr(bin(`Failed to get the hash of endpoint ${ep} (${lastError})\n`));
      } finally {
        c.close();
      }
    }
    ctx.out.stdout(hashKvOutput(ctx.flags.str('write-out'), list));
    if (lastError !== null) throw new CliExit(ExitCode.Error, bin(lastError));
  },
};
