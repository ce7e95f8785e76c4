/**
 * `endpoint health`: for each endpoint, a client of its own does a linearizable Get("health");
 * healthy if it answers (permission denied counts: the read went through consensus). Results
 * print in completion order, as etcdctl collects them from its goroutines; any unhealthy
 * endpoint ends with `Error: unhealthy cluster`.
 */
import { ClientError } from '../../client/errors.js';
import type { Command } from '../command.js';
import { goDuration } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import type { EndpointHealth } from '../printers/printer.js';

const permissionDenied = 'etcdserver: permission denied';

export const endpointHealthCommand: Command = {
  name: 'health',
  short: 'Checks the healthiness of endpoints specified in `--endpoints` flag',
  async run(ctx) {
    await ctx.client(); // env, display, flag checks, as mustClientFromCmd
    const eps = await ctx.endpoints();
    const results: EndpointHealth[] = [];
    await Promise.all(
      eps.map(async (ep) => {
        const c = ctx.clientFor(ep);
        const start = process.hrtime.bigint();
        let error = '';
        try {
          await c.range({ key: Buffer.from('health') });
        } catch (e) {
          if (!(e instanceof ClientError && e.details === permissionDenied)) error = e instanceof Error ? e.message : String(e);
        } finally {
          c.close();
        }
        results.push({ ep, health: error === '', took: goDuration(process.hrtime.bigint() - start), error });
      }),
    );
    const { stdout, stderr } = ctx.display().endpointHealth(results);
    ctx.out.stdout(stdout);
    ctx.out.stderr(stderr);
    if (results.some((h) => h.error !== '')) throw new CliExit(ExitCode.Error, 'unhealthy cluster');
  },
};
