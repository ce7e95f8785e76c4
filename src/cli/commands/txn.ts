/** `txn [-i]`: reads compares and ops from stdin (txn-grammar.ts) and commits one Txn. */
import type { Compare, RequestOp } from '../../api/kv-types.js';
import { cobraUsage, flagSetFor, link, type Command, type RunContext } from '../command.js';
import { CliExit, ExitCode } from '../output.js';
import { argify, parseCompare } from '../txn-grammar.js';
import { delCommand, delOp } from './del.js';
import { getCommand, getOp } from './get.js';
import { putCommand, putOp } from './put.js';

/** Ops inside a txn are parsed by their commands' own flag sets, without global flags. */
const nested: Record<string, Command> = {
  put: { ...putCommand, parent: undefined, children: undefined },
  get: { ...getCommand, parent: undefined, children: undefined },
  del: { ...delCommand, parent: undefined, children: undefined },
};
for (const c of Object.values(nested)) link(c);

async function readLine(ctx: RunContext): Promise<string> {
  const { line, eof } = await ctx.readLine();
  // bufio.Reader.ReadString('\n') fails with EOF on a last line without a newline.
  if (eof) throw new CliExit(ExitCode.InvalidInput, 'EOF');
  return line.trim();
}

async function readCompares(ctx: RunContext): Promise<Compare[]> {
  const out: Compare[] = [];
  for (;;) {
    const line = await readLine(ctx);
    if (line.length === 0) return out;
    out.push(parseCompare(line));
  }
}

async function parseOp(ctx: RunContext, line: string): Promise<RequestOp> {
  const args = argify(line);
  if (args.length < 2) throw new CliExit(ExitCode.InvalidInput, `invalid txn compare request: ${line}`);
  const cmd = nested[args[0] as string];
  const invalid = new CliExit(ExitCode.InvalidInput, `invalid txn request: ${line}`);
  if (!cmd) throw invalid;
  const flags = flagSetFor(cmd);
  let pos: string[];
  try {
    pos = flags.parse(args.slice(1));
  } catch (e) {
    if (e instanceof CliExit) {
      ctx.out.stderr(cobraUsage(cmd));
      throw invalid;
    }
    throw e;
  }
  if (flags.bool('help')) throw invalid;
  const bufs = pos.map((a) => Buffer.from(a, 'latin1'));
  if (cmd.name === 'put') {
    // etcdctl reads a missing value from its stdin, which its line reader has already buffered.
    return { request: 'request_put', request_put: await putOp(bufs, flags, async () => Buffer.alloc(0)) };
  }
  if (cmd.name === 'get') return { request: 'request_range', request_range: getOp(bufs, flags) };
  return { request: 'request_delete_range', request_delete_range: delOp(bufs, flags) };
}

async function readOps(ctx: RunContext): Promise<RequestOp[]> {
  const out: RequestOp[] = [];
  for (;;) {
    const line = await readLine(ctx);
    if (line.length === 0) return out;
    out.push(await parseOp(ctx, line));
  }
}

export const txnCommand: Command = {
  name: 'txn',
  use: '[options]',
  short: 'Txn processes all the requests in one transaction',
  flags: [{ name: 'interactive', short: 'i', kind: 'bool', def: 'false', usage: 'Input transaction in interactive mode' }],
  async run(ctx, args) {
    if (args.length !== 0) throw new CliExit(ExitCode.BadArgs, 'txn command does not accept argument');
    const client = await ctx.client();
    const interactive = ctx.flags.bool('interactive');
    const prompt = (s: string): void => {
      if (interactive) ctx.out.stdout(`${s}\n`);
    };
    prompt('compares:');
    const compare = await readCompares(ctx);
    prompt('success requests (get, put, del):');
    const success = await readOps(ctx);
    prompt('failure requests (get, put, del):');
    const failure = await readOps(ctx);
    const r = await client.txn({ compare, success, failure });
    ctx.out.stdout(ctx.display().txn(r));
  },
};
