/**
 * Raw HTTP/2 and HTTP/1.1 sessions against the client port, below any client library: bad
 * prefaces, frames of every type with wrong sizes, flags, stream ids and states, HPACK garbage
 * (out-of-range indexes, overlong integers, bad Huffman, size updates in the wrong place), huge
 * header lists and CONTINUATION floods, flow-control violations, valid gRPC requests with bytes
 * flipped; and malformed HTTP/1.1 requests. A session writes its bytes (split at random
 * points, to cross the server's frame reassembly), half-closes, and waits for the server to
 * close.
 */
import net from 'node:net';
import type { SeededRand } from '../../src/base/random.js';
import { encodeHeaders } from '../../src/rpc/h2/hpack.js';
import { huffmanEncode } from '../../src/rpc/h2/huffman.js';
import { bytes, mutateMany } from './mutate.js';

export const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const T = { Data: 0, Headers: 1, Priority: 2, Rst: 3, Settings: 4, Push: 5, Ping: 6, Goaway: 7, Window: 8, Cont: 9 } as const;

export function frame(type: number, flags: number, id: number, payload: Buffer, lenOverride?: number): Buffer {
  const h = Buffer.alloc(9);
  const len = lenOverride ?? payload.length;
  h[0] = (len >>> 16) & 0xff;
  h[1] = (len >>> 8) & 0xff;
  h[2] = len & 0xff;
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id >>> 0, 5);
  return Buffer.concat([h, payload]);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function settings(pairs: [number, number][]): Buffer {
  const b = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([k, v], i) => {
    b.writeUInt16BE(k & 0xffff, 6 * i);
    b.writeUInt32BE(v >>> 0, 6 * i + 2);
  });
  return b;
}

function pick<T>(r: SeededRand, xs: readonly T[]): T {
  return xs[r.int(xs.length)] as T;
}

/** A gRPC message with its 5-byte prefix. */
export function grpcFrame(msg: Buffer, compressed = false): Buffer {
  const b = Buffer.alloc(5 + msg.length);
  b[0] = compressed ? 1 : 0;
  b.writeUInt32BE(msg.length, 1);
  msg.copy(b, 5);
  return b;
}

export function requestHeaders(path: string, extra: [string, string][] = []): Buffer {
  return encodeHeaders([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', 'fuzz'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
    ...extra,
  ]);
}

/** HPACK bytes that are wrong in one of the ways a decoder must survive. */
function hpackGarbage(r: SeededRand): Buffer {
  switch (r.int(9)) {
    case 0:
      return bytes(r, 1 + r.int(64));
    case 1:
      // indexed field far beyond both tables
      return Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
    case 2:
      // an integer with a very long continuation (overflows a double if added naively)
      return Buffer.from([pick(r, [0xff, 0x7f, 0x3f, 0x0f]), ...Array.from({ length: 4 + r.int(200) }, () => 0x80), ...(r.next() < 0.5 ? [0x00] : [0x01, 0x00])]);
    case 3:
      // a size update after a field, or above the limit
      return r.next() < 0.5 ? Buffer.from([0x82, 0x3f, 0xe1, 0x1f]) : Buffer.from([0x3f, 0xff, 0xff, 0xff, 0x07]);
    case 4:
      // Huffman string with bad padding / EOS
      return Buffer.from([0x00, 0x83, 0xff, 0xff, 0xff, 0x01, 0x61]);
    case 5:
      // a string length past the end
      return Buffer.from([0x00, 0x7f, 0xff, 0x01, 0x61, 0x62]);
    case 6:
      // literal with incremental indexing of a huge entry, then references to it
      return Buffer.concat([Buffer.from([0x40, 0x01, 0x61, 0x7f, 0x80, 0x20]), Buffer.alloc(4096 + 128, 0x62), Buffer.from([0xbe, 0xbf])]);
    case 7: {
      // many tiny indexed fields (a long decoded list)
      return Buffer.alloc(2000 + r.int(20_000), 0x82);
    }
    default:
      return mutateMany(r, requestHeaders('/etcdserverpb.KV/Range'));
  }
}

