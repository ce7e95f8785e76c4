/**
 * `user add|delete|get|list|passwd|grant-role|revoke-role` (etcdctl 3.4.23 user_command.go):
 * argument checks with etcdctl's messages and exit codes, the password taken from
 * `name:password`, --new-user-password, stdin (--interactive=false reads one word, as Go's
 * fmt.Scanf("%s")), or asked twice on the terminal (--interactive, the default); --no-password
 * users authenticate by certificate CN only. Output: printers/auth.ts.
 */
import type { Command, RunContext } from '../command.js';
import { ClientError } from '../../client/errors.js';
import { bin } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { authPrinter, type AuthPrinter } from '../printers/auth.js';

/** A binary-string argument as the text it was typed as. */
export function text(arg: string): string {
  return Buffer.from(arg, 'latin1').toString('utf8');
}

export function failed(e: unknown): never {
  if (e instanceof ClientError) throw new CliExit(ExitCode.Error, bin(e.message));
  throw e;
}

export async function authOut(ctx: RunContext): Promise<AuthPrinter> {
  ctx.display(); // validates --write-out (after client set-up, as etcdctl)
  return authPrinter(ctx.flags.str('write-out'));
}

function badArgs(msg: string): never {
  throw new CliExit(ExitCode.BadArgs, msg);
}

/** fmt.Scanf("%s"): the first whitespace-separated word of the next input line ("" at EOF). */
async function scanWord(ctx: RunContext): Promise<string> {
  const { line } = await ctx.readLine();
  return line.trim().split(/\s+/)[0] ?? '';
}

/** etcdctl readPasswordInteractive. */
async function readPassword(ctx: RunContext, name: string): Promise<string> {
  if (!ctx.flags.bool('interactive')) return scanWord(ctx);
  ctx.out.stdout(`Password of ${name}: `);
  const first = (await ctx.readLine()).line.replace(/\r?\n$/, '');
  if (first.length === 0) badArgs('empty password');
  ctx.out.stdout(`Type password of ${name} again for confirmation: `);
  const second = (await ctx.readLine()).line.replace(/\r?\n$/, '');
  if (first !== second) badArgs('given passwords are different');
  return first;
}

const userAdd: Command = {
  name: 'add',
  use: '<user name or user:password> [options]',
  short: 'Adds a new user',
  flags: [
    { name: 'interactive', kind: 'bool', def: 'true', usage: 'Read password from stdin instead of interactive terminal' },
    { name: 'new-user-password', kind: 'string', def: '', usage: 'Supply password from the command line flag' },
    { name: 'no-password', kind: 'bool', def: 'false', usage: 'Create a user without password (CN based auth only)' },
  ],
  async run(ctx, args) {
    if (args.length !== 1) badArgs('user add command requires user name as its argument');
    const arg = args[0] as string;
    let user: string;
    let password = '';
    let noPassword = false;
    const fromFlag = ctx.flags.str('new-user-password');
    if (fromFlag !== '') {
      user = arg;
      password = fromFlag;
    } else {
      const colon = arg.indexOf(':');
      if (colon < 0) {
        user = arg;
        if (!ctx.flags.bool('no-password')) password = await readPassword(ctx, user);
        else noPassword = true;
      } else {
        user = arg.slice(0, colon);
        password = arg.slice(colon + 1);
        if (user.length === 0) badArgs('empty user name is not allowed');
      }
    }
    const client = await ctx.client();
    const r = await client.userAdd(text(user), text(password), noPassword).catch(failed);
    ctx.out.stdout((await authOut(ctx)).done(r, `User ${user} created\n`));
  },
};

const userDelete: Command = {
  name: 'delete',
  use: '<user name>',
  short: 'Deletes a user',
  async run(ctx, args) {
    if (args.length !== 1) badArgs('user delete command requires user name as its argument');
    const name = args[0] as string;
    const r = await (await ctx.client()).userDelete(text(name)).catch(failed);
    ctx.out.stdout((await authOut(ctx)).done(r, `User ${name} deleted\n`));
  },
};

const userGet: Command = {
  name: 'get',
  use: '<user name> [options]',
  short: 'Gets detailed information of a user',
  flags: [{ name: 'detail', kind: 'bool', def: 'false', usage: 'Show permissions of roles granted to the user' }],
  async run(ctx, args) {
    if (args.length !== 1) badArgs('user get command requires user name as its argument');
    const name = args[0] as string;
    const client = await ctx.client();
    const r = await client.userGet(text(name)).catch(failed);
    const p = await authOut(ctx);
    if (!ctx.flags.bool('detail')) {
      ctx.out.stdout(p.userGet(name, r));
      return;
    }
    ctx.out.stdout(`User: ${name}\n`);
    for (const role of r.resp.roles) {
      ctx.out.stdout('\n');
      const rr = await client.roleGet(role).catch(failed);
      ctx.out.stdout(p.roleGet(bin(role), rr));
    }
  },
};

const userList: Command = {
  name: 'list',
  short: 'Lists all users',
  async run(ctx, args) {
    if (args.length !== 0) badArgs('user list command requires no arguments');
    const r = await (await ctx.client()).userList().catch(failed);
    ctx.out.stdout((await authOut(ctx)).userList(r));
  },
};

const userPasswd: Command = {
  name: 'passwd',
  use: '<user name> [options]',
  short: 'Changes password of user',
  flags: [{ name: 'interactive', kind: 'bool', def: 'true', usage: 'If true, read password from stdin instead of interactive terminal' }],
  async run(ctx, args) {
    if (args.length !== 1) badArgs('user passwd command requires user name as its argument');
    const name = args[0] as string;
    const password = ctx.flags.bool('interactive') ? await readPassword(ctx, name) : await scanWord(ctx);
    const r = await (await ctx.client()).userChangePassword(text(name), text(password)).catch(failed);
    ctx.out.stdout((await authOut(ctx)).done(r, 'Password updated\n'));
  },
};

const userGrantRole: Command = {
  name: 'grant-role',
  use: '<user name> <role name>',
  short: 'Grants a role to a user',
  async run(ctx, args) {
    if (args.length !== 2) badArgs('user grant command requires user name and role name as its argument');
    const [user, role] = args as [string, string];
    const r = await (await ctx.client()).userGrantRole(text(user), text(role)).catch(failed);
    ctx.out.stdout((await authOut(ctx)).done(r, `Role ${role} is granted to user ${user}\n`));
  },
};

const userRevokeRole: Command = {
  name: 'revoke-role',
  use: '<user name> <role name>',
  short: 'Revokes a role from a user',
  async run(ctx, args) {
    if (args.length !== 2) badArgs('user revoke-role requires user name and role name as its argument');
    const [user, role] = args as [string, string];
    const r = await (await ctx.client()).userRevokeRole(text(user), text(role)).catch(failed);
    ctx.out.stdout((await authOut(ctx)).done(r, `Role ${role} is revoked from user ${user}\n`));
  },
};

export const userCommand: Command = {
  name: 'user',
  use: '<subcommand>',
  short: 'User related commands',
  children: [userAdd, userDelete, userGet, userList, userPasswd, userGrantRole, userRevokeRole],
};
