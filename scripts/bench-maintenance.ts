/**
 * scripts/bench-maintenance: the maintenance operations on the same data in etcdts and a real
 * etcd (single members, this machine, one after the other), printing each time and the
 * etcdts/etcd ratio: `snapshot save` (the real etcdctl), `endpoint hashkv`, `defrag`, and the
 * resulting snapshot sizes.
 *
 *   npm run build && node --import tsx scripts/bench-maintenance.ts [--keys 20000] [--value-bytes 256]
 *
 * The data is written through the real etcdctl-free gRPC client of this repo (src/client), many
 * puts in flight, then half the keys are overwritten so compaction/defrag have work.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdClient } from '../src/client/client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const keys = arg('keys', 20_000);
const valueBytes = arg('value-bytes', 256);
const inflightMax = 200;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(p));
    });
  });
}

async function start(kind: 'etcdts' | 'etcd', dir: string): Promise<{ proc: ChildProcess; endpoint: string }> {
  const client = await freePort();
  const peer = await freePort();
  const args = [
    '--name', 'b', '--data-dir', path.join(dir, kind),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `b=http://127.0.0.1:${peer}`,
  ];
  const proc = kind === 'etcd' ? spawn('etcd', args, { stdio: 'ignore' }) : spawn(process.execPath, [path.join(root, 'bin/etcdts.js'), ...args], { stdio: 'ignore' });
  const endpoint = `127.0.0.1:${client}`;
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://${endpoint}/health`);
      if (r.status === 200) return { proc, endpoint };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${kind} did not start`);
}

async function load(endpoint: string): Promise<void> {
  const c = new EtcdClient({ endpoints: [endpoint], commandTimeoutMs: 60_000 });
  const value = Buffer.alloc(valueBytes, 0x61);
  const total = keys + Math.floor(keys / 2);
  let next = 0;
  await Promise.all(
    Array.from({ length: inflightMax }, async () => {
      for (let i = next++; i < total; i = next++) await c.put({ key: Buffer.from(`bench/${String(i % keys).padStart(8, '0')}`), value });
    }),
  );
  c.close();
}

function timed(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-maint-'));
  const results: Record<string, Record<string, number>> = {};
  try {
    for (const kind of ['etcdts', 'etcd'] as const) {
      const { proc, endpoint } = await start(kind, dir);
      try {
        await load(endpoint);
        const ep = [`--endpoints=${endpoint}`, '--command-timeout=120s'];
        const file = path.join(dir, `${kind}.db`);
        const r: Record<string, number> = {};
        r['snapshot save ms'] = timed('etcdctl', [...ep, 'snapshot', 'save', file]);
        r['snapshot bytes'] = statSync(file).size;
        r['endpoint hashkv ms'] = timed('etcdctl', [...ep, 'endpoint', 'hashkv']);
        r['defrag ms'] = timed('etcdctl', [...ep, 'defrag']);
        results[kind] = r;
      } finally {
        proc.kill('SIGKILL');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${keys} keys of ${valueBytes} bytes, ${Math.floor(keys / 2)} overwritten`);
  for (const k of Object.keys(results['etcdts'] ?? {})) {
    const a = results['etcdts']?.[k] ?? 0;
    const b = results['etcd']?.[k] ?? 0;
    console.log(`${k.padEnd(20)} etcdts ${a.toFixed(0).padStart(10)}  etcd ${b.toFixed(0).padStart(10)}  ratio ${(a / b).toFixed(2)}`);
  }
}

void main();
