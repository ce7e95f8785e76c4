/**
 * Test helpers that run real processes: etcdts (built, from bin/etcdts.js) and, where installed,
 * the real etcd and etcdctl. Every wait is a condition with a deadline; every process started
 * is killed when the test file ends (killAll).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const etcdtsBin = path.join(repoRoot, 'bin', 'etcdts.js');
export const ctlBin = path.join(repoRoot, 'bin', 'ctl.js');

export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export const hasEtcd = which('etcd') !== null;
export const hasEtcdctl = which('etcdctl') !== null;
/** Under CI a missing etcd/etcdctl is a failure, not a skip (.ci/run also checks the report). */
export const inCI = !!process.env.CI;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const madeDirs: string[] = [];

/**
 * A fresh directory under the OS temp dir, removed after the test file that made it (see
 * test/setup/cleanup.ts): a real etcd's data dir holds ~375 MB of preallocated WAL, and a full
 * run left dozens of them behind until the disk was full.
 */
export function tempDir(prefix = 'etcdts-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Removes the directories tempDir made (after the file's processes have stopped). */
export function removeTempDirs(): void {
  for (const d of madeDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  deadlineMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const until = Date.now() + deadlineMs;
  let lastErr: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** Files for an https request: the CA to trust (none: accept any certificate) and a client certificate. */
export interface HttpsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export async function httpGet(url: string, tlsFiles?: HttpsFiles): Promise<{ status: number; body: string }> {
  if (url.startsWith('https:')) return httpsGet(url, tlsFiles ?? {});
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: r.status, body: await r.text() };
}

function httpsGet(url: string, f: HttpsFiles): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ca: f.ca ? readFileSync(f.ca) : undefined,
        cert: f.cert ? readFileSync(f.cert) : undefined,
        key: f.key ? readFileSync(f.key) : undefined,
        rejectUnauthorized: f.ca !== undefined,
        timeout: 2000,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const running = new Set<ChildProcess>();

export function killAll(): void {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  running.clear();
}

export interface MemberProc {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  endpoint: string; // host:port for etcdctl --endpoints
  proc: ChildProcess;
  logs: string[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface MemberSpec {
  kind: 'etcdts' | 'etcd';
  name?: string;
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  args?: string[];
  env?: Record<string, string>;
  /** --initial-cluster (default: this member alone). */
  initialCluster?: string;
  /** Extra node flags for an etcdts member (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Wait until /health answers 200 (default true). */
  waitHealthy?: boolean;
  /** Path polled until it answers 200 (default /health; an alarmed member needs ?exclude=). */
  healthPath?: string;
  /** Scheme of the client URL (https needs TLS flags in args) and of the peer URL. */
  clientScheme?: 'http' | 'https';
  peerScheme?: 'http' | 'https';
  /** --listen-client-urls and --advertise-client-urls instead of the one client URL (e.g. http and https on one port). */
  clientUrls?: string;
  /** What the health poll presents over https (a client certificate when the member asks for one). */
  healthTls?: HttpsFiles;
}

export async function startMember(spec: MemberSpec): Promise<MemberProc> {
  const name = spec.name ?? 'default';
  const dataDir = spec.dataDir ?? path.join(tempDir(), `${name}.etcd`);
  const clientPort = spec.clientPort ?? (await freePort());
  const peerPort = spec.peerPort ?? (await freePort());
  const clientUrl = `${spec.clientScheme ?? 'http'}://127.0.0.1:${clientPort}`;
  const peerUrl = `${spec.peerScheme ?? 'http'}://127.0.0.1:${peerPort}`;
  const args = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', spec.clientUrls ?? clientUrl,
    '--advertise-client-urls', spec.clientUrls ?? clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', spec.initialCluster ?? `${name}=${peerUrl}`,
    ...(spec.args ?? []),
  ];
  const cmd = spec.kind === 'etcd' ? 'etcd' : process.execPath;
  const fullArgs = spec.kind === 'etcd' ? args : [...(spec.nodeArgs ?? []), etcdtsBin, ...args];
  const proc = spawn(cmd, fullArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...spec.env },
  });
  running.add(proc);
  const logs: string[] = [];
  proc.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
  proc.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      running.delete(proc);
      resolve(code);
    }),
  );
  const member: MemberProc = {
    name,
    dataDir,
    clientUrl,
    peerUrl,
    endpoint: `127.0.0.1:${clientPort}`,
    proc,
    logs,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
  let gone = false;
  void exited.then(() => (gone = true));
  if (spec.waitHealthy === false) return member;
  await waitFor(`${spec.kind} ${name} healthy on ${clientUrl}`, async () => {
    if (gone) return 'gone';
    const r = await httpGet(`${clientUrl}${spec.healthPath ?? '/health'}`, spec.healthTls);
    return r.status === 200;
  });
  if (gone) throw new Error(`${spec.kind} ${name} exited during start-up:\n${logs.join('')}`);
  return member;
}

export function removeDir(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs a command to completion (bounded by timeoutMs), feeding stdin if given. */
export function run(cmd: string, args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3', ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    p.once('close', (code) => {
      clearTimeout(t);
      resolve({ stdout, stderr, code });
    });
    // A child that exits before reading its stdin must not fail the test run with EPIPE.
    p.stdin.on('error', () => undefined);
    p.stdin.end(opts.input ?? '');
  });
}

export function etcdctl(endpoint: string, args: string[], input?: string): Promise<RunResult> {
  return run('etcdctl', [`--endpoints=${endpoint}`, ...args], { input });
}

export function ctl(endpoint: string, args: string[], input?: string): Promise<RunResult> {
  return run(process.execPath, [ctlBin, `--endpoints=${endpoint}`, ...args], { input });
}
