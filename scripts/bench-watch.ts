/**
 * scripts/bench-watch: 10 000 watchers on one prefix over 100 streams, against etcdts and a real
 * etcd (when installed), one member each, alternating rounds, printing each figure and the
 * etcdts/etcd ratio.
 *
 *   npm run build && node --import tsx scripts/bench-watch.ts [--watchers 10000] [--streams 100] [--rate 10] [--seconds 10] [--rounds 2]
 *
 * Figures: the server's resident memory with the watchers idle (minus its memory before they
 * were created); then a write load of --rate puts/s on keys under the prefix (each value is its
 * send time) for --seconds: event delivery latency p50/p99 (sampled responses) and events
 * delivered per second (ideal = rate × watchers). The watchers run in worker threads
 * (scripts/bench-watch-load.mjs), the writer on the main thread; server and load share the
 * machine's cores — the same for both servers, which is why the ratios matter more than the
 * absolute figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { KVClient } from '../src/api/proto.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
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
  kind: string;
  endpoint: string;
  proc: ChildProcess;
  dir: string;
}

async function startServer(kind: 'etcdts' | 'etcd'): Promise<Server> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-watch-${kind}-`));
  const cp = await freePort();
  const pp = await freePort();
  const args = [
    '--data-dir', path.join(dir, 'data'),
    '--listen-client-urls', `http://127.0.0.1:${cp}`,
    '--advertise-client-urls', `http://127.0.0.1:${cp}`,
    '--listen-peer-urls', `http://127.0.0.1:${pp}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${pp}`,
    '--initial-cluster', `default=http://127.0.0.1:${pp}`,
    '--log-level', 'error',
  ];
  const proc = kind === 'etcd' ? spawn('etcd', args, { stdio: 'ignore' }) : spawn(process.execPath, [...(process.env.ETCDTS_NODE_ARGS ?? '').split(' ').filter(Boolean), path.join(root, 'bin', 'etcdts.js'), ...args], { stdio: 'ignore' });
  const endpoint = `127.0.0.1:${cp}`;
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(`http://${endpoint}/health`)).status === 200) return { kind, endpoint, proc, dir };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${kind} did not become healthy`);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runOnce(kind: 'etcdts' | 'etcd', o: { watchers: number; streams: number; rate: number; seconds: number; workers: number }): Promise<Record<string, number>> {
  const s = await startServer(kind);
  const kv = new KVClient(s.endpoint, grpc.credentials.createInsecure()) as unknown as {
    Put(req: unknown, cb: (e: Error | null) => void): void;
    close(): void;
  };
  const put = (key: string, value: string): Promise<void> => new Promise((res, rej) => kv.Put({ key: Buffer.from(key), value: Buffer.from(value) }, (e) => (e ? rej(e) : res())));
  await put('warmup', 'x');
  await sleep(500);
  const rssBefore = rssMiB(s.proc.pid as number);
  const perStream = Math.ceil(o.watchers / o.streams);
  const streamsPerWorker = Math.ceil(o.streams / o.workers);
  const workers = Array.from({ length: o.workers }, (_, w) =>
    new Worker(path.join(root, 'scripts', 'bench-watch-load.mjs'), {
      workerData: { endpoint: s.endpoint, worker: w, streams: streamsPerWorker, perStream, prefix: 'wb/', prefixEnd: 'wc', sampleEvery: 50 },
    }),
  );
  await Promise.all(workers.map((w) => new Promise<void>((res) => w.once('message', () => res()))));
  await sleep(2000);
  const rssIdle = rssMiB(s.proc.pid as number);
  for (const w of workers) w.postMessage('start');
  const t0 = performance.now();
  const interval = 10;
  let sent = 0;
  const pending: Promise<void>[] = [];
  while (performance.now() - t0 < o.seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * o.rate);
    while (sent < due) {
      const key = `wb/${sent % 1000}`;
      pending.push(put(key, String(performance.timeOrigin + performance.now())).catch(() => undefined));
      sent++;
    }
    await sleep(interval);
  }
  await Promise.all(pending);
  await sleep(1000); // let deliveries in flight arrive
  const elapsed = (performance.now() - t0) / 1000;
  const results = await Promise.all(
    workers.map(
      (w) =>
        new Promise<{ events: number; latenciesMs: number[] }>((res) => {
          w.on('message', (m: { type: string; events: number; latenciesMs: number[] }) => {
            if (m.type === 'done') res(m);
          });
          w.postMessage('stop');
        }),
    ),
  );
  for (const w of workers) void w.terminate();
  kv.close();
  s.proc.kill(process.env.ETCDTS_NODE_ARGS ? 'SIGINT' : 'SIGKILL');
  await sleep(process.env.ETCDTS_NODE_ARGS ? 3000 : 300);
  rmSync(s.dir, { recursive: true, force: true });
  const events = results.reduce((a, r) => a + r.events, 0);
  const lat = results.flatMap((r) => r.latenciesMs);
  const watchers = perStream * streamsPerWorker * o.workers;
  return {
    'idle watchers RSS (MiB)': rssIdle - rssBefore,
    'server RSS with idle watchers (MiB)': rssIdle,
    'delivery p50 (ms)': pct(lat, 50),
    'delivery p99 (ms)': pct(lat, 99),
    'events delivered (/s)': events / elapsed,
    'events delivered (% of ideal)': (100 * events) / (sent * watchers),
  };
}

async function main(): Promise<void> {
  const o = { watchers: arg('watchers', 10_000), streams: arg('streams', 100), rate: arg('rate', 10), seconds: arg('seconds', 10), workers: arg('workers', 2) };
  const rounds = arg('rounds', 2);
  const hasEtcd = await new Promise<boolean>((r) => spawn('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' }).once('exit', (c) => r(c === 0)));
  const kinds: ('etcdts' | 'etcd')[] = hasEtcd && !process.argv.includes('--etcdts-only') ? ['etcdts', 'etcd'] : ['etcdts'];
  if (!hasEtcd) console.log('etcd is not installed: printing etcdts figures only (apt-get install etcd-server)');
  console.log(`bench-watch: ${o.watchers} watchers over ${o.streams} streams on one prefix, ${o.rate} puts/s for ${o.seconds}s, ${rounds} alternating rounds, ${os.cpus().length} cpus`);
  const figs: Record<string, Record<string, number[]>> = { etcdts: {}, etcd: {} };
  for (let round = 0; round < rounds; round++) {
    for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
      const r = await runOnce(kind, o);
      for (const [k, v] of Object.entries(r)) ((figs[kind] as Record<string, number[]>)[k] ??= []).push(v);
      console.log(`round ${round + 1} ${kind}: ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    }
  }
  const med = (xs: number[] | undefined): number => (xs && xs.length ? pct(xs, 50) : NaN);
  console.log('\nfigure                                   etcdts        etcd   etcdts/etcd   (better is ' + 'lower for ms/MiB, higher for /s)');
  for (const name of Object.keys(figs.etcdts as Record<string, number[]>)) {
    const a = med(figs.etcdts?.[name]);
    const b = med(figs.etcd?.[name]);
    console.log(`${name.padEnd(38)} ${a.toFixed(1).padStart(10)} ${b.toFixed(1).padStart(11)} ${(a / b).toFixed(2).padStart(12)}x`);
  }
}

void main();
