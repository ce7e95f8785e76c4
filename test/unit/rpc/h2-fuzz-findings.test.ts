/**
 * What the fuzzer (scripts/fuzz.ts, issue 14) found in etcdts's own HTTP/2 server, one test per
 * finding. Those fixed are plain tests (they fail on the code before the fix); those not fixed
 * yet are `it.fails` — the test states the right behaviour and is expected to fail until the
 * fix lands, when it must be turned into a plain `it`.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcServer, Status, frameMessages, type MethodDef } from '../../../src/rpc/h2/grpc-server.js';
import { HpackDecoder, HpackError } from '../../../src/rpc/h2/hpack.js';
import { unaryFlood } from '../../../scripts/fuzz/h2-abuse.js';

const servers: net.Server[] = [];
const clients: http2.ClientHttp2Session[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) s.close();
});

async function serve(methods: Record<string, MethodDef>): Promise<number> {
  const g = new GrpcServer({ maxReceiveBytes: 1 << 20, toStatus: (e) => ({ code: Status.UNKNOWN, details: String(e) }) });
  g.addService('test.Svc', methods);
  const srv = net.createServer((s) => g.handleConnection(s));
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as net.AddressInfo).port;
}

describe('HPACK integers', () => {
  it('refuses an integer with more continuation bytes than 32 bits need (a size update must not end up NaN)', () => {
    // Fixed: readInt added 0 × 2^shift until 2^shift overflowed to Infinity, 0 × Infinity is NaN,
    // and a table size update of NaN passed the `n > limit` check: the dynamic table then
    // never evicted, so one connection could grow the member's memory without bound.
    const d = new HpackDecoder(4096);
    const sizeUpdate = Buffer.from([0x3f, ...Array.from({ length: 150 }, () => 0x80), 0x00]);
    expect(() => d.decode(sizeUpdate, 65_536)).toThrow(HpackError);
    // Five continuation bytes is as long as a 32-bit value gets; zero padding within that is fine.
    const five = Buffer.from([0x3f, 0xe1, 0x80, 0x80, 0x80, 0x00]);
    expect(() => new HpackDecoder(4096).decode(five, 65_536)).not.toThrow();
  });
});

describe('gRPC deadlines', () => {
  it('serves a call whose grpc-timeout is longer than setTimeout can wait (24.8 days) instead of failing it at once', async () => {
    // Fixed: a 720H timeout (a client deadline 30 days away, as grpc-go or grpc-js would send it)
    // armed setTimeout with 2.59e9 ms, which Node clamps to 1 ms: DEADLINE_EXCEEDED at once.
    const port = await serve({ Echo: { kind: 'unary', handler: async (req) => new Promise((r) => setTimeout(() => r(req), 20)) } });
    const c = http2.connect(`http://127.0.0.1:${port}`);
    clients.push(c);
    const status = await new Promise<string | undefined>((resolve, reject) => {
      const req = c.request({ ':method': 'POST', ':path': '/test.Svc/Echo', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '720H' });
      let st: string | undefined;
      req.on('response', (h) => (st = (h['grpc-status'] as string | undefined) ?? st));
      req.on('trailers', (t) => (st = t['grpc-status'] as string));
      req.on('data', () => undefined);
      req.on('end', () => resolve(st));
      req.on('error', reject);
      req.end(frameMessages([Buffer.from('x')]));
    });
    expect(status).toBe(String(Status.OK));
  });
});

describe('flow control of unary calls', () => {
  it('a unary call whose request goes on past its one message is ended, not buffered', async () => {
    // A unary call can only ever use one request message, but the server keeps acknowledging
    // DATA (WINDOW_UPDATE) on its stream and keeps every extra message in memory until the
    // request ends: one connection made a member take 75 MB of DATA in 5 s and its RSS grow
    // from 0.7 to 1.2 GB (scripts/fuzz.ts abuse scenario "unary flood"). grpc-go stops granting
    // window once the message is read, so at most a window (here 1 MiB) more is buffered.
    const port = await serve({ Echo: { kind: 'unary', handler: (req) => req } });
    const r = await unaryFlood('127.0.0.1', port, 3, 16 * 1024 * 1024, '/test.Svc/Echo');
    // Fixed: a second message on a unary call ends the call with INTERNAL ("grpc: client
    // streaming protocol violation", as grpc-go answers) and resets the stream, so what the
    // connection can push is bounded by the windows it had, not by time.
    expect(r.closed).toBe(true);
    expect(r.accepted).toBeLessThan(4 * 1024 * 1024);
  }, 20_000);
});
