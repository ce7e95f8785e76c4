/**
 * `elect <election-name> [proposal]` and `elect -l <election-name>` (etcdctl elect_command.go,
 * 3.4.23), over clientv3/concurrency's Election (client/concurrency.ts) with a 60 s session.
 *
 * Campaign: waits to be elected, prints the leader key as `get` would (key, then the
 * proposal), and holds leadership until SIGINT/SIGTERM (resigns, exit 0) or until the session's
 * lease is lost (`Error: elect: session expired`). Listen: prints the leader, each value it
 * proclaims and each next leader, as `get` responses, until interrupted (exit 0); a broken
 * observation is `Error: elect: observer lost`.
 */
import type { CallResult, Range } from '../../client/types.js';
import type { Command } from '../command.js';
import { CliExit, ExitCode } from '../output.js';
import { onInterrupt } from './interrupt.js';

const rangeType = 'etcdserverpb.RangeResponse';

export const electCommand: Command = {
  name: 'elect',
  use: '<election-name> [proposal]',
  short: 'Observes and participates in leader election',
  flags: [{ name: 'listen', short: 'l', kind: 'bool', def: 'false', usage: 'observation mode' }],
  async run(ctx, args) {
    if (args.length !== 1 && args.length !== 2) throw new CliExit(ExitCode.BadArgs, 'elect takes one election name argument and an optional proposal argument');
    const listen = ctx.flags.bool('listen');
    if (args.length === 1 && !listen) throw new CliExit(ExitCode.BadArgs, 'no proposal argument but -l not set');
    if (args.length === 2 && listen) throw new CliExit(ExitCode.BadArgs, 'proposal given but -l is set');
    // Loaded here, not at start: they bring protobufjs, which other commands start without (issue 13).
    const [{ toWire }, { Election, Session }] = await Promise.all([import('../../api/convert.js'), import('../../client/concurrency.js')]);
    const client = await ctx.client();
    const display = ctx.display();
    const session = await Session.create(client);
    const e = new Election(session, Buffer.from(args[0] as string, 'latin1'));
    const stop = new AbortController();
    const interrupted = onInterrupt(() => stop.abort());
    try {
      if (listen) {
        try {
          await e.observe(stop.signal, (v) => {
            const resp = { header: v.header, kvs: [v.kv], more: false, count: 0n };
            const r: CallResult<Range> = { type: rangeType, raw: toWire(rangeType, resp), resp };
            ctx.out.stdout(display.get(r));
          });
        } catch {
          throw new CliExit(ExitCode.Error, 'elect: observer lost');
        }
        return;
      }
      await e.campaign(Buffer.from(args[1] as string, 'latin1'), stop.signal);
      ctx.out.stdout(display.get(await client.range({ key: e.key })));
      const how = await Promise.race([interrupted.then(() => 'signal' as const), session.done.then(() => 'expired' as const)]);
      if (how === 'expired') throw new CliExit(ExitCode.Error, 'elect: session expired');
      await e.resign();
    } finally {
      interrupted.dispose();
      session.close();
    }
  },
};
