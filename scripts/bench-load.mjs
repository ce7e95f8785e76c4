// Load worker for scripts/bench.ts (plain JS so it runs in a worker thread without a loader).
// Imports the built wire contract from dist/ (npm run build first).
import { parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { KVClient } from '../dist/api/proto.js';

const job = workerData;
// Connections spread round-robin over every member's endpoint (the one-client load gets one).
const clients = Array.from({ length: job.conns }, (_, i) =>
  new KVClient(job.endpoints[i % job.endpoints.length], grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.channel_id': i }),
);
const value = Buffer.alloc(256, 0x61);
const until = performance.now() + job.seconds * 1000;
let ops = 0;
let errors = 0;
const lat = [];
const one = (c, i) =>
  new Promise((resolve) => {
    const t0 = performance.now();
    const key = Buffer.from(`${job.keyPrefix}${i % 10000}`);
    const req = job.kind === 'put' ? { key, value } : { key, serializable: job.kind === 'range-s' };
    const method = job.kind === 'put' ? 'Put' : 'Range';
    c[method](req, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e) => {
      if (e) errors++;
      else {
        ops++;
        if (lat.length < 200_000) lat.push((performance.now() - t0) * 1000);
      }
      resolve();
    });
  });
await Promise.all(
  Array.from({ length: job.inflight }, async (_, w) => {
    const c = clients[w % clients.length];
    for (let i = w; performance.now() < until; i += job.inflight) await one(c, i);
  }),
);
for (const c of clients) c.close();
parentPort.postMessage({ ops, errors, latenciesUs: lat });
