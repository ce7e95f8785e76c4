/**
 * `alarm list` and `alarm disarm`. Disarm is clientv3's AlarmDisarm with an empty member: list
 * the alarms, deactivate each one, print the deactivated ones (a response without header).
 */
import type { AlarmList, CallResult } from '../../client/types.js';
import type { Command } from '../command.js';
import { CliExit, ExitCode } from '../output.js';
import { alarmOutput } from '../printers/maintenance.js';

const deactivate = 2;

export const alarmListCommand: Command = {
  name: 'list',
  short: 'Lists all alarms',
  async run(ctx, args) {
    if (args.length !== 0) throw new CliExit(ExitCode.BadArgs, 'alarm list command accepts no arguments');
    const c = await ctx.client();
    ctx.display();
    ctx.out.stdout(alarmOutput(ctx.flags.str('write-out'), await c.alarmList()));
  },
};

export const alarmDisarmCommand: Command = {
  name: 'disarm',
  short: 'Disarms all alarms',
  async run(ctx, args) {
    if (args.length !== 0) throw new CliExit(ExitCode.BadArgs, 'alarm disarm command accepts no arguments');
    const c = await ctx.client();
    ctx.display();
    const listed = await c.alarmList();
    const raws: unknown[] = [];
    const alarms: AlarmList['alarms'] = [];
    for (const a of listed.resp.alarms) {
      const r = await c.alarm(deactivate, a.memberID, a.alarm);
      alarms.push(...r.resp.alarms);
      raws.push(...((r.raw['alarms'] as unknown[] | undefined) ?? []));
    }
    const result: CallResult<AlarmList> = {
      type: 'etcdserverpb.AlarmResponse',
      raw: { alarms: raws },
      resp: { header: null, alarms },
    };
    ctx.out.stdout(alarmOutput(ctx.flags.str('write-out'), result));
  },
};

export const alarmCommand: Command = {
  name: 'alarm',
  use: '<subcommand>',
  short: 'Alarm related commands',
  children: [alarmDisarmCommand, alarmListCommand],
};
