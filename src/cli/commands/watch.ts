/**
 * `watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]`
 * (etcdctl watch_command.go, 3.4.23 behaviour; --progress-notify as 3.5 adds it).
 *
 * Prints every response as the chosen printer does (printers/watch.ts); a progress response as
 * `progress notify: <rev>`; a canceled one as `watch was canceled (<reason>)` on stderr. With an
 * exec command, runs it after printing each event, with ETCD_WATCH_REVISION, _EVENT_TYPE, _KEY
 * and _VALUE (%q-quoted) in its environment. The key may come from ETCDCTL_WATCH_KEY (and
 * ETCDCTL_WATCH_RANGE_END). Runs until the server cancels the watch: then
 * `Error: watch is canceled by the server`, exit 5. `-i` reads `watch ...` and `progress`
 * lines from stdin.
 */
import { prefixEnd } from '../../base/bytes.js';
import type { WatchRequestOptions, WatchResponseView, WatchSession } from '../../client/watch.js';
import { isProgressNotify } from '../../client/watch-view.js';
import { nodeChildProcess } from '../builtins.js';
import type { Command, RunContext } from '../command.js';
import { FlagSet, type FlagSpec } from '../flags.js';
import { goQuote } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { argify } from '../txn-grammar.js';
import { goQuoteList, watchPrinter, type WatchPrinter } from '../printers/watch.js';

export const watchFlags: FlagSpec[] = [
  { name: 'interactive', short: 'i', kind: 'bool', def: 'false', usage: 'Interactive mode' },
  { name: 'prefix', kind: 'bool', def: 'false', usage: 'Watch on a prefix if prefix is set' },
  { name: 'rev', kind: 'int64', def: '0', usage: 'Revision to start watching' },
  { name: 'prev-kv', kind: 'bool', def: 'false', usage: 'get the previous key-value pair before the event happens' },
  { name: 'progress-notify', kind: 'bool', def: 'false', usage: 'get periodic watch progress notification from server' },
];

const errBadArgsNum = 'bad number of arguments';
const errBadArgsNumConflictEnv = 'bad number of arguments (found conflicting environment key)';
const errBadArgsNumSeparator = 'bad number of arguments (found separator --, but no commands)';

interface WatchArgs {
  keys: string[];
  exec: string[];
  prefix: boolean;
  rev: bigint;
  prevKv: boolean;
  progressNotify: boolean;
}

/** parseWatchArgs: the key/range words and the exec command, with the env key folded in. */
function parseArgs(args: string[], dashAt: number, flags: FlagSet, envKey: string, envRange: string): WatchArgs {
  const hasExec = dashAt >= 0;
  const keys = hasExec ? args.slice(0, dashAt) : args;
  const exec = hasExec ? args.slice(dashAt) : [];
  if (hasExec && exec.length === 0) throw new CliExit(ExitCode.BadArgs, errBadArgsNumSeparator);
  if (envKey !== '') {
    if (keys.length > 0) throw new CliExit(ExitCode.BadArgs, errBadArgsNumConflictEnv);
    keys.push(envKey);
    if (envRange !== '') keys.push(envRange);
  }
  if (keys.length === 0) throw new CliExit(ExitCode.BadArgs, errBadArgsNum);
  return {
    keys,
    exec,
    prefix: flags.bool('prefix'),
    rev: flags.int('rev'),
    prevKv: flags.bool('prev-kv'),
    progressNotify: flags.bool('progress-notify'),
  };
}

/** getWatchChan's request. */
function watchRequest(a: WatchArgs): WatchRequestOptions {
  if (a.keys.length > 2) throw new CliExit(ExitCode.BadArgs, errBadArgsNum);
  const key = Buffer.from(a.keys[0] as string, 'latin1');
  const req: WatchRequestOptions = { key, startRevision: a.rev, prevKv: a.prevKv, progressNotify: a.progressNotify };
  if (a.keys.length === 2) {
    if (a.prefix) throw new CliExit(ExitCode.BadArgs, '`range_end` and `--prefix` are mutually exclusive');
    req.rangeEnd = Buffer.from(a.keys[1] as string, 'latin1');
  }
  if (a.prefix) req.rangeEnd = key.length === 0 ? Buffer.from([0]) : Buffer.from(prefixEnd(key));
  if (req.key.length === 0 && a.prefix) req.key = Buffer.from([0]);
  return req;
}

