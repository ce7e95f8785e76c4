/**
 * `endpoint status`: Maintenance.Status of each endpoint in turn; a failing endpoint is reported
 * on stderr (`Failed to get the status of endpoint ...`), the others are printed, and the exit
 * code is 1 without an `Error:` line, as etcdctl 3.4 does.
 */
import type { Command } from '../command.js';
import { endpointHashKvCommand } from './endpoint-hashkv.js';
import { endpointHealthCommand } from './endpoint-health.js';
import { bin } from '../go-format.js';
import { ExitCode } from '../output.js';
import type { EndpointStatus } from '../printers/printer.js';

export class SilentExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export const endpointStatusCommand: Command = {
  name: 'status',
  short: 'Prints out the status of endpoints specified in `--endpoints` flag',
  long: [
    'With --write-out=simple, prints one comma-separated line per endpoint:',
    'endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors.',
  ].join('\n'),
  async run(ctx) {
    await ctx.client();
    const eps = await ctx.endpoints();
    const list: EndpointStatus[] = [];
    let failed = false;
    for (const ep of eps) {
      const c = ctx.clientFor(ep);
      try {
        list.push({ ep, resp: await c.status(0) });
      } catch (e) {
        failed = true;
        ctx.out.stderr(bin(`Failed to get the status of endpoint ${ep} (${e instanceof Error ? e.message : String(e)})\n`));
      } finally {
        c.close();
      }
    }
    ctx.out.stdout(ctx.display().endpointStatus(list));
    if (failed) throw new SilentExit(ExitCode.Error);
  },
};

export const endpointCommand: Command = {
  name: 'endpoint',
  use: '<subcommand>',
  short: 'Endpoint related commands',
  persistentFlags: [{ name: 'cluster', kind: 'bool', def: 'false', usage: 'use all endpoints from the cluster member list' }],
  children: [endpointHashKvCommand, endpointHealthCommand, endpointStatusCommand],
};
