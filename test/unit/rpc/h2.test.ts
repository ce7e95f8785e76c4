/**
 * etcdts's own HTTP/2 + gRPC server (src/rpc/h2) against independent clients: Node's http2
 * (nghttp2: HPACK with Huffman and a dynamic table, CONTINUATION for big header blocks, flow
 * control) and raw frames for protocol errors. Decoding is also checked against known HPACK
 * encodings (RFC 7541 C.4, with Huffman).
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HpackDecoder, HpackError } from '../../../src/rpc/h2/hpack.js';
import { huffmanDecode, huffmanEncode } from '../../../src/rpc/h2/huffman.js';
import { GrpcServer, Status, frameMessages, type MethodDef } from '../../../src/rpc/h2/grpc-server.js';

const servers: net.Server[] = [];
const clients: http2.ClientHttp2Session[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) s.close();
});

async function serve(methods: Record<string, MethodDef | null>, maxReceiveBytes = 1 << 20): Promise<{ port: number; g: GrpcServer }> {
  const g = new GrpcServer({ maxReceiveBytes, toStatus: (e) => ({ code: Status.UNKNOWN, details: String(e) }) });
  g.addService('test.Svc', methods);
  const srv = net.createServer((s) => g.handleConnection(s));
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, g };
}

function connect(port: number): http2.ClientHttp2Session {
  const c = http2.connect(`http://127.0.0.1:${port}`);
  clients.push(c);
  return c;
}

interface Result {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function call(c: http2.ClientHttp2Session, path: string, body: Buffer, extra: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const req = c.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(body);
  });
}

const echo: MethodDef = { kind: 'unary', handler: (req) => Buffer.concat([Buffer.from('echo:'), req]) };

describe('HPACK', () => {
  it('decodes RFC 7541 C.4 (requests with Huffman, dynamic table across blocks)', () => {
    const d = new HpackDecoder();
    const b1 = Buffer.from('828684418cf1e3c2e5f23a6ba0ab90f4ff', 'hex');
    expect(d.decode(b1, 1 << 20).fields).toEqual([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
    const b2 = Buffer.from('828684be5886a8eb10649cbf', 'hex');
    expect(d.decode(b2, 1 << 20).fields).toEqual([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]);
    const b3 = Buffer.from('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf', 'hex');
    expect(d.decode(b3, 1 << 20).fields).toEqual([[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]);
    expect(d.table().size).toBe(164);
  });

  it('round-trips every byte through Huffman and refuses bad padding and EOS', () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    const enc = huffmanEncode(all);
    expect(huffmanDecode(enc, 0, enc.length)).toBe(all);
    // 'a' is 00011 (5 bits): padding with zeros is invalid.
    expect(() => huffmanDecode(Buffer.from([0b00011000]), 0, 1)).toThrow();
    expect(huffmanDecode(Buffer.from([0b00011111]), 0, 1)).toBe('a');
    // 8 or more bits of padding is invalid: 'a' then a full byte of ones.
    expect(() => huffmanDecode(Buffer.from([0b00011111, 0xff]), 0, 2)).toThrow();
    expect(() => new HpackDecoder().decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]), 1 << 20)).toThrow(HpackError);
  });
});

describe('HTTP/2 + gRPC server', () => {
  it('serves unary calls from Node http2 with its headers, many streams, big bodies both ways', async () => {
    const { port } = await serve({
      Echo: echo,
      Big: { kind: 'unary', handler: (req) => Buffer.alloc(3 * 1024 * 1024 + req.length, 7) },
    });
    const c = connect(port);
    const msg = (b: Buffer): Buffer => frameMessages([b]);
    const r = await call(c, '/test.Svc/Echo', msg(Buffer.from('hi')), { hasleader: 'true', 'x-long': 'v'.repeat(30_000) });
    expect(r.headers[':status']).toBe(200);
    expect(r.headers['content-type']).toBe('application/grpc');
    expect(r.headers.date).toBeUndefined();
    expect(r.trailers['grpc-status']).toBe('0');
    expect(r.body.subarray(5).toString()).toBe('echo:hi');
    // 200 concurrent calls on one connection, and a 3 MiB answer through flow control.
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => call(c, '/test.Svc/Echo', msg(Buffer.from(String(i))))));
    expect(many.map((x) => x.body.subarray(5).toString())).toEqual(Array.from({ length: 200 }, (_, i) => `echo:${i}`));
    const big = await call(c, '/test.Svc/Big', msg(Buffer.alloc(900_000, 1)));
    expect(big.body.length).toBe(5 + 3 * 1024 * 1024 + 900_000);
    expect(big.trailers['grpc-status']).toBe('0');
  });

  it('answers unknown paths UNIMPLEMENTED, oversized messages RESOURCE_EXHAUSTED, handler errors with their status', async () => {
    const { port } = await serve({
      Echo: echo,
      Missing: null,
      Fails: { kind: 'unary', handler: async () => Promise.reject(new Error('boom\nnext')) },
    }, 100);
    const c = connect(port);
    const u = await call(c, '/test.Svc/Missing', frameMessages([Buffer.from('x')]));
    expect(u.headers['grpc-status']).toBe(String(Status.UNIMPLEMENTED));
    expect(u.headers['grpc-message']).toBe('unknown method Missing for service test.Svc');
    const s = await call(c, '/other.Svc/X', frameMessages([Buffer.from('x')]));
    expect(s.headers['grpc-message']).toBe('unknown service other.Svc');
    const big = await call(c, '/test.Svc/Echo', frameMessages([Buffer.alloc(101)]));
    expect(big.headers['grpc-status']).toBe(String(Status.RESOURCE_EXHAUSTED));
    expect(big.headers['grpc-message']).toBe('grpc: received message larger than max (101 vs. 100)');
    const f = await call(c, '/test.Svc/Fails', frameMessages([Buffer.from('x')]));
    expect(f.headers['grpc-status']).toBe(String(Status.UNKNOWN));
    expect(f.headers['grpc-message']).toBe('Error: boom%0Anext');
    // Two messages on a unary call: grpc-go's protocol violation, and nothing more is buffered.
    const two = await call(c, '/test.Svc/Echo', frameMessages([Buffer.from('a'), Buffer.from('b')]));
    expect(two.headers['grpc-status']).toBe(String(Status.INTERNAL));
    expect(two.headers['grpc-message']).toBe('grpc: client streaming protocol violation: get <nil>, want <EOF>');
    // The connection still serves.
    expect((await call(c, '/test.Svc/Echo', frameMessages([Buffer.from('ok')]))).body.subarray(5).toString()).toBe('echo:ok');
  });

  it('runs a bidi stream with back-pressure and tells the handler of a client reset', async () => {
    let cancelled = false;
    const { port } = await serve({
      Chat: {
        kind: 'bidi',
        handler: (call) => {
          call.onMessage((m) => void call.write(Buffer.concat([m, m])));
          // Node's close() half-closes before its RST_STREAM: the call stays open until the reset.
          call.onHalfClose(() => undefined);
          call.onCancel(() => (cancelled = true));
        },
      },
    });
    const c = connect(port);
    const req = c.request({ ':method': 'POST', ':path': '/test.Svc/Chat', 'content-type': 'application/grpc' });
    const got: Buffer[] = [];
    req.on('data', (d: Buffer) => got.push(d));
    for (let i = 0; i < 100; i++) req.write(frameMessages([Buffer.from(`m${i}`)]));
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (Buffer.concat(got).length >= 100 * 5 + 2 * [...Array(100).keys()].reduce((n, i) => n + `m${i}`.length, 0)) {
          clearInterval(t);
          r();
        }
      }, 5);
    });
    req.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise<void>((r) => {
      const t = setInterval(() => cancelled && (clearInterval(t), r()), 5);
    });
    expect(cancelled).toBe(true);
  });

  it('answers PING, and ends the connection with GOAWAY on a protocol error', async () => {
    const { port } = await serve({ Echo: echo });
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    await new Promise<void>((r) => s.once('connect', () => r()));
    const frame = (type: number, flags: number, id: number, payload: Buffer): Buffer => {
      const h = Buffer.alloc(9);
      h.writeUIntBE(payload.length, 0, 3);
      h[3] = type;
      h[4] = flags;
      h.writeUInt32BE(id, 5);
      return Buffer.concat([h, payload]);
    };
    s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(4, 0, 0, Buffer.alloc(0)), frame(6, 0, 0, Buffer.from('12345678'))]));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    await new Promise((r) => setTimeout(r, 50));
    // DATA on stream 0 is a connection error.
    s.write(frame(0, 0, 0, Buffer.from('x')));
    await closed;
    const all = Buffer.concat(got);
    const frames: { type: number; flags: number; payload: Buffer }[] = [];
    for (let p = 0; p + 9 <= all.length; ) {
      const len = all.readUIntBE(p, 3);
      frames.push({ type: all[p + 3] as number, flags: all[p + 4] as number, payload: all.subarray(p + 9, p + 9 + len) });
      p += 9 + len;
    }
    expect(frames.find((f) => f.type === 6 && f.flags === 1)?.payload.toString()).toBe('12345678');
    const goaway = frames.find((f) => f.type === 7);
    expect(goaway?.payload.readUInt32BE(4)).toBe(1); // PROTOCOL_ERROR
  });
});
