/**
 * `auth enable|disable|status` (etcdctl auth_command.go; status is 3.5's). enable, as etcdctl
 * does it: when the server answers that root lacks the root role, it adds role root, grants it
 * to root and tries again. enable and disable print their line directly, in every output format.
 */
import { ClientError } from '../../client/errors.js';
import type { Command } from '../command.js';
import { CliExit, ExitCode } from '../output.js';
import { authOut, failed } from './user.js';

const rootRoleMissing = 'etcdserver: root user does not have root role';

const authEnable: Command = {
  name: 'enable',
  short: 'Enables authentication',
  async run(ctx, args) {
    if (args.length !== 0) throw new CliExit(ExitCode.BadArgs, 'auth enable command does not accept any arguments');
    const client = await ctx.client();
    for (;;) {
      try {
        await client.authEnable();
        break;
      } catch (e) {
        if (!(e instanceof ClientError) || e.details !== rootRoleMissing) failed(e);
        await client.roleAdd('root').catch(failed);
        await client.userGrantRole('root', 'root').catch(failed);
      }
    }
    ctx.out.stdout('Authentication Enabled\n');
  },
};

const authDisable: Command = {
  name: 'disable',
  short: 'Disables authentication',
  async run(ctx, args) {
    if (args.length !== 0) throw new CliExit(ExitCode.BadArgs, 'auth disable command does not accept any arguments');
    await (await ctx.client()).authDisable().catch(failed);
    ctx.out.stdout('Authentication Disabled\n');
  },
};

const authStatus: Command = {
  name: 'status',
  short: 'Returns authentication status',
  async run(ctx, args) {
    if (args.length !== 0) throw new CliExit(ExitCode.BadArgs, 'auth status command does not accept any arguments');
    const r = await (await ctx.client()).authStatus().catch(failed);
    ctx.out.stdout((await authOut(ctx)).authStatus(r));
  },
};

export const authCommand: Command = {
  name: 'auth',
  use: '<enable or disable>',
  short: 'Enable or disable authentication',
  children: [authDisable, authEnable, authStatus],
};
