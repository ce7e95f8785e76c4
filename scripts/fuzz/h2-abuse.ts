/**
 * Flow-control and resource abuse on the client port's HTTP/2, each a fixed scenario whose
 * figure is what the server let one connection make it hold (the caller watches the member's
 * resident memory around it):
 * - unaryFlood: one unary call that never ends its request, its DATA sent as fast as the
 *   server's windows allow — how many bytes does the server take for a call that can only ever
 *   use one message?
 * - pingFlood: PINGs from a client that never reads the ACKs.
 * - streamFlood: many calls opened and never finished.
 * - zeroWindow: a client that gives the server no window (SETTINGS_INITIAL_WINDOW_SIZE 0) and
 *   asks for many responses it will never read.
 */
import net from 'node:net';
import { frame, grpcFrame, preface, requestHeaders, T } from './h2-raw.js';

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => resolve(s));
    s.once('error', reject);
  });
}

function settingsFrame(pairs: [number, number][]): Buffer {
  const b = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([k, v], i) => {
    b.writeUInt16BE(k, 6 * i);
    b.writeUInt32BE(v >>> 0, 6 * i + 2);
  });
  return frame(T.Settings, 0, 0, b);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A Range request for key "a", framed for gRPC. */
const rangeMsg = grpcFrame(Buffer.from([0x0a, 0x01, 0x61]));

export async function unaryFlood(host: string, port: number, seconds: number, capBytes = 512 * 1024 * 1024, path = '/etcdserverpb.KV/Range'): Promise<{ accepted: number; closed: boolean }> {
  const s = await connect(host, port);
  let connWindow = 65_535;
  let streamWindow = 65_535;
  let closed = false;
  let inbuf = Buffer.alloc(0);
  let sawSettings = false;
  s.on('close', () => (closed = true));
  s.on('error', () => (closed = true));
  s.on('data', (d: Buffer) => {
    inbuf = Buffer.concat([inbuf, d]);
    while (inbuf.length >= 9) {
      const len = (inbuf[0] as number) * 65536 + (inbuf[1] as number) * 256 + (inbuf[2] as number);
      if (inbuf.length < 9 + len) break;
      const type = inbuf[3] as number;
      const flags = inbuf[4] as number;
      const id = inbuf.readUInt32BE(5) & 0x7fffffff;
      const p = inbuf.subarray(9, 9 + len);
      if (type === T.Settings && (flags & 1) === 0) {
        for (let i = 0; i + 6 <= p.length; i += 6) if (p.readUInt16BE(i) === 4) streamWindow = p.readUInt32BE(i + 2);
        sawSettings = true;
        s.write(frame(T.Settings, 1, 0, Buffer.alloc(0)));
      } else if (type === T.Window && p.length === 4) {
        const inc = p.readUInt32BE(0) & 0x7fffffff;
        if (id === 0) connWindow += inc;
        else if (id === 1) streamWindow += inc;
      } else if (type === T.Rst && id === 1) closed = true;
      inbuf = inbuf.subarray(9 + len);
    }
  });
  s.write(Buffer.concat([preface, settingsFrame([])]));
  while (!sawSettings && !closed) await sleep(10);
  s.write(frame(T.Headers, 0x4, 1, requestHeaders(path)));
  const chunk = Buffer.concat(Array.from({ length: 2048 }, () => rangeMsg)); // 16 KiB of messages
  let accepted = 0;
  const until = Date.now() + seconds * 1000;
  while (!closed && Date.now() < until && accepted < capBytes) {
    if (connWindow >= chunk.length && streamWindow >= chunk.length) {
      connWindow -= chunk.length;
      streamWindow -= chunk.length;
      accepted += chunk.length;
      if (!s.write(frame(T.Data, 0, 1, chunk))) await new Promise((r) => s.once('drain', r));
    } else await sleep(5);
  }
  s.destroy();
  return { accepted, closed };
}

export async function pingFlood(host: string, port: number, count: number): Promise<{ sent: number; closed: boolean }> {
  const s = await connect(host, port);
  let closed = false;
  s.on('close', () => (closed = true));
  s.on('error', () => (closed = true));
  s.pause(); // never read the ACKs
  s.write(Buffer.concat([preface, settingsFrame([])]));
  const ping = frame(T.Ping, 0, 0, Buffer.alloc(8));
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => ping));
  let sent = 0;
  const until = Date.now() + 20_000;
  while (sent < count && !closed && Date.now() < until) {
    sent += 1000;
    if (!s.write(batch)) {
      const drained = await Promise.race([new Promise<boolean>((r) => s.once('drain', () => r(true))), sleep(2000).then(() => false)]);
      if (!drained) break; // the server stopped reading: it pushes back, good
    }
  }
  await sleep(500);
  s.destroy();
  return { sent, closed };
}

export async function streamFlood(host: string, port: number, streams: number): Promise<{ opened: number; closed: boolean; end: () => void }> {
  const s = await connect(host, port);
  let closed = false;
  s.on('close', () => (closed = true));
  s.on('error', () => (closed = true));
  s.on('data', () => undefined);
  s.write(Buffer.concat([preface, settingsFrame([])]));
  let id = 1;
  for (let k = 0; k < streams && !closed; k += 500) {
    const parts: Buffer[] = [];
    for (let j = 0; j < 500; j++, id += 2) parts.push(frame(T.Headers, 0x4, id, requestHeaders('/etcdserverpb.Watch/Watch')));
    if (!s.write(Buffer.concat(parts))) await new Promise((r) => s.once('drain', r));
  }
  await sleep(1000);
  const opened = (id - 1) / 2;
  return { opened, closed, end: () => s.destroy() };
}

export async function zeroWindow(host: string, port: number, calls: number): Promise<{ calls: number; closed: boolean; end: () => void }> {
  const s = await connect(host, port);
  let closed = false;
  s.on('close', () => (closed = true));
  s.on('error', () => (closed = true));
  s.pause();
  s.write(Buffer.concat([preface, settingsFrame([[4, 0]])]));
  // Range over every key (key "\0", range_end "\0"): responses as large as the store.
  const all = grpcFrame(Buffer.from([0x0a, 0x01, 0x00, 0x12, 0x01, 0x00]));
  let id = 1;
  for (let k = 0; k < calls && !closed; k += 100) {
    const parts: Buffer[] = [];
    for (let j = 0; j < 100; j++, id += 2) parts.push(frame(T.Headers, 0x4, id, requestHeaders('/etcdserverpb.KV/Range')), frame(T.Data, 0x1, id, all));
    if (!s.write(Buffer.concat(parts))) break;
  }
  await sleep(2000);
  return { calls: (id - 1) / 2, closed, end: () => s.destroy() };
}
