/**
 * ctl: etcdctl v3 (3.4.23) for etcdts. `main(argv)` finds the command as cobra does, parses its
 * flags as pflag does, runs it, and returns etcdctl's exit code; for the same server answers it
 * prints what etcdctl prints, byte for byte, errors included (`Error: <msg>` on stderr, and the
 * clientv3 retry warning line before a failed request's error).
 */
import type { ClientTls, EtcdClient, RetryWarning } from '../client/client.js';
import { clientTls } from './tls-files.js';
import { ClientError } from '../client/errors.js';
import {
  flagSetFor,
  helpText,
  inheritedFlags,
  link,
  pathOf,
  programName,
  suggestions,
  type Command,
  type RunContext,
} from './command.js';
import { alarmCommand } from './commands/alarm.js';
import { authCommand } from './commands/auth.js';
import { roleCommand } from './commands/role.js';
import { userCommand } from './commands/user.js';
import { compactionCommand } from './commands/compaction.js';
import { defragCommand } from './commands/defrag.js';
import { snapshotCommand } from './commands/snapshot.js';
import { delCommand } from './commands/del.js';
import { endpointCommand, SilentExit } from './commands/endpoint-status.js';
import { getCommand } from './commands/get.js';
import { leaseCommand } from './commands/lease.js';
import { lockCommand } from './commands/lock.js';
import { makeMirrorCommand } from './commands/make-mirror.js';
import { checkCommand } from './commands/check.js';
import { electCommand } from './commands/elect.js';
import { memberCommand } from './commands/member-list.js';
import { moveLeaderCommand } from './commands/move-leader.js';
import { putCommand } from './commands/put.js';
import { txnCommand } from './commands/txn.js';
import { versionCommand } from './commands/version.js';
import { watchCommand } from './commands/watch.js';
import type { FlagSet } from './flags.js';
import type { OfflineTools } from './offline.js';
import { globalFlags } from './global-flags.js';
import { bin, zapJsonString } from './go-format.js';
import { loadGoJson } from './go-json.js';
import { CliExit, ExitCode, processOut, type Out } from './output.js';
import { newPrinter, type Printer } from './printers/index.js';

const helpCommand: Command = { name: 'help', use: '[command]', short: 'Help about any command' };

/** Commands that never dial a server (by command path). */
const offlineCommands = new Set(['etcdctl version', 'etcdctl snapshot status', 'etcdctl snapshot restore', 'etcdctl help']);

export const rootCommand: Command = link({
  name: programName,
  short: 'A simple command line client for etcd3.',
  persistentFlags: globalFlags,
  children: [
    getCommand,
    putCommand,
    delCommand,
    txnCommand,
    compactionCommand,
    watchCommand,
    leaseCommand,
    memberCommand,
    endpointCommand,
    alarmCommand,
    defragCommand,
    snapshotCommand,
    moveLeaderCommand,
    lockCommand,
    electCommand,
    makeMirrorCommand,
    checkCommand,
    authCommand,
    userCommand,
    roleCommand,
    versionCommand,
    helpCommand,
  ],
});

export interface MainOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Standard input; default process.stdin. */
  stdin?: AsyncIterable<Buffer | string>;
  /** snapshot restore, defrag --data-dir (bin/ctl.ts passes them). */
  offline?: OfflineTools;
}

/** cobra's stripFlags: the words of argv that may name subcommands. */
function commandWords(args: string[], flags: FlagSet): string[] {
  const words: string[] = [];
  const rest = [...args];
  while (rest.length > 0) {
    const s = rest.shift() as string;
    if (s === '--') break;
    if (s.startsWith('--') && !s.includes('=') && !flags.isBool(s.slice(2))) {
      if (rest.length <= 1) break;
      rest.shift();
    } else if (s.startsWith('-') && !s.includes('=') && s.length === 2 && !flags.shortIsBool(s.slice(1))) {
      if (rest.length <= 1) break;
      rest.shift();
    } else if (s !== '' && !s.startsWith('-')) words.push(s);
  }
  return words;
}

/** cobra's Find: descend while the next word names a child; returns the command and argv without those words. */
function find(root: Command, argv: string[]): { cmd: Command; args: string[] } {
  let cmd = root;
  let args = argv;
  for (;;) {
    const words = commandWords(args, flagSetFor(cmd));
    const next = words[0];
    const child = next === undefined ? undefined : (cmd.children ?? []).find((c) => c.name === next);
    if (!child) return { cmd, args };
    const i = args.indexOf(next as string);
    args = [...args.slice(0, i), ...args.slice(i + 1)];
    cmd = child;
  }
}

