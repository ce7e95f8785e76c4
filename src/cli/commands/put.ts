/** `put <key> [value]`: Put, value from stdin when absent (etcdctl put_command.go behaviour). */
import type { PutRequest } from '../../api/kv-types.js';
import type { Command } from '../command.js';
import type { FlagSet, FlagSpec } from '../flags.js';
import { parseGoInt } from '../flags.js';
import { CliExit, ExitCode } from '../output.js';

export const putFlags: FlagSpec[] = [
  { name: 'lease', kind: 'string', def: '0', usage: 'lease ID (in hexadecimal) to attach to the key' },
  { name: 'prev-kv', kind: 'bool', def: 'false', usage: 'return the previous key-value pair before modification' },
  { name: 'ignore-value', kind: 'bool', def: 'false', usage: 'updates the key using its current value' },
  { name: 'ignore-lease', kind: 'bool', def: 'false', usage: 'updates the key using its current lease' },
];

const needArgs = 'put command needs 1 argument and input from stdin or 2 arguments';

/** strconv.ParseInt(s, 16, 64). */
export function parseHexLease(s: string): bigint {
  if (!/^[+-]?[0-9a-fA-F]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const neg = s.startsWith('-');
  const v = BigInt('0x' + s.replace(/^[+-]/, ''));
  const r = neg ? -v : v;
  if (r > (1n << 63n) - 1n || r < -(1n << 63n)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return r;
}

/** getPutOp: the request for `put` args; `stdin` is read only when the value is absent. */
export async function putOp(args: Buffer[], flags: FlagSet, stdin: () => Promise<Buffer>): Promise<PutRequest> {
  if (args.length === 0) throw new CliExit(ExitCode.BadArgs, needArgs);
  const ignoreValue = flags.bool('ignore-value');
  if (ignoreValue && args.length > 1) throw new CliExit(ExitCode.BadArgs, "put command needs only 1 argument when 'ignore-value' is set");
  let value: Buffer = Buffer.alloc(0);
  if (!ignoreValue) {
    if (args.length > 1) value = args[1] as Buffer;
    else {
      value = await stdin();
      if (value.length === 0) throw new CliExit(ExitCode.BadArgs, needArgs);
    }
  }
  let lease: bigint;
  try {
    lease = parseHexLease(flags.str('lease'));
  } catch (e) {
    throw new CliExit(ExitCode.BadArgs, `bad lease ID (${(e as Error).message}), expecting ID in Hex`);
  }
  void parseGoInt;
  return {
    key: args[0] as Buffer,
    value,
    lease,
    prev_kv: flags.bool('prev-kv'),
    ignore_value: ignoreValue,
    ignore_lease: flags.bool('ignore-lease'),
  };
}

export const putCommand: Command = {
  name: 'put',
  use: '[options] <key> <value> (<value> can also be given from stdin)',
  short: 'Puts the given key into the store',
  long: [
    'Puts the given key into the store.',
    '',
    "A <value> that begins with '-' would be read as a flag; put '--' before the",
    'arguments to end the flags:',
    '',
    '$ put <key> -- <value>',
    '$ put -- <key> <value>',
    '',
    "Without a <value> argument (and without '--ignore-value'), the value is read",
    'from standard input, e.g. to store a file:',
    '$ cat file | put <key>',
  ].join('\n'),
  flags: putFlags,
  async run(ctx, args) {
    const req = await putOp(args.map((a) => Buffer.from(a, 'latin1')), ctx.flags, () => ctx.readStdin());
    const client = await ctx.client();
    const r = await client.put(req);
    ctx.out.stdout(ctx.display().put(r));
  },
};
