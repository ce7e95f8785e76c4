/**
 * Peer transport throughput over loopback, by hand (`node --import tsx scripts/peer-transport-bench.ts`):
 * one sender streams MsgApp (8 entries of 100 bytes each) and then heartbeats to one receiver
 * through the gRPC transport, in send() calls of 64 messages, keeping at most `window` messages
 * unacknowledged (as Raft's in-flight limit would). Prints messages/s, entry MB/s and the
 * frames used. For comparison it runs the same load through the in-memory transport (codec
 * only, no sockets): the ratio is the cost of gRPC + HTTP/2 + TCP.
 */
import net from 'node:net';
import { silentLogger } from '../src/base/logger.js';
import { SocketTransport } from '../src/peer/socket-transport.js';
import { createMemoryHub } from '../src/peer/memory-transport.js';
import type { PeerHandler, Transport } from '../src/peer/transport.js';
import { message, MessageType, type Message } from '../src/raft/types.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function handler(onMsg: () => void): PeerHandler {
  return {
    process: onMsg,
    reportUnreachable: () => undefined,
    reportSnapshot: () => undefined,
    receiveSnapshot: async () => undefined,
    onRequest: async () => new Uint8Array(0),
  };
}

function app(i: number): Message {
  const base = BigInt(i) * 8n;
  return message({
    type: MessageType.App, from: 0xfedcba9876543210n, to: 0x8e9e05c52164694dn, term: 3n, logTerm: 3n, index: base, commit: base,
    entries: Array.from({ length: 8 }, (_, k) => ({ term: 3n, index: base + BigInt(k) + 1n, type: 0, data: new Uint8Array(100) })),
  });
}

function hb(i: number): Message {
  return message({ type: MessageType.Heartbeat, from: 0xfedcba9876543210n, to: 0x8e9e05c52164694dn, term: 3n, commit: BigInt(i) });
}

async function run(name: string, make: (onMsg: () => void) => Promise<[Transport, Transport]>, kind: 'app' | 'hb', total: number): Promise<number> {
  let received = 0;
  let wake: () => void = () => undefined;
  const [a, b] = await make(() => {
    received++;
    wake();
  });
  const window = 4096;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    while (sent - received >= window) await new Promise<void>((r) => (wake = r));
    const batch: Message[] = [];
    for (let k = 0; k < 64 && sent < total; k++) batch.push(kind === 'app' ? app(sent++) : hb(sent++));
    a.send(batch);
    if (sent % 1024 === 0) await new Promise((r) => setImmediate(r));
  }
  while (received < total) await new Promise<void>((r) => (wake = r));
  const s = (performance.now() - start) / 1000;
  const rate = total / s;
  const mb = kind === 'app' ? (total * 8 * 100) / s / 1e6 : 0;
  const frames = a instanceof SocketTransport ? ` frames ${a.stats(0x8e9e05c52164694dn).framesSent}` : '';
  console.log(`${name.padEnd(10)} ${kind === 'app' ? 'MsgApp×8' : 'heartbeat'}  ${Math.round(rate).toString().padStart(8)} msg/s${kind === 'app' ? `  ${mb.toFixed(1)} MB/s of entries` : ''}${frames}`);
  await a.stop();
  await b.stop();
  return rate;
}

const grpcPair = async (onMsg: () => void): Promise<[Transport, Transport]> => {
  const [pa, pb] = [await freePort(), await freePort()];
  const a = new SocketTransport({ memberId: 0xfedcba9876543210n, clusterId: 1n, listenPeerUrls: [`http://127.0.0.1:${pa}`], logger: silentLogger, handler: handler(() => undefined) });
  const b = new SocketTransport({ memberId: 0x8e9e05c52164694dn, clusterId: 1n, listenPeerUrls: [`http://127.0.0.1:${pb}`], logger: silentLogger, handler: handler(onMsg) });
  await a.start();
  await b.start();
  a.addPeer(0x8e9e05c52164694dn, [`http://127.0.0.1:${pb}`]);
  b.addPeer(0xfedcba9876543210n, [`http://127.0.0.1:${pa}`]);
  while (a.activeSince(0x8e9e05c52164694dn) === undefined) await new Promise((r) => setTimeout(r, 5));
  return [a, b];
};

const memoryPair = async (onMsg: () => void): Promise<[Transport, Transport]> => {
  const hub = createMemoryHub();
  const a = hub.transport({ memberId: 0xfedcba9876543210n, clusterId: 1n, listenPeerUrls: ['http://a:1'], logger: silentLogger, handler: handler(() => undefined) });
  const b = hub.transport({ memberId: 0x8e9e05c52164694dn, clusterId: 1n, listenPeerUrls: ['http://b:1'], logger: silentLogger, handler: handler(onMsg) });
  await a.start();
  await b.start();
  a.addPeer(0x8e9e05c52164694dn, ['http://b:1']);
  b.addPeer(0xfedcba9876543210n, ['http://a:1']);
  return [a, b];
};

for (const kind of ['app', 'hb'] as const) {
  const total = kind === 'app' ? 50_000 : 200_000;
  const m = await run('memory', memoryPair, kind, total);
  const g = await run('gRPC', grpcPair, kind, total);
  console.log(`ratio memory / gRPC: ${(m / g).toFixed(2)}×\n`);
}
