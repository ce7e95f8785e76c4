/**
 * `member add|remove|update|promote` (etcdctl ctlv3/command/member_command.go, 3.4): argument
 * checks with etcdctl's messages and exit codes, peer URLs checked on the client as clientv3
 * does (types.NewURLs), and etcdctl's output: simple text lines (add also prints the ETCD_*
 * lines a new member starts with, built from a fresh member list), json and protobuf of the
 * whole response; fields and table are not supported (the change has been made by then).
 */
import type { CallResult, MemberAdd } from '../../client/types.js';
import { parseGoUrls } from '../../base/go-urls.js';
import type { Command, RunContext } from '../command.js';
import { goJson, goProtobuf } from '../go-json.js';
import { goQuote } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { notSupported } from '../printers/table.js';

/** Go's %16x: hex padded with spaces to 16. */
export function hex16Spaces(v: bigint): string {
  return v.toString(16).padStart(16, ' ');
}

/** strconv.ParseUint(s, 16, 64), with Go's error text. */
export function parseHexId(s: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const v = BigInt(`0x${s}`);
  if (v >= 1n << 64n) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return v;
}

function memberIdArg(args: string[]): bigint {
  if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'member ID is not provided');
  try {
    return parseHexId(args[0] as string);
  } catch (e) {
    throw new CliExit(ExitCode.BadArgs, `bad member ID arg (${(e as Error).message}), expecting ID in Hex`);
  }
}

function peerUrls(ctx: RunContext): string[] {
  const raw = ctx.flags.str('peer-urls');
  if (raw.length === 0) throw new CliExit(ExitCode.BadArgs, 'member peer urls not provided');
  return raw.split(',');
}

/** clientv3 checks the URLs before sending (the error is not from the server). */
function checkUrls(urls: string[]): void {
  const r = parseGoUrls(urls);
  if (!r.ok) throw new CliExit(ExitCode.Error, r.error);
}

/** json/protobuf print the response; fields/table are not supported for these commands. */
function printOther(ctx: RunContext, r: CallResult<unknown>): void {
  const fmt = ctx.flags.str('write-out');
  if (fmt === 'json') ctx.out.stdout(goJson(r.type, r.raw) + '\n');
  else if (fmt === 'protobuf') ctx.out.stdout(goProtobuf(r.type, r.raw));
  else throw notSupported(fmt);
}

export const memberAddCommand: Command = {
  name: 'add',
  use: '<memberName> [options]',
  short: 'Adds a member into the cluster',
  flags: [
    { name: 'learner', kind: 'bool', def: 'false', usage: 'indicates if the new member is raft learner' },
    { name: 'peer-urls', kind: 'string', def: '', usage: 'comma separated peer URLs for the new member.' },
  ],
  async run(ctx, args) {
    if (args.length < 1) throw new CliExit(ExitCode.BadArgs, 'member name not provided');
    if (args.length > 1) {
      let ev = 'too many arguments';
      for (const s of args) if (s.toLowerCase().startsWith('http')) ev += `, did you mean --peer-urls=${s}`;
      throw new CliExit(ExitCode.BadArgs, ev);
    }
    const name = args[0] as string;
    const urls = peerUrls(ctx);
    checkUrls(urls);
    const client = await ctx.client();
    const r: CallResult<MemberAdd> = await client.memberAdd(urls, ctx.flags.bool('learner'));
    if (ctx.flags.str('write-out') !== 'simple') return printOther(ctx, r);
    const newId = r.resp.member?.ID ?? 0n;
    ctx.out.stdout(`Member ${hex16Spaces(newId)} added to cluster ${hex16Spaces(r.resp.header.cluster_id)}\n`);
    // The member list from the member that answered the add (etcdctl re-reads it until the
    // answering member is the same, syncing with a quorum read in between).
    let list = await client.memberList();
    for (let i = 0; list.resp.header.member_id !== r.resp.header.member_id && i < 10; i++) {
      await client.range({ key: Buffer.from('_') });
      list = await client.memberList();
    }
    const conf: string[] = [];
    for (const m of list.resp.members) for (const u of m.peerURLs) conf.push(`${m.ID === newId ? name : m.name}=${u}`);
    ctx.out.stdout(
      '\n' +
        `ETCD_NAME=${goQuote(Buffer.from(name))}\n` +
        `ETCD_INITIAL_CLUSTER=${goQuote(Buffer.from(conf.join(',')))}\n` +
        `ETCD_INITIAL_ADVERTISE_PEER_URLS=${goQuote(Buffer.from(urls.join(',')))}\n` +
        'ETCD_INITIAL_CLUSTER_STATE="existing"\n',
    );
  },
};

export const memberRemoveCommand: Command = {
  name: 'remove',
  use: '<memberID>',
  short: 'Removes a member from the cluster',
  async run(ctx, args) {
    const id = memberIdArg(args);
    const client = await ctx.client();
    const r = await client.memberRemove(id);
    if (ctx.flags.str('write-out') !== 'simple') return printOther(ctx, r);
    ctx.out.stdout(`Member ${hex16Spaces(id)} removed from cluster ${hex16Spaces(r.resp.header.cluster_id)}\n`);
  },
};

export const memberUpdateCommand: Command = {
  name: 'update',
  use: '<memberID> [options]',
  short: 'Updates a member in the cluster',
  flags: [{ name: 'peer-urls', kind: 'string', def: '', usage: 'comma separated peer URLs for the updated member.' }],
  async run(ctx, args) {
    const id = memberIdArg(args);
    const urls = peerUrls(ctx);
    checkUrls(urls);
    const client = await ctx.client();
    const r = await client.memberUpdate(id, urls);
    if (ctx.flags.str('write-out') !== 'simple') return printOther(ctx, r);
    ctx.out.stdout(`Member ${hex16Spaces(id)} updated in cluster ${hex16Spaces(r.resp.header.cluster_id)}\n`);
  },
};

export const memberPromoteCommand: Command = {
  name: 'promote',
  use: '<memberID>',
  short: 'Promotes a non-voting member in the cluster',
  long: 'Promotes a non-voting learner member to a voting one in the cluster.',
  async run(ctx, args) {
    const id = memberIdArg(args);
    const client = await ctx.client();
    const r = await client.memberPromote(id);
    if (ctx.flags.str('write-out') !== 'simple') return printOther(ctx, r);
    ctx.out.stdout(`Member ${hex16Spaces(id)} promoted in cluster ${hex16Spaces(r.resp.header.cluster_id)}\n`);
  },
};