/** One frame from the zoo of wrong (and some right) frames. */
function zooFrame(r: SeededRand, ids: { next: number }): Buffer {
  const sid = (): number => pick(r, [0, 1, 2, ids.next, ids.next + 2, 0x7fffffff, r.int(100), 3]);
  switch (r.int(16)) {
    case 0:
      return frame(T.Data, r.int(256), sid(), bytes(r, r.int(100)));
    case 1: {
      const id = ids.next;
      ids.next += 2;
      return frame(T.Headers, r.int(256), pick(r, [id, id, sid()]), r.next() < 0.5 ? hpackGarbage(r) : mutateMany(r, requestHeaders(pick(r, ['/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put', '/x/y', '/etcdserverpb.Watch/Watch']))));
    }
    case 2:
      return frame(T.Priority, 0, sid(), bytes(r, pick(r, [5, 5, 4, 6, 0])));
    case 3:
      return frame(T.Rst, 0, sid(), bytes(r, pick(r, [4, 4, 3, 8])));
    case 4:
      return frame(T.Settings, pick(r, [0, 0, 1]), pick(r, [0, 0, 1]), r.next() < 0.7 ? settings(Array.from({ length: 1 + r.int(6) }, () => [pick(r, [1, 2, 3, 4, 5, 6, 7, 0xffff]), pick(r, [0, 1, 16383, 16384, 0x7fffffff, 0x80000000, 0xffffffff, 65535, 2])])) : bytes(r, r.int(20)));
    case 5:
      return frame(T.Push, 0x4, sid(), bytes(r, r.int(20)));
    case 6:
      return frame(T.Ping, pick(r, [0, 1]), pick(r, [0, 0, 1]), bytes(r, pick(r, [8, 8, 7, 9, 0])));
    case 7:
      return frame(T.Goaway, 0, pick(r, [0, 0, 1]), bytes(r, pick(r, [8, 12, 4, 0])));
    case 8:
      return frame(T.Window, 0, sid(), r.next() < 0.6 ? u32(pick(r, [0, 1, 0x7fffffff, 0xffffffff, 65535, 1 << 30])) : bytes(r, r.int(8)));
    case 9:
      return frame(T.Cont, r.int(8), sid(), r.next() < 0.5 ? hpackGarbage(r) : bytes(r, r.int(50)));
    case 10:
      return frame(pick(r, [10, 11, 0x42, 0xff]), r.int(256), sid(), bytes(r, r.int(40)));
    case 11:
      // a frame header announcing more than MAX_FRAME_SIZE, or a length that lies
      return frame(r.int(10), 0, sid(), bytes(r, r.int(30)), pick(r, [0xffffff, (1 << 20) + 1, 16385, 3]));
    case 12: {
      // padded DATA/HEADERS whose padding is longer than the frame
      const p = Buffer.concat([Buffer.from([pick(r, [255, 10, 0])]), bytes(r, r.int(8))]);
      return frame(pick(r, [T.Data, T.Headers]), 0x8 | pick(r, [0, 1, 4, 5]), ids.next, p);
    }
    case 13: {
      // a valid gRPC call with its body bytes flipped
      const id = ids.next;
      ids.next += 2;
      const body = mutateMany(r, grpcFrame(bytes(r, r.int(40)), r.next() < 0.1));
      return Buffer.concat([frame(T.Headers, 0x4, id, requestHeaders(pick(r, ['/etcdserverpb.KV/Range', '/etcdserverpb.KV/Txn', '/etcdserverpb.Lease/LeaseGrant', '/etcdserverpb.Maintenance/Status']), r.next() < 0.2 ? [['grpc-encoding', pick(r, ['gzip', 'deflate', 'br', 'identity'])]] : [])), frame(T.Data, 0x1, id, body)]);
    }
    case 14: {
      // huge header list over CONTINUATIONs (a few hundred KB at most)
      const id = ids.next;
      ids.next += 2;
      const big = encodeHeaders([[':method', 'POST'], [':path', '/etcdserverpb.KV/Range'], ['content-type', 'application/grpc'], ['x-big', 'v'.repeat(1000 + r.int(100_000))]]);
      const parts: Buffer[] = [];
      const step = 16_384;
      for (let off = 0; off < big.length; off += step) {
        const last = off + step >= big.length;
        parts.push(frame(off === 0 ? T.Headers : T.Cont, (last ? 0x4 : 0) | (off === 0 ? 0x1 : 0), id, big.subarray(off, off + step)));
      }
      return Buffer.concat(parts);
    }
    default: {
      // header fields that are odd but decodable: Huffman, uppercase, pseudo-headers late, bad timeout
      const id = ids.next;
      ids.next += 2;
      const name = Buffer.from('grpc-timeout');
      const val = huffmanEncode(pick(r, ['99999999H', '1n', '0S', '-1S', 'abc', '100000000m', '1x']));
      const extra = Buffer.concat([Buffer.from([0x00, name.length]), name, Buffer.from([0x80 | val.length]), val]);
      const block = Buffer.concat([requestHeaders(pick(r, ['/etcdserverpb.KV/Range', '/etcdserverpb.Cluster/MemberList'])), extra, r.next() < 0.3 ? Buffer.from([0x84]) : Buffer.alloc(0)]);
      return Buffer.concat([frame(T.Headers, 0x4, id, block), frame(T.Data, 0x1, id, grpcFrame(Buffer.alloc(0)))]);
    }
  }
}

