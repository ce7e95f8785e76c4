/**
 * The fault harness's member processes: real `etcdts` (bin/etcdts.js) or real `etcd`, started
 * with etcd's static-bootstrap flags, inside their network namespace when there is one, their
 * output appended to a log file per member. The harness kills (-9), pauses (SIGSTOP/SIGCONT)
 * and restarts them; any exit it did not cause is reported (a member that cannot go on must
 * exit, and a supervisor restarts it: here the harness is the supervisor).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const etcdtsBin = path.join(repoRoot, 'bin', 'etcdts.js');

export type Target = 'etcdts' | 'etcd';

export interface MemberSetup {
  target: Target;
  index: number;
  name: string;
  clientUrl: string;
  peerUrl: string;
  initialCluster: string;
  token: string;
  dataDir: string;
  /** Network namespace to run in (none: the harness's own). */
  netns?: string;
  env: Record<string, string>;
  logFile: string;
}

export interface ExitRecord {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The harness caused it (kill -9, an armed failpoint, a full disk). */
  expected: boolean;
  why: string;
}

export class Member {
  proc: ChildProcess | null = null;
  paused = false;
  /** Set just before the harness causes an exit, with the reason. */
  private expecting: string | null = null;
  readonly exits: ExitRecord[] = [];
  starts = 0;
  private exited: Promise<void> = Promise.resolve();
  onExit: (m: Member, r: ExitRecord) => void = () => undefined;

  constructor(
    readonly setup: MemberSetup,
    private readonly now: () => number,
  ) {}

  get name(): string {
    return this.setup.name;
  }

  get up(): boolean {
    return this.proc !== null;
  }

  /** host:port of the client URL, as gRPC clients want it. */
  get endpoint(): string {
    return this.setup.clientUrl.replace(/^https?:\/\//, '');
  }

  private command(): { cmd: string; args: string[] } {
    const s = this.setup;
    const flags = [
      '--name', s.name,
      '--data-dir', s.dataDir,
      '--listen-client-urls', s.clientUrl,
      '--advertise-client-urls', s.clientUrl,
      '--listen-peer-urls', s.peerUrl,
      '--initial-advertise-peer-urls', s.peerUrl,
      '--initial-cluster', s.initialCluster,
      '--initial-cluster-token', s.token,
      '--initial-cluster-state', 'new',
    ];
    const inner = s.target === 'etcd' ? { cmd: 'etcd', args: flags } : { cmd: process.execPath, args: [etcdtsBin, ...flags] };
    if (s.netns === undefined) return inner;
    return { cmd: 'ip', args: ['netns', 'exec', s.netns, inner.cmd, ...inner.args] };
  }

  /** Spawns the process (does not wait for it to serve). */
  start(extraEnv: Record<string, string> = {}): void {
    if (this.proc !== null) throw new Error(`${this.name} started twice`);
    const { cmd, args } = this.command();
    const log = openSync(this.setup.logFile, 'a');
    writeSync(log, `\n===== harness: start #${this.starts + 1} at ${(this.now() / 1000).toFixed(3)} s${Object.keys(extraEnv).length ? ` env ${JSON.stringify(extraEnv)}` : ''} =====\n`);
    const proc = spawn(cmd, args, { stdio: ['ignore', log, log], env: { ...process.env, ...this.setup.env, ...extraEnv } });
    closeSync(log);
    this.starts++;
    this.proc = proc;
    this.paused = false;
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        if (this.proc === proc) this.proc = null;
        const r: ExitRecord = { at: this.now(), code, signal, expected: this.expecting !== null, why: this.expecting ?? 'unexpected' };
        this.expecting = null;
        this.paused = false;
        this.exits.push(r);
        this.onExit(this, r);
        resolve();
      });
    });
  }

  /** The harness is about to cause (or allow) an exit, for `why`; null: no longer. */
  expectExit(why: string | null): void {
    this.expecting = why;
  }

  async kill9(why = 'kill -9'): Promise<void> {
    const p = this.proc;
    if (p === null) return;
    this.expectExit(why);
    p.kill('SIGKILL');
    await this.exited;
  }

  /** Waits for the current process to end (by itself), up to `ms`; true if it did. */
  async waitExit(ms: number): Promise<boolean> {
    if (this.proc === null) return true;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
    const r = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(t);
    return r;
  }

  pause(): void {
    if (this.proc === null || this.paused) return;
    this.proc.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.proc === null || !this.paused) return;
    this.proc.kill('SIGCONT');
    this.paused = false;
  }

  /** The last `bytes` of the member's log. */
  tail(bytes = 4000): string {
    if (!existsSync(this.setup.logFile)) return '';
    const fd = openSync(this.setup.logFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const n = Math.min(bytes, size);
      const buf = Buffer.alloc(n);
      readSync(fd, buf, 0, n, size - n);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** The log of the current (or last) process only. */
  sinceStart(bytes = 64_000): string {
    const t = this.tail(bytes);
    const k = t.lastIndexOf('===== harness: start');
    return k >= 0 ? t.slice(k) : t;
  }

  /** The log lines an unexpected exit most likely explains itself with. */
  lastWords(): string {
    const lines = this.sinceStart(16_000).split('\n').filter((l) => /error|fatal|panic|assert|cannot go on|failed/i.test(l));
    return lines.slice(-4).join('\n');
  }
}