/** printWatchCh for one response; false if the watcher has ended. */
function printResponse(ctx: RunContext, display: WatchPrinter, r: WatchResponseView, exec: string[]): void {
  if (r.canceled) {
    const reason = r.compact_revision !== 0n ? 'etcdserver: mvcc: required revision has been compacted' : r.cancel_reason;
    ctx.out.stderr(`watch was canceled (${reason})\n`);
  }
  if (isProgressNotify(r)) ctx.out.stdout(`progress notify: ${r.header.revision}\n`);
  ctx.out.stdout(display(r));
  if (exec.length === 0) return;
  for (const ev of r.events) {
    const env = {
      ...process.env,
      ETCD_WATCH_REVISION: String(r.header.revision),
      ETCD_WATCH_EVENT_TYPE: `"${ev.type === 1 ? 'DELETE' : 'PUT'}"`,
      ETCD_WATCH_KEY: Buffer.from(goQuote(ev.kv.key), 'latin1').toString('utf8'),
      ETCD_WATCH_VALUE: Buffer.from(goQuote(ev.kv.value), 'latin1').toString('utf8'),
    };
    const argv = exec.map((x) => Buffer.from(x, 'latin1').toString('utf8'));
    const res = nodeChildProcess().spawnSync(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (res.stdout) ctx.out.stdout(res.stdout.toString('latin1'));
    if (res.stderr) ctx.out.stderr(res.stderr.toString('latin1'));
    if (res.error || res.status !== 0) {
      const why = res.error ? `exec: ${goQuote(exec[0] as string)}: executable file not found in $PATH` : res.signal ? `signal: ${res.signal}` : `exit status ${res.status}`;
      // etcdctl prints this line itself (no `Error:` prefix) and exits 1.
      throw new CliExit(ExitCode.Error, `command ${goQuoteList(exec)} error (${why})\n`, { raw: true });
    }
  }
}

async function watchOnce(ctx: RunContext, session: WatchSession, display: WatchPrinter, a: WatchArgs): Promise<void> {
  let failure: unknown = null;
  const h = session.watch(watchRequest(a), (r) => {
    if (failure) return;
    try {
      printResponse(ctx, display, r, a.exec);
    } catch (e) {
      failure = e;
      h.cancel();
    }
  });
  await h.done;
  if (failure) throw failure;
}

async function interactive(ctx: RunContext, session: WatchSession, display: WatchPrinter, envKey: string, envRange: string): Promise<void> {
  const running: Promise<void>[] = [];
  let failure: unknown = null;
  for (;;) {
    const { line, eof } = await ctx.readLine();
    if (failure) throw failure;
    if (eof) throw new CliExit(ExitCode.InvalidInput, 'Error reading watch request line: EOF');
    const l = line.replace(/\n$/, '');
    const words = argify(l);
    if (words.length < 1) {
      ctx.out.stderr(`Invalid command: ${l} (watch and progress supported)\n`);
      continue;
    }
    if (words[0] === 'progress') {
      session.requestProgress();
      continue;
    }
    if (words[0] !== 'watch') {
      ctx.out.stderr(`Invalid command ${l} (only support watch)\n`);
      continue;
    }
    if (words.length < 2 && envKey === '') {
      ctx.out.stderr(`Invalid command ${l} (command type or key is not provided)\n`);
      continue;
    }
    const flags = new FlagSet(watchFlags);
    const rest = words.slice(1);
    const dash = rest.indexOf('--');
    const positional = flags.parse(dash < 0 ? rest : rest.slice(0, dash));
    const exec = dash < 0 ? [] : rest.slice(dash + 1);
    const a = parseArgs([...positional, ...exec], dash < 0 ? -1 : positional.length, flags, envKey, envRange);
    running.push(
      watchOnce(ctx, session, display, a).catch((e: unknown) => {
        failure = e;
      }),
    );
  }
}

export const watchCommand: Command = {
  name: 'watch',
  use: '[options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]',
  short: 'Watches events stream on keys or prefixes',
  flags: watchFlags,
  async run(ctx, args) {
    const envKey = ctx.env['ETCDCTL_WATCH_KEY'] ?? '';
    const envRange = ctx.env['ETCDCTL_WATCH_RANGE_END'] ?? '';
    if (envKey === '' && envRange !== '') {
      throw new CliExit(ExitCode.BadArgs, `ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=${goQuote(envRange)}`);
    }
    const isInteractive = ctx.flags.bool('interactive');
    const a = isInteractive ? null : parseArgs(args, ctx.flags.argsLenAtDash, ctx.flags, envKey, envRange);
    if (a) watchRequest(a); // argument errors before connecting, as etcdctl
    const client = await ctx.client();
    ctx.display(); // validates --write-out as etcdctl's client setup does
    const display = watchPrinter(ctx.flags.str('write-out'), ctx.flags.bool('hex'));
    const session = await client.watchSession();
    try {
      if (!a) {
        await interactive(ctx, session, display, envKey, envRange);
        return;
      }
      await watchOnce(ctx, session, display, a);
      throw new CliExit(ExitCode.Interrupted, 'watch is canceled by the server');
    } finally {
      session.close();
    }
  },
};
