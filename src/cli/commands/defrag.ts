/**
 * `defrag [--cluster] [--data-dir dir]`: Maintenance.Defragment of each endpoint in turn
 * (`Finished defragmenting etcd member[ep]`, failures on stderr and exit 1 at the end), or, with
 * --data-dir, of a data directory no server is using.
 */
import type { Command } from '../command.js';
import { bin } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { SilentExit } from './endpoint-status.js';

export const defragCommand: Command = {
  name: 'defrag',
  short: 'Defragments the storage of the etcd members with given endpoints',
  flags: [
    { name: 'cluster', kind: 'bool', def: 'false', usage: 'use all endpoints from the cluster member list' },
    { name: 'data-dir', kind: 'string', def: '', usage: 'Optional. If present, defragments a data directory not in use by etcd.' },
  ],
  async run(ctx) {
    const dir = ctx.flags.str('data-dir');
    if (dir !== '') {
      if (!ctx.offline) throw new CliExit(ExitCode.BadFeature, 'defragmenting a data directory is not available in this build of ctl');
      try {
        await ctx.offline.defragDataDir(Buffer.from(dir, 'latin1').toString('utf8'));
      } catch (e) {
        ctx.out.stderr(bin(`Failed to defragment etcd data[${dir}] (${e instanceof Error ? e.message : String(e)})\n`));
        throw new SilentExit(ExitCode.Error);
      }
      return;
    }
    await ctx.client();
    const eps = await ctx.endpoints();
    let failures = 0;
    for (const ep of eps) {
      const c = ctx.clientFor(ep);
      try {
        await c.defragment(0);
        ctx.out.stdout(bin(`Finished defragmenting etcd member[${ep}]\n`));
      } catch (e) {
        failures++;
        ctx.out.stderr(bin(`Failed to defragment etcd member[${ep}] (${e instanceof Error ? e.message : String(e)})\n`));
      } finally {
        c.close();
      }
    }
    if (failures > 0) throw new SilentExit(ExitCode.Error);
  },
};
