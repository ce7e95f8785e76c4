/**
 * `move-leader <transferee-member-id>` (etcdctl ctlv3/command/move_leader_command.go): finds
 * the leader among --endpoints by asking each for its Status, sends MoveLeader to it, and prints
 * `Leadership transferred from <leader> to <target>` (json/protobuf: the empty response).
 */
import type { Command } from '../command.js';
import { goJson, goProtobuf } from '../go-json.js';
import { CliExit, ExitCode } from '../output.js';
import { notSupported } from '../printers/table.js';
import { parseHexId } from './member.js';

export const moveLeaderCommand: Command = {
  name: 'move-leader',
  use: '<transferee-member-id>',
  short: 'Transfers leadership to another etcd cluster member.',
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'move-leader command needs 1 argument');
    let target: bigint;
    try {
      target = parseHexId(args[0] as string);
    } catch (e) {
      throw new CliExit(ExitCode.BadArgs, (e as Error).message);
    }
    await ctx.client(); // etcdctl's mustClientFromCmd: flags, env and endpoints checked first
    const eps = await ctx.endpoints();
    let leaderEp: string | undefined;
    let leaderId = 0n;
    for (const ep of eps) {
      const c = ctx.clientFor(ep);
      try {
        const st = await c.status();
        if (st.resp.header.member_id === st.resp.leader) {
          leaderEp = ep;
          leaderId = st.resp.leader;
          break;
        }
      } finally {
        c.close();
      }
    }
    if (leaderEp === undefined) throw new CliExit(ExitCode.BadArgs, `no leader endpoint given at [${eps.join(' ')}]`);
    const c = ctx.clientFor(leaderEp);
    try {
      const r = await c.moveLeader(target);
      const fmt = ctx.flags.str('write-out');
      if (fmt === 'simple') ctx.out.stdout(`Leadership transferred from ${leaderId.toString(16)} to ${target.toString(16)}\n`);
      else if (fmt === 'json') ctx.out.stdout(goJson(r.type, r.raw) + '\n');
      else if (fmt === 'protobuf') ctx.out.stdout(goProtobuf(r.type, r.raw));
      else throw notSupported(fmt);
    } finally {
      c.close();
    }
  },
};
