/**
 * The hand-written KV codecs (src/api/kv-wire.ts) agree with protobufjs, which the generic path
 * uses: for random requests, decoding protobufjs's encoding gives what convert.ts makes of
 * proto-loader's object; for random responses, protobufjs decodes our bytes to what it decodes
 * its own to. Our bytes leave out zero scalars as Go's proto3 marshal (and so etcd) does, where
 * protobufjs wrote every field the object had. Random bytes never make the decoders throw
 * anything but PbDecodeError.
 */
import { describe, expect, it } from 'vitest';
import { toDomain, toWire } from '../../../src/api/convert.js';
import { decodeGeneric, encodeGeneric } from '../../../src/api/generic-codec.js';
import {
  PbDecodeError,
  decodeDeleteRangeRequest,
  decodePutRequest,
  decodeRangeRequest,
  decodeTxnRequest,
  decodeLeaseKeepAliveRequest,
  encodeLeaseKeepAliveResponse,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeTxnResponse,
} from '../../../src/api/kv-wire.js';
import type { KeyValue, RequestOp, ResponseOp } from '../../../src/api/kv-types.js';
import { SeededRand } from '../../../src/base/random.js';

const rand = new SeededRand(20261205);
const int = (n: number): number => rand.int(n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
const bytes = (max = 12): Buffer => Buffer.from(Array.from({ length: int(max + 1) }, () => int(256)));
const i64 = (): bigint => pick([0n, 1n, BigInt(int(1000)), BigInt(int(2 ** 30)) * 4096n, -1n, -(2n ** 63n), 2n ** 63n - 1n, BigInt(int(2 ** 20)) << 30n]);
const u64 = (): bigint => pick([0n, 1n, 0xffffffffffffffffn, BigInt(int(2 ** 30)) << 20n, 0x8e9e05c52164694dn]);
const bool = (): boolean => int(2) === 1;

function rangeReq(): Record<string, unknown> {
  return {
    key: bytes(), range_end: bytes(), limit: i64(), revision: i64(), sort_order: int(5), sort_target: int(7),
    serializable: bool(), keys_only: bool(), count_only: bool(),
    min_mod_revision: i64(), max_mod_revision: i64(), min_create_revision: i64(), max_create_revision: i64(),
  };
}
function putReq(): Record<string, unknown> {
  return { key: bytes(), value: bytes(40), lease: i64(), prev_kv: bool(), ignore_value: bool(), ignore_lease: bool() };
}
function delReq(): Record<string, unknown> {
  return { key: bytes(), range_end: bytes(), prev_kv: bool() };
}
function compare(): Record<string, unknown> {
  const c: Record<string, unknown> = { result: int(5), target: int(6), key: bytes(), range_end: bytes() };
  const which = pick(['version', 'create_revision', 'mod_revision', 'value', 'lease', null]);
  if (which === 'value') c.value = bytes();
  else if (which !== null) c[which] = i64();
  if (which !== null) c.target_union = which;
  return c;
}
function op(depth: number): Record<string, unknown> {
  const k = pick(['request_range', 'request_put', 'request_delete_range', 'request_txn', null]);
  if (k === null) return {};
  if (k === 'request_txn' && depth > 2) return { request: 'request_put', request_put: putReq() };
  const body = k === 'request_range' ? rangeReq() : k === 'request_put' ? putReq() : k === 'request_delete_range' ? delReq() : txnReq(depth + 1);
  return { request: k, [k]: body };
}
function txnReq(depth = 0): Record<string, unknown> {
  return {
    compare: Array.from({ length: int(3) }, compare),
    success: Array.from({ length: int(3) }, () => op(depth)),
    failure: Array.from({ length: int(3) }, () => op(depth)),
  };
}

/** Domain object → proto-loader-shaped object (bigint → string) for protobufjs. */
function wireOf(type: string, domain: Record<string, unknown>): unknown {
  return toWire(type, domain);
}

function kv(): KeyValue {
  return { key: bytes(), create_revision: i64(), mod_revision: i64(), version: i64(), value: bytes(30), lease: i64() };
}
const header = (full: boolean) =>
  full ? { cluster_id: u64(), member_id: u64(), revision: i64(), raft_term: u64() } : { revision: i64() };

function respOp(depth: number): ResponseOp {
  const k = pick(['response_range', 'response_put', 'response_delete_range', 'response_txn'] as const);
  if (k === 'response_range') return { response: k, response_range: { header: header(false), kvs: Array.from({ length: int(3) }, kv), more: bool(), count: i64() } };
  if (k === 'response_put') return { response: k, response_put: { header: header(false), prev_kv: bool() ? kv() : null } };
  if (k === 'response_delete_range' || depth > 2) return { response: 'response_delete_range', response_delete_range: { header: header(false), deleted: i64(), prev_kvs: Array.from({ length: int(3) }, kv) } };
  return { response: k, response_txn: { header: header(false), succeeded: bool(), responses: Array.from({ length: int(3) }, () => respOp(depth + 1)) } };
}

describe('hand-written KV codecs agree with protobufjs', () => {
  it('decode requests as convert.ts does', () => {
    const cases: [string, () => Record<string, unknown>, (b: Buffer) => unknown][] = [
      ['etcdserverpb.RangeRequest', rangeReq, (b) => decodeRangeRequest(b)],
      ['etcdserverpb.PutRequest', putReq, (b) => decodePutRequest(b)],
      ['etcdserverpb.DeleteRangeRequest', delReq, (b) => decodeDeleteRangeRequest(b)],
      ['etcdserverpb.TxnRequest', () => txnReq(), (b) => decodeTxnRequest(b)],
    ];
    for (const [type, gen, decode] of cases) {
      for (let i = 0; i < 300; i++) {
        const bytesOut = Buffer.from(encodeGeneric(type, wireOf(type, gen())));
        const want = toDomain(type, decodeGeneric(type, bytesOut));
        expect(decode(bytesOut)).toEqual(want);
      }
    }
  });

  it('encode responses that protobufjs reads as it reads its own', () => {
    const same = (type: string, ours: Buffer, obj: unknown): void => {
      const theirs = encodeGeneric(type, toWire(type, obj));
      expect(decodeGeneric(type, ours)).toEqual(decodeGeneric(type, theirs));
      expect(ours.length).toBeLessThanOrEqual(theirs.length);
    };
    for (let i = 0; i < 300; i++) {
      const r = { header: header(true), kvs: Array.from({ length: int(4) }, kv), more: bool(), count: i64() };
      same('etcdserverpb.RangeResponse', encodeRangeResponse(r), r);
      const p = { header: header(true), prev_kv: bool() ? kv() : null };
      same('etcdserverpb.PutResponse', encodePutResponse(p), p);
      const d = { header: header(true), deleted: i64(), prev_kvs: Array.from({ length: int(3) }, kv) };
      same('etcdserverpb.DeleteRangeResponse', encodeDeleteRangeResponse(d), d);
      const t = { header: header(true), succeeded: bool(), responses: Array.from({ length: int(4) }, () => respOp(0)) };
      same('etcdserverpb.TxnResponse', encodeTxnResponse(t), t);
    }
  });

  it('leaves out zero scalars and keeps empty messages, as Go marshals', () => {
    const r = { header: { revision: 0n }, kvs: [{ key: Buffer.from('a'), create_revision: 0n, mod_revision: 0n, version: 0n, value: Buffer.alloc(0), lease: 0n }], more: false, count: 0n };
    expect(encodeRangeResponse(r).toString('hex')).toBe('0a00' + '1203' + '0a0161');
    expect(encodePutResponse({ header: { revision: 7n }, prev_kv: null }).toString('hex')).toBe('0a021807');
    expect(encodeTxnResponse({ header: { revision: 5n }, succeeded: false, responses: [] }).toString('hex')).toBe('0a021805');
  });

  it('lease keep-alive request and response as protobufjs reads and writes them', () => {
    for (let i = 0; i < 200; i++) {
      const id = i64();
      const b = Buffer.from(encodeGeneric('etcdserverpb.LeaseKeepAliveRequest', toWire('etcdserverpb.LeaseKeepAliveRequest', { ID: id })));
      expect(decodeLeaseKeepAliveRequest(b)).toBe(id);
      const h = header(true);
      const ttl = i64();
      const ours = encodeLeaseKeepAliveResponse(h, id, ttl);
      expect(decodeGeneric('etcdserverpb.LeaseKeepAliveResponse', ours)).toEqual(
        decodeGeneric('etcdserverpb.LeaseKeepAliveResponse', encodeGeneric('etcdserverpb.LeaseKeepAliveResponse', toWire('etcdserverpb.LeaseKeepAliveResponse', { header: h, ID: id, TTL: ttl }))),
      );
    }
  });

  it('keeps only the last member of a oneof, and the last occurrence of a scalar', () => {
    // Compare with version=5 then value="x": the value wins. Key twice: the last wins.
    const b = Buffer.from([0x1a, 1, 0x61, 0x1a, 1, 0x62, 0x20, 5, 0x3a, 1, 0x78]);
    const txn = Buffer.concat([Buffer.from([0x0a, b.length]), b]);
    const d = decodeTxnRequest(txn);
    expect(d.compare[0]).toEqual({ result: 0, target: 0, key: Buffer.from('b'), range_end: Buffer.alloc(0), target_union: 'value', value: Buffer.from('x') });
    const empty: RequestOp = decodeTxnRequest(Buffer.from([0x12, 0])).success[0] as RequestOp;
    expect(empty).toEqual({});
  });

  it('random bytes only ever raise PbDecodeError', () => {
    const decoders = [decodeRangeRequest, decodePutRequest, decodeDeleteRangeRequest, decodeTxnRequest];
    for (let i = 0; i < 20_000; i++) {
      const b = bytes(40);
      for (const d of decoders) {
        try {
          d(b);
        } catch (e) {
          expect(e).toBeInstanceOf(PbDecodeError);
        }
      }
    }
  });
});
