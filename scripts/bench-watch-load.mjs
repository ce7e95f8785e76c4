// Watch load worker for scripts/bench-watch.ts (plain JS so it runs in a worker thread without a
// loader). Opens `streams` Watch streams, each with `perStream` watchers on one prefix; counts
// every response and decodes a sample of them to time delivery (the put's value carries its
// send time, performance.timeOrigin + now(), comparable across threads of one process).
import { parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { WatchClient, protoRoot } from '../dist/api/proto.js';

const job = workerData;
const WatchResponse = protoRoot.lookupType('etcdserverpb.WatchResponse');
const def = WatchClient.service.Watch;
const now = () => performance.timeOrigin + performance.now();
let created = 0;
let events = 0;
let counting = false;
const lat = [];
let n = 0;
const calls = [];
for (let s = 0; s < job.streams; s++) {
  const client = new grpc.Client(job.endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.channel_id': `${job.worker}-${s}` });
  const call = client.makeBidiStreamRequest(def.path, def.requestSerialize, (b) => b, new grpc.Metadata());
  call.on('data', (buf) => {
    if (!counting) {
      created++;
      if (created === job.streams * job.perStream) parentPort.postMessage({ type: 'ready' });
      return;
    }
    events++;
    if (++n % job.sampleEvery === 0) {
      const r = WatchResponse.decode(buf);
      for (const e of r.events) {
        const t = Number(Buffer.from(e.kv.value).toString());
        if (t > 0) lat.push(now() - t);
      }
    }
  });
  call.on('error', () => undefined);
  for (let i = 0; i < job.perStream; i++) {
    call.write({ create_request: { key: Buffer.from(job.prefix), range_end: Buffer.from(job.prefixEnd) }, request_union: 'create_request' });
  }
  calls.push({ client, call });
}
parentPort.on('message', (m) => {
  if (m === 'start') {
    counting = true;
    events = 0;
  } else if (m === 'stop') {
    const got = events;
    parentPort.postMessage({ type: 'done', events: got, latenciesMs: lat });
    for (const { client, call } of calls) {
      call.cancel();
      client.close();
    }
  }
});
