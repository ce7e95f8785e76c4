// The hot path's cost, counted rather than timed (issue 11's regression guard; run by
// test/unit/perf/hot-path-budget.test.ts, or by hand: `node --max-semi-space-size=1
// --min-semi-space-size=1 scripts/hot-path-probe.mjs` after `npm run build`).
//
// One single-member etcdts in this process serves a client in ANOTHER process (so only the
// server's work is counted), which sends sequential batches of unary Put and Range calls over
// one HTTP/2 connection. Counted per request while the client runs:
//   - young-generation collections: with a 1 MiB semi-space each is about 1 MiB allocated, so
//     scavenges × 1 MiB / requests ≈ bytes allocated per request;
//   - protobufjs encode/decode calls (the hot path must make none);
//   - WAL writes and backend (classic-level) writes per put (group commit must keep them few).
// Prints one JSON line.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import http2 from 'node:http2';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');

if (process.argv[2] === 'client') {
  // The load: `count` puts, then `count` serializable ranges, `concurrency` at a time.
  const [, , , url, countArg, concArg] = process.argv;
  const count = Number(countArg);
  const concurrency = Number(concArg);
  const c = http2.connect(url);
  const frame = (msg) => {
    const f = Buffer.alloc(5 + msg.length);
    f.writeUInt32BE(msg.length, 1);
    msg.copy(f, 5);
    return f;
  };
  const value = Buffer.alloc(256, 0x61);
  const put = (i) => {
    const key = Buffer.from(`key${i % 1000}`);
    return frame(Buffer.concat([Buffer.from([0x0a, key.length]), key, Buffer.from([0x12, 0x80, 0x02]), value]));
  };
  const range = (i) => {
    const key = Buffer.from(`key${i % 1000}`);
    return frame(Buffer.concat([Buffer.from([0x0a, key.length]), key, Buffer.from([0x38, 0x01])]));
  };
  const call = (p, body) =>
    new Promise((resolve, reject) => {
      const req = c.request({ ':method': 'POST', ':path': p, 'content-type': 'application/grpc', te: 'trailers' });
      req.on('response', () => undefined);
      req.on('data', () => undefined);
      req.on('trailers', (t) => (t['grpc-status'] === '0' ? resolve() : reject(new Error(`grpc-status ${t['grpc-status']}`))));
      req.on('error', reject);
      req.end(body);
    });
  const run = async (p, make) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await call(p, make(next++));
      }),
    );
  };
  process.on('message', async (m) => {
    if (m === 'puts') await run('/etcdserverpb.KV/Put', put);
    else if (m === 'ranges') await run('/etcdserverpb.KV/Range', range);
    process.send(m);
  });
  process.send('ready');
} else {
  const count = Number(process.env.PROBE_REQUESTS ?? 4000);
  const { EtcdServer } = await import(path.join(dist, 'server', 'etcd-server.js'));
  const { startClientServer } = await import(path.join(dist, 'rpc', 'client-server.js'));
  const { silentLogger } = await import(path.join(dist, 'base', 'logger.js'));
  const { Wal } = await import(path.join(dist, 'storage', 'wal.js'));
  const { Backend } = await import(path.join(dist, 'storage', 'backend.js'));
  const protobuf = (await import('protobufjs')).default;

  const counts = { pb: 0, wal: 0, backend: 0, scavenges: 0 };
  let counting = false;
  const wrap = (proto, name, key) => {
    const orig = proto[name];
    proto[name] = function (...args) {
      if (counting) counts[key]++;
      return orig.apply(this, args);
    };
  };
  wrap(protobuf.Type.prototype, 'encode', 'pb');
  wrap(protobuf.Type.prototype, 'decode', 'pb');
  wrap(Wal.prototype, 'save', 'wal');
  wrap(Backend.prototype, 'writeOps', 'backend');
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (counting && e.detail?.kind === 1 /* minor */) counts.scavenges++;
  }).observe({ entryTypes: ['gc'] });

  const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-probe-'));
  const server = await EtcdServer.start({
    name: 'probe',
    dataDir: dir,
    memberId: 0x1234n,
    clusterId: 0x5678n,
    members: [{ id: 0x1234n, name: '', peerURLs: ['http://127.0.0.1:1'], clientURLs: [], isLearner: false }],
    advertiseClientUrls: ['http://127.0.0.1:0'],
    maxTxnOps: 128,
    maxRequestBytes: 1.5 * 1024 * 1024,
    electionTimeoutMs: 1000,
    heartbeatIntervalMs: 100,
    quotaBackendBytes: 2 ** 31,
    snapshotCount: 100_000,
    snapshotCatchupEntries: 5000,
    preVote: true,
    logger: silentLogger,
  });
  while (!server.isLeader()) await new Promise((r) => setTimeout(r, 10));
  const clients = await startClientServer(server, [new URL('http://127.0.0.1:0')], silentLogger);
  const port = clients.listeners[0].port;
  const child = fork(fileURLToPath(import.meta.url), ['client', `http://127.0.0.1:${port}`, String(count), '50'], { execArgv: [] });
  const ask = (m) =>
    new Promise((resolve) => {
      const on = (x) => {
        if (x === m) {
          child.off('message', on);
          resolve();
        }
      };
      child.on('message', on);
      child.send(m);
    });
  await new Promise((r) => child.once('message', r)); // ready
  await ask('puts'); // warm-up: JIT, caches, the key set exists
  await ask('ranges');
  const measure = async (m) => {
    for (const k of Object.keys(counts)) counts[k] = 0;
    counting = true;
    await ask(m);
    counting = false;
    return { ...counts };
  };
  let session;
  if (process.env.PROBE_HEAP_PROFILE) {
    const inspector = await import('node:inspector');
    session = new inspector.Session();
    session.connect();
    const post = (m, p) => new Promise((res, rej) => session.post(m, p, (e, r) => (e ? rej(e) : res(r))));
    await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    session.postAsync = post;
  }
  const puts = await measure(process.env.PROBE_HEAP_PROFILE === 'ranges' ? 'ranges' : 'puts');
  if (session) {
    const { profile } = await session.postAsync('HeapProfiler.stopSampling', {});
    (await import('node:fs')).writeFileSync(process.env.PROBE_HEAP_OUT ?? '/tmp/probe.heapprofile', JSON.stringify(profile));
  }
  const ranges = await measure('ranges');
  child.kill();
  await clients.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  const kib = (n) => Math.round(((n * 1024) / count) * 10) / 10;
  console.log(
    JSON.stringify({
      requests: count,
      put: { allocKiBPerRequest: kib(puts.scavenges), protobufCalls: puts.pb, walWritesPer1000: Math.round((puts.wal * 1000) / count), backendWritesPer1000: Math.round((puts.backend * 1000) / count) },
      range: { allocKiBPerRequest: kib(ranges.scavenges), protobufCalls: ranges.pb },
    }),
  );
  process.exit(0);
}
