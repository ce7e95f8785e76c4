/**
 * scripts/bench: the same load against etcdts and a real etcd (when installed), clusters of
 * --members (default 3) each, on this machine, runs alternating, printing each figure and the etcdts/etcd ratio.
 *
 *   npm run build && node --import tsx scripts/bench.ts [--members 3] [--seconds 10] [--clients 1000] [--conns 100] [--rounds 2]
 *
 * Loads: put throughput with many concurrent clients (requests in flight spread over a pool of
 * connections, as etcd's own benchmark tool does), one-client put latency (p50/p99), and
 * single-key range throughput, linearizable and serializable. The load runs in worker threads
 * (scripts/bench-load.mjs) so the driver is not one event loop; the machine has 2 cores, so server and driver share
 * them — the same for both servers, which is why only the ratios mean much.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

interface Job {
  endpoints: string[];
  kind: 'put' | 'range-l' | 'range-s';
  seconds: number;
  conns: number;
  inflight: number;
  keyPrefix: string;
}

interface JobResult {
  ops: number;
  errors: number;
  latenciesUs: number[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface Server {
  name: string;
  /** Every member's client endpoint; loads spread their connections over all of them. */
  endpoints: string[];
  procs: ChildProcess[];
  dir: string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One member, or a cluster of `members` started with etcd's static-bootstrap flags. */
async function startServer(kind: 'etcdts' | 'etcd', members: number): Promise<Server> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  const ports: { c: number; p: number }[] = [];
  for (let i = 0; i < members; i++) ports.push({ c: await freePort(), p: await freePort() });
  const names = ports.map((_, i) => (members === 1 ? 'default' : `etcd-${i + 1}`));
  const cluster = ports.map((pt, i) => `${names[i]}=http://127.0.0.1:${pt.p}`).join(',');
  const procs = ports.map((pt, i) => {
    const args = [
      '--name', names[i] as string,
      '--data-dir', path.join(dir, `data${i}`),
      '--listen-client-urls', `http://127.0.0.1:${pt.c}`,
      '--advertise-client-urls', `http://127.0.0.1:${pt.c}`,
      '--listen-peer-urls', `http://127.0.0.1:${pt.p}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${pt.p}`,
      '--initial-cluster', cluster,
      '--initial-cluster-token', 'bench',
      '--log-level', 'error',
    ];
    return kind === 'etcd'
      ? spawn('etcd', args, { stdio: 'ignore' })
      : spawn(process.execPath, [path.join(root, 'bin', 'etcdts.js'), ...args], { stdio: 'ignore' });
  });
  const endpoints = ports.map((pt) => `127.0.0.1:${pt.c}`);
  for (const endpoint of endpoints) {
    let ok = false;
    for (let i = 0; i < 400 && !ok; i++) {
      try {
        ok = (await fetch(`http://${endpoint}/health`)).status === 200;
      } catch {
        /* not yet */
      }
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    if (!ok) throw new Error(`${kind} member ${endpoint} did not become healthy`);
  }
  return { name: kind, endpoints, procs, dir };
}

async function stopServer(s: Server): Promise<void> {
  for (const p of s.procs) p.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(s.dir, { recursive: true, force: true });
}

async function load(job: Job, workers: number): Promise<JobResult> {
  const per = Math.max(1, Math.floor(job.inflight / workers));
  const conns = Math.max(1, Math.floor(job.conns / workers));
  const results = await Promise.all(
    Array.from(
      { length: Math.min(workers, job.inflight) },
      (_, w) =>
        new Promise<JobResult>((resolve, reject) => {
          const worker = new Worker(path.join(root, 'scripts', 'bench-load.mjs'), {
            workerData: { ...job, inflight: per, conns, keyPrefix: `${job.keyPrefix}${w}/` },
          });
          worker.once('message', (m: JobResult) => {
            resolve(m);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
  return {
    ops: results.reduce((a, r) => a + r.ops, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    latenciesUs: results.flatMap((r) => r.latenciesUs),
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 10);
  const clients = arg('clients', 1000);
  const conns = arg('conns', 100);
  const rounds = arg('rounds', 2);
  const workers = arg('workers', 2);
  const members = arg('members', 3);
  const hasEtcd = await new Promise<boolean>((r) => spawn('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' }).once('exit', (c) => r(c === 0)));
  const kinds: ('etcdts' | 'etcd')[] = hasEtcd ? ['etcdts', 'etcd'] : ['etcdts'];
  if (!hasEtcd) console.log('etcd is not installed: printing etcdts figures only (apt-get install etcd-server)');
  console.log(`bench: ${members} member(s) each, ${seconds}s per load, ${clients} clients over ${conns} connections to all members, ${rounds} alternating rounds, ${os.cpus().length} cpus`);
  type Fig = Record<string, number[]>;
  const figs: Record<string, Fig> = { etcdts: {}, etcd: {} };
  const add = (k: string, name: string, v: number): void => {
    ((figs[k] as Fig)[name] ??= []).push(v);
  };
  for (let round = 0; round < rounds; round++) {
    for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
      const s = await startServer(kind, members);
      const put = await load({ endpoints: s.endpoints, kind: 'put', seconds, conns, inflight: clients, keyPrefix: 'bench/' }, workers);
      add(kind, 'put throughput (ops/s)', put.ops / seconds);
      add(kind, 'put errors', put.errors);
      const one = await load({ endpoints: s.endpoints.slice(0, 1), kind: 'put', seconds, conns: 1, inflight: 1, keyPrefix: 'one/' }, 1);
      add(kind, 'one-client put p50 (ms)', pct(one.latenciesUs, 50) / 1000);
      add(kind, 'one-client put p99 (ms)', pct(one.latenciesUs, 99) / 1000);
      const rl = await load({ endpoints: s.endpoints, kind: 'range-l', seconds, conns, inflight: clients, keyPrefix: 'bench/' }, workers);
      add(kind, 'linearizable range (ops/s)', rl.ops / seconds);
      const rs = await load({ endpoints: s.endpoints, kind: 'range-s', seconds, conns, inflight: clients, keyPrefix: 'bench/' }, workers);
      add(kind, 'serializable range (ops/s)', rs.ops / seconds);
      await stopServer(s);
      console.log(`round ${round + 1} ${kind}: put ${Math.round(put.ops / seconds)}/s, p50 ${(pct(one.latenciesUs, 50) / 1000).toFixed(2)} ms, range-l ${Math.round(rl.ops / seconds)}/s, range-s ${Math.round(rs.ops / seconds)}/s`);
    }
  }
  const med = (xs: number[] | undefined): number => (xs && xs.length ? pct(xs, 50) : NaN);
  console.log('\nfigure                          etcdts        etcd     etcdts/etcd');
  for (const name of Object.keys(figs.etcdts as Fig)) {
    const a = med((figs.etcdts as Fig)[name]);
    const b = med((figs.etcd as Fig)[name]);
    console.log(`${name.padEnd(30)} ${a.toFixed(2).padStart(10)} ${b.toFixed(2).padStart(11)} ${(a / b).toFixed(2).padStart(12)}x`);
  }
}

void main();