/** capnslog's line prefix: local time with microseconds. */
function capnslogTime(): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const micros = Math.floor((performance.timeOrigin * 1000 + performance.now() * 1000) % 1000);
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${p(micros, 3)}`;
}

/** zap's ISO8601 time as etcdctl's logger writes it: millisecond precision, zone offset or Z. */
function zapTime(): string {
  const d = new Date();
  const off = -d.getTimezoneOffset();
  if (off === 0) return d.toISOString();
  const p = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 23);
  return `${local}${off < 0 ? '-' : '+'}${p(Math.trunc(off / 60))}${p(off % 60)}`;
}

function retryWarningLine(w: RetryWarning): string {
  return (
    `{"level":"warn","ts":"${zapTime()}","caller":"clientv3/retry_interceptor.go:62",` +
    `"msg":"retrying of unary invoker failed","target":${zapJsonString(w.target)},"attempt":${w.attempt},` +
    `"error":${zapJsonString(w.error)}}\n`
  );
}

/** A flag's binary string (one char per byte) as the UTF-8 text it was typed as (file paths). */
function utf8(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

function envKey(flag: string): string {
  return `ETCDCTL_${flag.toUpperCase().replace(/-/g, '_')}`;
}

class StdinReader {
  private buf = Buffer.alloc(0);
  private done = false;
  private readonly it: AsyncIterator<Buffer | string>;
  constructor(src: AsyncIterable<Buffer | string>) {
    this.it = src[Symbol.asyncIterator]();
  }
  private async more(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value;
    this.buf = Buffer.concat([this.buf, chunk]);
    return true;
  }
  async all(): Promise<Buffer> {
    while (await this.more());
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }
  async line(): Promise<{ line: string; eof: boolean }> {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.buf.subarray(0, nl + 1).toString('latin1');
        this.buf = this.buf.subarray(nl + 1);
        return { line, eof: false };
      }
      if (!(await this.more())) {
        const line = this.buf.toString('latin1');
        this.buf = Buffer.alloc(0);
        return { line, eof: true };
      }
    }
  }
}

/** Runs one ctl command line; returns the process exit code. Output strings are binary (latin1). */
export async function main(argvIn: string[], out: Out = processOut, opts: MainOptions = {}): Promise<number> {
  // Inside cli/ every string is binary (one char per byte): arguments become their UTF-8 bytes.
  const argv = argvIn.map(bin);
  // Node's deprecation notices (e.g. DEP0123 when grpc-js sets an IP as TLS server name) would
  // add lines etcdctl never prints.
  process.noDeprecation = true;
  const env = opts.env ?? process.env;
  const clients: EtcdClient[] = [];
  let stdin: StdinReader | null = null;
  const input = (): StdinReader => (stdin ??= new StdinReader(opts.stdin ?? process.stdin));
  let cmd: Command = rootCommand;
  try {
    const found = find(rootCommand, argv);
    cmd = found.cmd;
    const flags = flagSetFor(cmd);
    const args = flags.parse(found.args);
    if (cmd === helpCommand) {
      const target = find(rootCommand, args).cmd;
      if (args.length > 0 && target === rootCommand) {
        out.stderr(`Unknown help topic [\`${args.join(' ')}\`]\n`);
        out.stdout(helpText(rootCommand));
      } else out.stdout(helpText(target));
      return ExitCode.Success;
    }
    if (flags.bool('help')) {
      out.stdout(helpText(cmd));
      return ExitCode.Success;
    }
    if (!cmd.run) {
      if (cmd === rootCommand && args.length > 0) {
        const typed = args[0] as string;
        const sug = suggestions(rootCommand, typed);
        let msg = `unknown command ${JSON.stringify(typed)} for ${JSON.stringify(programName)}`;
        if (sug.length > 0) msg += `\n\nDid you mean this?\n${sug.map((s) => `\t${s}\n`).join('')}`;
        out.stderr(`Error: ${msg}\nRun '${programName} --help' for usage.\n`);
        throw new CliExit(ExitCode.Error, msg);
      }
      out.stdout(helpText(cmd));
      return ExitCode.Success;
    }

    let display: Printer | null = null;
    let configured = false;
    /** clientConfigFromCmd: ETCDCTL_* for the inherited flags, then the display. */
    const configure = (): void => {
      if (configured) return;
      configured = true;
      const inherited = inheritedFlags(cmd).map((f) => f.name);
      const used = new Set<string>();
      const alreadySet = new Set<string>();
      for (const name of inherited) {
        const key = envKey(name);
        if (flags.changed(name)) {
          alreadySet.add(key);
          continue;
        }
        const v = env[key];
        if (v !== undefined && v !== '') {
          used.add(key);
          flags.setFromEnv(name, bin(v));
        }
      }
      for (const [key, value] of Object.entries(env)) {
        // etcdctl reads ETCDCTL_WATCH_KEY / _RANGE_END itself (watch), without a warning.
        if (used.has(key) || key === 'ETCDCTL_API' || key === 'ETCDCTL_WATCH_KEY' || key === 'ETCDCTL_WATCH_RANGE_END') continue;
        if (alreadySet.has(key)) {
          const msg = `${capnslogTime()} C | pkg/flags: conflicting environment variable "${key}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)\n`;
          throw new CliExit(ExitCode.Error, bin(msg), { raw: true });
        }
        if (key.startsWith('ETCDCTL_')) out.stderr(bin(`${capnslogTime()} W | pkg/flags: unrecognized environment variable ${key}=${value ?? ''}\n`));
      }
      display = newPrinter(flags.str('write-out'), flags.bool('hex'));
      if (!display) throw new CliExit(ExitCode.BadFeature, 'unsupported output format');
    };
    /** secureCfgFromCmd + TLSInfo.ClientConfig (tls-files.ts), read once per command. */
    let tlsCfg: ClientTls | undefined | null = null;
    const tls = (): ClientTls | undefined =>
      tlsCfg !== null
        ? tlsCfg
        : (tlsCfg = clientTls({
            cert: utf8(flags.str('cert')),
            key: utf8(flags.str('key')),
            cacert: utf8(flags.str('cacert')),
            insecureTransport: flags.bool('insecure-transport'),
            skipVerify: flags.bool('insecure-skip-tls-verify'),
          }));
    // -w json and -w protobuf print the wire object of a response through protobufjs's
    // descriptors (go-json-impl.ts); any other output needs neither: its calls use the client's
    // hand codecs where it has them (get, put, del, txn), and protobufjs stays unloaded (issue 13).
    // The flag or ETCDCTL_WRITE_OUT may name the format (configure() decides which counts).
    const wireOutput = [flags.has('write-out') ? flags.str('write-out') : '', env['ETCDCTL_WRITE_OUT'] ?? ''].some((f) => f === 'json' || f === 'protobuf');
    if (wireOutput) await loadGoJson();
    // The client (HTTP/2, and grpc-js once a stream is opened) loads only for commands that talk
    // to a server: `version` and the offline snapshot commands start without it (issue 13).
    let Client: typeof EtcdClient | null = offlineCommands.has(pathOf(cmd).join(' ')) ? null : (await import('../client/client.js')).EtcdClient;
    const loadClient = async (): Promise<typeof EtcdClient> => (Client ??= (await import('../client/client.js')).EtcdClient);
    /** `ownTls`: the TLS of another cluster (make-mirror's --dest-*); null: none; undefined: the global flags'. */
    const newClient = (endpoints: string[], ownTls?: ClientTls | null): EtcdClient => {
      if (Client === null) throw new Error('the client module is not loaded');
      const c = new Client({
        tls: ownTls === undefined ? tls() : (ownTls ?? undefined),
        endpoints,
        dialTimeoutMs: flags.ms('dial-timeout'),
        commandTimeoutMs: flags.ms('command-timeout'),
        keepaliveTimeMs: flags.ms('keepalive-time'),
        keepaliveTimeoutMs: flags.ms('keepalive-timeout'),
        onRetryWarning: (w) => out.stderr(retryWarningLine(w)),
        keepRaw: wireOutput,
      });
      clients.push(c);
      return c;
    };
    let main: EtcdClient | null = null;
    const endpointsOf = (): string[] => flags.list('endpoints').map((e) => e.trim());
    const ctx: RunContext = {
      out,
      flags,
      env,
      readStdin: () => input().all(),
      readLine: () => input().line(),
      async client() {
        if (main) return main;
        await loadClient();
        configure();
        const c = newClient(endpointsOf());
        const user = flags.str('user');
        if (user !== '') {
          let name = user;
          let password = flags.str('password');
          if (password === '') {
            const i = user.indexOf(':');
            if (i >= 0) {
              name = user.slice(0, i);
              password = user.slice(i + 1);
            } else {
              out.stdout('Password: ');
              password = (await input().line()).line.replace(/\r?\n$/, '');
            }
          }
          try {
            await c.authenticate(name, password);
          } catch (e) {
            const notEnabled = e instanceof ClientError && e.details === 'etcdserver: authentication is not enabled';
            if (!notEnabled) throw new CliExit(ExitCode.BadConnection, bin(e instanceof Error ? e.message : String(e)));
          }
        }
        main = c;
        return c;
      },
      display() {
        configure();
        return display as unknown as Printer;
      },
      clientFor: (ep, ownTls) => {
        const c = newClient([ep], ownTls);
        // etcdctl dials each endpoint with the same credentials; simple tokens are valid on
        // every member (each assigns them when it applies the Authenticate entry).
        if (ownTls === undefined) c.setToken(main?.authToken);
        return c;
      },
      offline: opts.offline,
      async endpoints() {
        if (!flags.has('cluster') || !flags.bool('cluster')) return endpointsOf();
        const r = await (await ctx.client()).memberList();
        return r.resp.members.flatMap((m) => m.clientURLs);
      },
    };
    await cmd.run(ctx, args);
    return ExitCode.Success;
  } catch (e) {
    if (e instanceof SilentExit) return e.code;
    if (e instanceof CliExit) {
      if (e.raw) {
        out.stderr(e.message);
        return e.code;
      }
      if (e.usage) {
        out.stderr(`Error: ${e.message}\n`);
        out.stdout(helpText(cmd));
        out.stderr(`\nError: ${e.message}\n`);
        return e.code;
      }
      out.stderr(`Error: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof ClientError) {
      out.stderr(bin(`Error: ${e.message}\n`));
      return ExitCode.Error;
    }
    throw e;
  } finally {
    for (const c of clients) c.close();
    void pathOf;
  }
}

/** `node --import tsx src/cli/main.ts ...` runs ctl directly. */
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
