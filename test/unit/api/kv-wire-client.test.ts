/**
 * The client-direction KV codecs (src/api/kv-wire-client.ts) agree with the generic path they
 * replace in the client (client/generic-wire.ts: protobufjs after pruning default fields): for
 * random requests they write the same bytes; for random responses they decode to what
 * convert.ts makes of protobufjs's object. Random bytes never make the decoders throw anything
 * but PbDecodeError.
 */
import { describe, expect, it } from 'vitest';
import { toWire } from '../../../src/api/convert.js';
import { encodeGeneric } from '../../../src/api/generic-codec.js';
import type { Compare, DeleteRangeRequest, KeyValue, PutRequest, RangeRequest, RequestOp, ResponseOp, TxnRequest } from '../../../src/api/kv-types.js';
import {
  decodeDeleteRangeResponse,
  decodePutResponse,
  decodeRangeResponse,
  decodeTxnResponse,
  encodeDeleteRangeRequest,
  encodePutRequest,
  encodeRangeRequest,
  encodeTxnRequest,
} from '../../../src/api/kv-wire-client.js';
import { PbDecodeError } from '../../../src/base/pb.js';
import { SeededRand } from '../../../src/base/random.js';
import { decodeResponse, encodeRequest } from '../../../src/client/generic-wire.js';