/** The bytes of one random HTTP/2 session. */
export function h2Session(r: SeededRand): Buffer {
  const roll = r.next();
  if (roll < 0.08) {
    // a bad preface: "PRI" then something else, or the preface mutated
    return r.next() < 0.5 ? Buffer.concat([Buffer.from('PRI'), bytes(r, r.int(40))]) : mutateMany(r, preface);
  }
  const ids = { next: 1 };
  const parts: Buffer[] = [preface];
  if (r.next() < 0.9) parts.push(frame(T.Settings, 0, 0, Buffer.alloc(0)));
  for (let k = 1 + r.int(6); k > 0; k--) parts.push(zooFrame(r, ids));
  return Buffer.concat(parts);
}

const http1Paths = ['/health', '/version', '/metrics', '/v3/kv/range', '/v3/kv/put', '/v3/watch', '/v3/kv/txn', '/v3/lease/grant', '/v3/auth/authenticate', '/', '/v3/maintenance/status', '/debug/vars'];

/** The bytes of one malformed (or odd) HTTP/1.1 exchange. */
export function http1Session(r: SeededRand): Buffer {
  const path = pick(r, http1Paths);
  const body = pick(r, ['{"key":"Zm9v","value":"YmFy"}', '{"key":', '[]', '{"key":"!!!"}', '{"range_end":"AA==","key":"AA=="}', 'x'.repeat(r.int(5000)), '{"compare":[{"target":"VALUE","key":"Zg==","value":1}]}']);
  const method = pick(r, ['GET', 'POST', 'PUT', 'PRI', 'GE', 'POST ', 'OPTIONS', 'CONNECT']);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: fuzz', `Content-Length: ${pick(r, [String(body.length), '-1', '99999999999', 'abc', '0', String(body.length + 10)])}`];
  if (r.next() < 0.3) lines.push('Transfer-Encoding: chunked');
  if (r.next() < 0.2) lines.push(`X-Big: ${'a'.repeat(r.int(40_000))}`);
  if (r.next() < 0.2) for (let i = 0; i < r.int(300); i++) lines.push(`X-H${i}: ${i}`);
  if (r.next() < 0.2) lines.push('Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQAAP__');
  const text = Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
  return r.next() < 0.5 ? text : mutateMany(r, text, 200_000);
}

export interface SessionResult {
  /** Bytes the server sent back. */
  received: number;
  /** The first of them (up to 16). */
  head: Buffer;
  /** The server closed the connection (rather than our timeout). */
  closedByServer: boolean;
  error?: string;
}

/** Writes `data` in random pieces, half-closes, waits for the server to close (or `waitMs`). */
export function runSession(r: SeededRand, host: string, port: number, data: Buffer, waitMs = 2000): Promise<SessionResult> {
  const cuts: number[] = [];
  for (let k = r.int(4); k > 0; k--) cuts.push(r.int(data.length + 1));
  cuts.sort((a, b) => a - b);
  return new Promise((resolve) => {
    let received = 0;
    let head = Buffer.alloc(0);
    let settled = false;
    const s = net.connect(port, host);
    const done = (res: SessionResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(t);
      s.destroy();
      resolve(res);
    };
    const t = setTimeout(() => done({ received, head, closedByServer: false }), waitMs);
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (head.length < 16) head = Buffer.concat([head, d]).subarray(0, 16);
    });
    s.on('error', (e) => done({ received, head, closedByServer: true, error: e.message }));
    s.on('close', () => done({ received, head, closedByServer: true }));
    s.on('connect', () => {
      let at = 0;
      for (const c of [...cuts, data.length]) {
        if (c > at) s.write(data.subarray(at, c));
        at = c;
      }
      s.end();
    });
  });
}
