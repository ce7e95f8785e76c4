/**
 * `lock <lockname> [exec-command arg1 arg2 ...]` (etcdctl lock_command.go, 3.4.23): takes the
 * lock with a session of --ttl seconds (clientv3/concurrency Mutex, client/concurrency.ts).
 * Without a command it prints the lock key as `get` would (key, empty value) and holds the lock
 * until SIGINT/SIGTERM, then unlocks and exits 0; if the session's lease is lost first:
 * `Error: session expired`. With a command it runs it holding the lock, with ETCD_LOCK_KEY and
 * ETCD_LOCK_REV in its environment, unlocks, and fails as etcdctl does if the command failed
 * (`Error: exit status N`). An interrupt while waiting fails with `context canceled` after
 * removing the waiter's key.
 */
import { nodeChildProcess } from '../builtins.js';
import type { Command, RunContext } from '../command.js';
import { goQuote } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { onInterrupt } from './interrupt.js';

export const lockCommand: Command = {
  name: 'lock',
  use: '<lockname> [exec-command arg1 arg2 ...]',
  short: 'Acquires a named lock',
  flags: [{ name: 'ttl', kind: 'int64', def: '10', usage: 'timeout for session' }],
  async run(ctx, args) {
    if (args.length === 0) throw new CliExit(ExitCode.BadArgs, 'lock takes a lock name argument and an optional command to execute');
    // Loaded here, not at start: it brings protobufjs, which other commands start without (issue 13).
    const { Mutex, Session } = await import('../../client/concurrency.js');
    const client = await ctx.client();
    const display = ctx.display();
    const session = await Session.create(client, ctx.flags.int('ttl'));
    const m = new Mutex(session, Buffer.from(args[0] as string, 'latin1'));
    const stop = new AbortController();
    const interrupted = onInterrupt(() => stop.abort());
    try {
      await m.lock(stop.signal);
      const cmd = args.slice(1);
      if (cmd.length > 0) {
        const err = await runHolding(ctx, cmd, [`ETCD_LOCK_KEY=${m.key.toString('latin1')}`, `ETCD_LOCK_REV=${m.header?.revision ?? 0n}`]);
        await m.unlock();
        if (err !== null) throw new CliExit(ExitCode.Error, err);
        return;
      }
      const k = await client.range({ key: m.key });
      if (k.resp.kvs.length === 0) throw new CliExit(ExitCode.Error, 'lock lost on init');
      ctx.out.stdout(display.get(k));
      const how = await Promise.race([interrupted.then(() => 'signal' as const), session.done.then(() => 'expired' as const)]);
      if (how === 'signal') {
        await m.unlock();
        return;
      }
      throw new CliExit(ExitCode.Error, 'session expired');
    } finally {
      interrupted.dispose();
      session.close();
    }
  },
};

/**
 * Runs the command with the lock's variables before the rest of the environment (Go's
 * exec.Cmd.Env = append(lockEnv, os.Environ()...)); its output goes through ctl's output.
 * Returns Go's error text, or null on success.
 */
function runHolding(ctx: RunContext, cmd: string[], lockEnv: string[]): Promise<string | null> {
  const argv = cmd.map((x) => Buffer.from(x, 'latin1').toString('utf8'));
  const env: Record<string, string> = {};
  for (const kv of lockEnv) {
    const i = kv.indexOf('=');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !(k in env)) env[k] = v;
  return new Promise((resolve) => {
    const child = nodeChildProcess().spawn(argv[0] as string, argv.slice(1), { env, stdio: ['inherit', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => ctx.out.stdout(d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => ctx.out.stderr(d.toString('latin1')));
    child.once('error', () => resolve(`exec: ${goQuote(cmd[0] as string)}: executable file not found in $PATH`));
    child.once('close', (code, signal) => resolve(signal ? `signal: ${goSignalName(signal)}` : code === 0 ? null : `exit status ${code}`));
  });
}

/** Go's text for a signal that killed a child (syscall.Signal.String). */
function goSignalName(sig: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGINT: 'interrupt', SIGHUP: 'hangup', SIGQUIT: 'quit', SIGABRT: 'aborted', SIGSEGV: 'segmentation fault', SIGPIPE: 'broken pipe' };
  return names[sig] ?? sig;
}
