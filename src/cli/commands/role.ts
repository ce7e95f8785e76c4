/**
 * `role add|delete|get|list|grant-permission|revoke-permission` (etcdctl 3.4.23
 * role_command.go): permission types read|write|readwrite in any case; a key alone, a range
 * [key, end), --prefix or --from-key (mutually exclusive, not with an end key); the empty key
 * with --prefix or --from-key means the whole key space ["\0", "\0"). Output: printers/auth.ts.
 */
import type { Command, RunContext } from '../command.js';
import { CliExit, ExitCode } from '../output.js';
import { authOut, failed, text } from './user.js';

function badArgs(msg: string): never {
  throw new CliExit(ExitCode.BadArgs, msg);
}

const permFlags = (verb: string) => [
  { name: 'prefix', kind: 'bool' as const, def: 'false', usage: `${verb} a prefix permission` },
  { name: 'from-key', kind: 'bool' as const, def: 'false', usage: `${verb} a permission of keys that are greater than or equal to the given key using byte compare` },
];

/** clientv3.GetPrefixRangeEnd (binary strings). */
function prefixEnd(key: string): string {
  const b = Buffer.from(key, 'latin1');
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) {
      b[i] = (b[i] as number) + 1;
      return b.subarray(0, i + 1).toString('latin1');
    }
  }
  return '\x00';
}

/** etcdctl permRange: the key and range end of `args` ([key] or [key, end]) under the flags. */
function permRange(ctx: RunContext, args: string[]): [string, string] {
  const prefix = ctx.flags.bool('prefix');
  const fromKey = ctx.flags.bool('from-key');
  let key = args[0] as string;
  if (key.length === 0) {
    if (prefix && fromKey) badArgs('--from-key and --prefix flags are mutually exclusive');
    key = '\x00';
    return [key, prefix || fromKey ? '\x00' : ''];
  }
  if (args.length === 1) {
    if (prefix) {
      if (fromKey) badArgs('--from-key and --prefix flags are mutually exclusive');
      return [key, prefixEnd(key)];
    }
    return [key, fromKey ? '\x00' : ''];
  }
  if (prefix) badArgs('unexpected endkey argument with --prefix flag');
  if (fromKey) badArgs('unexpected endkey argument with --from-key flag');
  return [key, args[1] as string];
}

const permTypes: Record<string, number> = { READ: 0, WRITE: 1, READWRITE: 2 };

const roleAdd: Command = {
  name: 'add',
  use: '<role name>',
  short: 'Adds a new role',
  async run(ctx, args) {
    if (args.length !== 1) badArgs('role add command requires role name as its argument');
    const name = args[0] as string;
    const r = await (await ctx.client()).roleAdd(text(name)).catch(failed);
    ctx.out.stdout((await authOut(ctx)).done(r, `Role ${name} created\n`));
  },
};

const roleDelete: Command = {
  name: 'delete',
  use: '<role name>',
  short: 'Deletes a role',
  async run(ctx, args) {
    if (args.length !== 1) badArgs('role delete command requires role name as its argument');
    const name = args[0] as string;
    const r = await (await ctx.client()).roleDelete(text(name)).catch(failed);
    ctx.out.stdout((await authOut(ctx)).done(r, `Role ${name} deleted\n`));
  },
};

const roleGet: Command = {
  name: 'get',
  use: '<role name>',
  short: 'Gets detailed information of a role',
  async run(ctx, args) {
    if (args.length !== 1) badArgs('role get command requires role name as its argument');
    const name = args[0] as string;
    const r = await (await ctx.client()).roleGet(text(name)).catch(failed);
    ctx.out.stdout((await authOut(ctx)).roleGet(name, r));
  },
};

const roleList: Command = {
  name: 'list',
  short: 'Lists all roles',
  async run(ctx, args) {
    if (args.length !== 0) badArgs('role list command requires no arguments');
    const r = await (await ctx.client()).roleList().catch(failed);
    ctx.out.stdout((await authOut(ctx)).roleList(r));
  },
};

const roleGrantPermission: Command = {
  name: 'grant-permission',
  use: '[options] <role name> <permission type> <key> [endkey]',
  short: 'Grants a key to a role',
  flags: permFlags('grant'),
  async run(ctx, args) {
    if (args.length < 3) badArgs('role grant command requires role name, permission type, and key [endkey] as its argument');
    const type = permTypes[(args[1] as string).toUpperCase()];
    if (type === undefined) badArgs(`invalid permission type: ${args[1] as string}`);
    const [key, end] = permRange(ctx, args.slice(2));
    const role = args[0] as string;
    const r = await (await ctx.client()).roleGrantPermission(text(role), type, Buffer.from(key, 'latin1'), Buffer.from(end, 'latin1')).catch(failed);
    ctx.out.stdout((await authOut(ctx)).done(r, `Role ${role} updated\n`));
  },
};

const roleRevokePermission: Command = {
  name: 'revoke-permission',
  use: '<role name> <key> [endkey]',
  short: 'Revokes a key from a role',
  flags: permFlags('revoke'),
  async run(ctx, args) {
    if (args.length < 2) badArgs('role revoke-permission command requires role name and key [endkey] as its argument');
    const [key, end] = permRange(ctx, args.slice(1));
    const role = args[0] as string;
    const given = args[1] as string;
    const r = await (await ctx.client()).roleRevokePermission(text(role), Buffer.from(key, 'latin1'), Buffer.from(end, 'latin1')).catch(failed);
    const what =
      end.length === 0
        ? `Permission of key ${given} is revoked from role ${role}\n`
        : end !== '\x00'
          ? `Permission of range [${given}, ${end}) is revoked from role ${role}\n`
          : `Permission of range [${given}, <open ended> is revoked from role ${role}\n`;
    ctx.out.stdout((await authOut(ctx)).done(r, what));
  },
};

export const roleCommand: Command = {
  name: 'role',
  use: '<subcommand>',
  short: 'Role related commands',
  children: [roleAdd, roleDelete, roleGet, roleList, roleGrantPermission, roleRevokePermission],
};