const rand = new SeededRand(20261206);
const int = (n: number): number => rand.int(n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
const bytes = (max = 12): Buffer => Buffer.from(Array.from({ length: int(max + 1) }, () => int(256)));
const i64 = (): bigint => pick([0n, 1n, BigInt(int(1000)), BigInt(int(2 ** 30)) * 4096n, -1n, -(2n ** 63n), 2n ** 63n - 1n, BigInt(int(2 ** 20)) << 30n]);
const u64 = (): bigint => pick([0n, 1n, 0xffffffffffffffffn, BigInt(int(2 ** 30)) << 20n, 0x8e9e05c52164694dn]);
const bool = (): boolean => int(2) === 1;
const enumv = (): number => pick([0, 0, 1, 2, 4, 130, -1]);

function rangeReq(): RangeRequest {
  return {
    key: bytes(), range_end: bytes(), limit: i64(), revision: i64(), sort_order: enumv(), sort_target: enumv(),
    serializable: bool(), keys_only: bool(), count_only: bool(),
    min_mod_revision: i64(), max_mod_revision: i64(), min_create_revision: i64(), max_create_revision: i64(),
  };
}
function putReq(): PutRequest {
  return { key: bytes(), value: bytes(200), lease: i64(), prev_kv: bool(), ignore_value: bool(), ignore_lease: bool() };
}
function delReq(): DeleteRangeRequest {
  return { key: bytes(), range_end: bytes(), prev_kv: bool() };
}
function compare(): Compare {
  const c: Compare = { result: enumv(), target: enumv(), key: bytes(), range_end: bytes(200) };
  const which = pick(['version', 'create_revision', 'mod_revision', 'value', 'lease', null] as const);
  if (which === 'value') c.value = bytes();
  else if (which !== null) c[which] = i64();
  if (which !== null) c.target_union = which;
  return c;
}
function op(depth: number): RequestOp {
  const k = pick(['request_range', 'request_put', 'request_delete_range', 'request_txn', null, 'null-member'] as const);
  if (k === null) return {};
  if (k === 'null-member') return { request: 'request_put', request_put: null };
  if (k === 'request_txn' && depth > 2) return { request: 'request_put', request_put: putReq() };
  if (k === 'request_range') return { request: k, request_range: rangeReq() };
  if (k === 'request_put') return { request: k, request_put: putReq() };
  if (k === 'request_delete_range') return { request: k, request_delete_range: delReq() };
  return { request: k, request_txn: txnReq(depth + 1) };
}
function txnReq(depth = 0): TxnRequest {
  return {
    compare: Array.from({ length: int(3) }, compare),
    success: Array.from({ length: int(3) }, () => op(depth)),
    failure: Array.from({ length: int(3) }, () => op(depth)),
  };
}

function kv(): KeyValue {
  return { key: bytes(), create_revision: i64(), mod_revision: i64(), version: i64(), value: bytes(30), lease: i64() };
}
const header = () => (int(5) === 0 ? null : { cluster_id: u64(), member_id: u64(), revision: i64(), raft_term: u64() });

function respOp(depth: number): ResponseOp | Record<string, never> {
  const k = pick(['response_range', 'response_put', 'response_delete_range', 'response_txn', null] as const);
  if (k === null) return {};
  if (k === 'response_range') return { response: k, response_range: { header: header(), kvs: Array.from({ length: int(3) }, kv), more: bool(), count: i64() } } as ResponseOp;
  if (k === 'response_put') return { response: k, response_put: { header: header(), prev_kv: bool() ? kv() : null } } as ResponseOp;
  if (k === 'response_delete_range' || depth > 2) return { response: 'response_delete_range', response_delete_range: { header: header(), deleted: i64(), prev_kvs: Array.from({ length: int(3) }, kv) } } as ResponseOp;
  return { response: k, response_txn: { header: header(), succeeded: bool(), responses: Array.from({ length: int(3) }, () => respOp(depth + 1)) } } as ResponseOp;
}

/** Response bytes as protobufjs writes them (every field it is given). */
function protobufjsBytes(type: string, obj: unknown): Buffer {
  return Buffer.from(encodeGeneric(type, toWire(type, obj)));
}

describe('client-direction KV codecs agree with the generic path', () => {
  it('encode requests to the bytes the generic path sends', () => {
    const cases: [string, () => unknown, (m: never) => Buffer][] = [
      ['etcdserverpb.RangeRequest', rangeReq, encodeRangeRequest],
      ['etcdserverpb.PutRequest', putReq, encodePutRequest],
      ['etcdserverpb.DeleteRangeRequest', delReq, encodeDeleteRangeRequest],
      ['etcdserverpb.TxnRequest', () => txnReq(), encodeTxnRequest],
    ];
    for (const [type, gen, encode] of cases) {
      for (let i = 0; i < 300; i++) {
        const m = gen();
        expect(encode(m as never).toString('hex')).toBe(Buffer.from(encodeRequest(type, m)).toString('hex'));
      }
    }
  });

  it('writes a oneof member that is zero or empty, and leaves out an unset one', () => {
    const c: Compare = { result: 0, target: 0, key: Buffer.from('k'), range_end: Buffer.alloc(0), target_union: 'version', version: 0n };
    expect(encodeTxnRequest({ compare: [c], success: [{ request: 'request_range', request_range: { ...rangeReq(), ...zeroRange } }, {}], failure: [] }).toString('hex')).toBe(
      '0a05' + '1a016b' + '2000' + '1202' + '0a00' + '1200',
    );
  });

  it('decode responses as convert.ts makes them of protobufjs objects', () => {
    const cases: [string, () => unknown, (b: Buffer) => unknown][] = [
      ['etcdserverpb.RangeResponse', () => ({ header: header(), kvs: Array.from({ length: int(4) }, kv), more: bool(), count: i64() }), decodeRangeResponse],
      ['etcdserverpb.PutResponse', () => ({ header: header(), prev_kv: bool() ? kv() : null }), decodePutResponse],
      ['etcdserverpb.DeleteRangeResponse', () => ({ header: header(), deleted: i64(), prev_kvs: Array.from({ length: int(3) }, kv) }), decodeDeleteRangeResponse],
      ['etcdserverpb.TxnResponse', () => ({ header: header(), succeeded: bool(), responses: Array.from({ length: int(4) }, () => respOp(0)) }), decodeTxnResponse],
    ];
    for (const [type, gen, decode] of cases) {
      for (let i = 0; i < 300; i++) {
        const b = protobufjsBytes(type, gen());
        expect(decode(b)).toEqual(decodeResponse(type, b).resp);
      }
    }
  });

  it('random bytes only ever raise PbDecodeError', () => {
    const decoders = [decodeRangeResponse, decodePutResponse, decodeDeleteRangeResponse, decodeTxnResponse];
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

const zeroRange: RangeRequest = {
  key: Buffer.alloc(0), range_end: Buffer.alloc(0), limit: 0n, revision: 0n, sort_order: 0, sort_target: 0, serializable: false, keys_only: false, count_only: false,
  min_mod_revision: 0n, max_mod_revision: 0n, min_create_revision: 0n, max_create_revision: 0n,
};
