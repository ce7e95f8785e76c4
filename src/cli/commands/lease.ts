/**
 * `lease grant|revoke|timetolive|list|keep-alive` (etcdctl 3.4.23 lease_command.go behaviour:
 * argument checks and their messages, exit codes, and what each prints; printers/lease.ts).
 */
import { ClientError } from '../../client/errors.js';
import type { Command, RunContext } from '../command.js';
import { bin } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { leaseHex, leasePrinter } from '../printers/lease.js';
import { parseHexLease } from './put.js';

/** strconv.ParseInt(s, 10, 64), with Go's error texts. */
function parseInt10(s: string): bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > (1n << 63n) - 1n || v < -(1n << 63n)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return v;
}

/** etcdctl leaseFromArgs. */
function leaseFromArg(arg: string): bigint {
  try {
    return parseHexLease(arg);
  } catch (e) {
    throw new CliExit(ExitCode.BadArgs, `bad lease ID arg (${(e as Error).message}), expecting ID in Hex`);
  }
}

/** A request error as etcdctl wraps it: `<prefix> (<err>)` or the bare error. */
function failed(e: unknown, code: number, wrap?: string): never {
  if (e instanceof ClientError) throw new CliExit(code, bin(wrap ? `${wrap} (${e.message})` : e.message));
  throw e;
}

async function printer(ctx: RunContext): Promise<ReturnType<typeof leasePrinter>> {
  ctx.display(); // validates --write-out (after client set-up, as etcdctl)
  return leasePrinter(ctx.flags.str('write-out'));
}

export const leaseGrantCommand: Command = {
  name: 'grant',
  use: '<ttl>',
  short: 'Creates leases',
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'lease grant command needs TTL argument');
    let ttl: bigint;
    try {
      ttl = parseInt10(args[0] as string);
    } catch (e) {
      throw new CliExit(ExitCode.BadArgs, bin(`bad TTL (${(e as Error).message})`));
    }
    const client = await ctx.client();
    const p = await printer(ctx);
    const r = await client.leaseGrant(ttl).catch((e: unknown) => failed(e, ExitCode.Error, 'failed to grant lease'));
    ctx.out.stdout(p.grant(r));
  },
};

export const leaseRevokeCommand: Command = {
  name: 'revoke',
  use: '<leaseID>',
  short: 'Revokes leases',
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'lease revoke command needs 1 argument');
    const id = leaseFromArg(args[0] as string);
    const client = await ctx.client();
    const p = await printer(ctx);
    const r = await client.leaseRevoke(id).catch((e: unknown) => failed(e, ExitCode.Error, 'failed to revoke lease'));
    ctx.out.stdout(p.revoke(id, r));
  },
};

export const leaseTimeToLiveCommand: Command = {
  name: 'timetolive',
  use: '<leaseID> [options]',
  short: 'Get lease information',
  flags: [{ name: 'keys', kind: 'bool', def: 'false', usage: 'Get keys attached to this lease' }],
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'lease timetolive command needs lease ID as argument');
    const keys = ctx.flags.bool('keys');
    const client = await ctx.client();
    const p = await printer(ctx);
    const id = leaseFromArg(args[0] as string);
    const r = await client.leaseTimeToLive(id, keys).catch((e: unknown) => failed(e, ExitCode.BadConnection));
    ctx.out.stdout(p.timeToLive(r, keys));
  },
};

export const leaseListCommand: Command = {
  name: 'list',
  short: 'List all active leases',
  async run(ctx) {
    const client = await ctx.client();
    const p = await printer(ctx);
    const r = await client.leaseLeases().catch((e: unknown) => failed(e, ExitCode.BadConnection));
    ctx.out.stdout(p.leases(r));
  },
};

export const leaseKeepAliveCommand: Command = {
  name: 'keep-alive',
  use: '[options] <leaseID>',
  short: 'Keeps leases alive (renew)',
  flags: [{ name: 'once', kind: 'bool', def: 'false', usage: 'Resets the keep-alive time to its original value and exits immediately' }],
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'lease keep-alive command needs lease ID as argument');
    const id = leaseFromArg(args[0] as string);
    // Loaded here, not at start: it brings protobufjs, which other commands start without (issue 13).
    const { keepAlive, keepAliveOnce } = await import('../../client/lease-keepalive.js');
    const client = await ctx.client();
    const p = await printer(ctx);
    if (ctx.flags.bool('once')) {
      const r = await keepAliveOnce(client, id).catch((e: unknown) => failed(e, ExitCode.BadConnection));
      ctx.out.stdout(p.keepAlive(r));
      return;
    }
    // Runs until the lease expires or is revoked (or the process is interrupted).
    await keepAlive(client, id, (r) => ctx.out.stdout(p.keepAlive(r)), { firstAnswerTimeoutMs: client.dialTimeoutMs + 1000 });
    if (ctx.flags.str('write-out') === 'simple') ctx.out.stdout(`lease ${leaseHex(id)} expired or revoked.\n`);
  },
};

export const leaseCommand: Command = {
  name: 'lease',
  use: '<subcommand>',
  short: 'Lease related commands',
  children: [leaseGrantCommand, leaseRevokeCommand, leaseTimeToLiveCommand, leaseListCommand, leaseKeepAliveCommand],
};
