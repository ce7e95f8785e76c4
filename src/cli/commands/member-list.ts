/** `member list`. */
import type { Command } from '../command.js';
import { memberAddCommand, memberPromoteCommand, memberRemoveCommand, memberUpdateCommand } from './member.js';

export const memberListCommand: Command = {
  name: 'list',
  short: 'Lists all members in the cluster',
  long: [
    'With --write-out=simple, prints one comma-separated line per member:',
    'ID, Status, Name, Peer Addrs, Client Addrs, Is Learner.',
  ].join('\n'),
  async run(ctx) {
    const client = await ctx.client();
    const r = await client.memberList();
    ctx.out.stdout(ctx.display().memberList(r));
  },
};

export const memberCommand: Command = {
  name: 'member',
  use: '<subcommand>',
  short: 'Membership related commands',
  children: [memberAddCommand, memberListCommand, memberPromoteCommand, memberRemoveCommand, memberUpdateCommand],
};
