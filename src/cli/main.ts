/**
 * ctl: the etcdctl v3 command line. `main(argv)` parses like etcdctl (args.ts), runs one
 * command and returns etcdctl's exit code; errors go to stderr as `Error: <msg>`.
 */
import { EtcdClient } from '../client/client.js';
import { durationMs, flagValue, globalFlags, parseArgs, boolValue, type FlagDef } from './args.js';
import { endpointHealth, endpointStatus, memberList, type ClusterCtx } from './cluster-commands.js';
import {
  compactionCommand,
  compactionFlags,
  delCommand,
  delFlags,
  getCommand,
  getFlags,
  putCommand,
  putFlags,
  txnFlags,
  type Ctx,
} from './kv-commands.js';
import { CliExit, ExitCode, processOut, type Out } from './output.js';
import type { Format } from './printers.js';
import { txnCommand } from './txn-command.js';

export const ctlVersion = '0.1.0';
export const apiVersion = '3.5';

interface Command {
  flags: Record<string, FlagDef>;
  /** Output formats beyond simple/json/fields/protobuf this command supports. */
  table?: boolean;
  run: (kv: Ctx, cluster: ClusterCtx) => Promise<void>;
}

const commands: Record<string, Command> = {
  put: { flags: putFlags, run: (c) => putCommand(c) },
  get: { flags: getFlags, run: (c) => getCommand(c) },
  del: { flags: delFlags, run: (c) => delCommand(c) },
  txn: { flags: txnFlags, run: (c) => txnCommand(c) },
  compaction: { flags: compactionFlags, run: (c) => compactionCommand(c) },
  'member list': { flags: {}, table: true, run: (_c, k) => memberList(k) },
  'endpoint health': { flags: { cluster: { kind: 'bool', def: 'false' } }, table: true, run: (_c, k) => endpointHealth(k) },
  'endpoint status': { flags: { cluster: { kind: 'bool', def: 'false' } }, table: true, run: (_c, k) => endpointStatus(k) },
  version: {
    flags: {},
    run: async (c) => c.out(`ctl version: ${ctlVersion}\nAPI version: ${apiVersion}\n`),
  },
};

const allFlags: Record<string, FlagDef> = Object.assign({}, globalFlags, ...Object.values(commands).map((c) => c.flags));

function readStdin(): Promise<string> {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) {
      // Interactive use: read until EOF (Ctrl-D), as etcdctl does for put and txn.
    }
    const chunks: Buffer[] = [];
    process.stdin.on('data', (d: Buffer) => chunks.push(d));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    process.stdin.on('error', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

const usage = `NAME:
	ctl - A simple command line client for etcd3 (etcdts).

USAGE:
	ctl [flags] <command>

COMMANDS:
	get			Gets the key or a range of keys
	put			Puts the given key into the store
	del			Removes the specified key or range of keys [key, range_end)
	txn			Txn processes all the requests in one transaction
	compaction		Compacts the event history in etcd
	member list		Lists all members in the cluster
	endpoint health		Checks the healthiness of endpoints specified in \`--endpoints\` flag
	endpoint status		Prints out the status of endpoints specified in \`--endpoints\` flag
	version			Prints the version of ctl
`;

export async function main(argv: string[], out: Out = processOut, env: Record<string, string | undefined> = process.env, stdin = readStdin): Promise<number> {
  let client: EtcdClient | null = null;
  try {
    const first = parseArgs(argv, allFlags);
    const words = first.positional;
    if (words.length === 0) {
      out.stdout(usage);
      return ExitCode.Success;
    }
    let name = words[0] as string;
    if ((name === 'member' || name === 'endpoint') && words[1] !== undefined) name = `${name} ${words[1]}`;
    const cmd = commands[name];
    if (!cmd) {
      const msg = `unknown command "${words[0]}" for "ctl"`;
      out.stderr(`Error: ${msg}\nRun 'ctl --help' for usage.\n`);
      throw new CliExit(ExitCode.Error, msg);
    }
    const defs = { ...globalFlags, ...cmd.flags };
    const parsed = parseArgs(argv, defs);
    const positional = parsed.positional.slice(name.split(' ').length);
    const flag = (n: string): string => flagValue(parsed, defs, n, env);
    const format = flag('write-out') as Format;
    if (!['simple', 'json', 'fields', 'table', 'protobuf'].includes(format)) {
      throw new CliExit(ExitCode.BadFeature, `unknown output format ${format}`);
    }
    if (format === 'protobuf') throw new CliExit(ExitCode.BadFeature, 'protobuf output is not supported by ctl yet');
    const endpoints = flag('endpoints')
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    const print = { format, hex: boolValue(flag('hex'), 'hex'), valueOnly: false };
    const getClient = (): EtcdClient =>
      (client ??= new EtcdClient({
        endpoints,
        dialTimeoutMs: durationMs(flag('dial-timeout'), 'dial-timeout'),
        commandTimeoutMs: durationMs(flag('command-timeout'), 'command-timeout'),
        keepaliveTimeMs: durationMs(flag('keepalive-time'), 'keepalive-time'),
        keepaliveTimeoutMs: durationMs(flag('keepalive-timeout'), 'keepalive-timeout'),
      }));
    let text = '';
    const write = (s: string): void => {
      text += s;
    };
    const kvCtx: Ctx = { client: getClient, print, stdin, out: write, flag, positional };
    const clusterCtx: ClusterCtx = {
      client: getClient,
      endpoints,
      print,
      out: write,
      err: (s) => {
        flush();
        out.stderr(s);
      },
    };
    const flush = (): void => {
      if (text) out.stdout(text);
      text = '';
    };
    try {
      await cmd.run(kvCtx, clusterCtx);
    } finally {
      flush();
    }
    return ExitCode.Success;
  } catch (e) {
    if (e instanceof CliExit) {
      out.stderr(`Error: ${e.message}\n`);
      return e.code;
    }
    out.stderr(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    return ExitCode.Error;
  } finally {
    (client as EtcdClient | null)?.close();
  }
}
