/**
 * KV apply against answers recorded from a real etcd 3.4.23 (its JSON gateway, /v3/kv/*): the
 * same requests in the same order, and each response rendered the gateway's way (int64 as
 * strings, bytes as base64, zero values omitted; cluster_id/member_id/raft_term are the rpc
 * layer's and left out) must equal etcd's text.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdError } from '../../../src/api/errors.js';
import {
  emptyRangeRequest,
  type Compare,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from '../../../src/api/kv-types.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { KvStore } from '../../../src/mvcc/kv-store.js';
import { applyCompaction, applyDeleteRange, applyPut, applyRange, applyTxn } from '../../../src/server/apply-kv.js';

/** Renders a response as etcd's JSON gateway does. */
function gw(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.length === 0 ? undefined : v.toString('base64');
  if (typeof v === 'bigint') return v === 0n ? undefined : v.toString();
  if (typeof v === 'boolean') return v ? true : undefined;
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(gw);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if ((k === 'response' || k === 'request') && typeof x === 'string') continue; // oneof name
      const y = gw(x);
      if (y !== undefined) out[k] = y;
    }
    return out;
  }
  return v;
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function range(key: string, extra: Partial<RangeRequest> = {}): RangeRequest {
  return { ...emptyRangeRequest(b(key)), ...extra };
}

function put(key: string, value: string, extra: Partial<PutRequest> = {}): PutRequest {
  return { key: b(key), value: b(value), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false, ...extra };
}

function del(key: string, extra: Partial<DeleteRangeRequest> = {}): DeleteRangeRequest {
  return { key: b(key), range_end: Buffer.alloc(0), prev_kv: false, ...extra };
}

const opRange = (r: RangeRequest): RequestOp => ({ request: 'request_range', request_range: r });
const opPut = (p: PutRequest): RequestOp => ({ request: 'request_put', request_put: p });
const opDel = (d: DeleteRangeRequest): RequestOp => ({ request: 'request_delete_range', request_delete_range: d });
const opTxn = (t: TxnRequest): RequestOp => ({ request: 'request_txn', request_txn: t });

function cmp(key: string, target: number, result: number, union: Partial<Compare>, rangeEnd = ''): Compare {
  return { key: b(key), target, result, range_end: b(rangeEnd), ...union };
}

const T = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 };
const R = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 };
const nul = '\0';

let dir: string;
let backend: Backend;
let store: KvStore;

/** Applies a write in its own batch (as one raft entry) and renders the response or error. */
async function write(f: (batch: WriteBatch) => { resp: unknown }): Promise<string> {
  const batch = new WriteBatch();
  let out: string;
  try {
    out = JSON.stringify(gw(f(batch).resp));
  } catch (e) {
    if (!(e instanceof EtcdError)) throw e;
    out = `error: ${e.message}`;
  }
  await backend.commit(batch);
  return out;
}

function read(r: RangeRequest): string {
  try {
    return JSON.stringify(gw(applyRange(store, r)));
  } catch (e) {
    if (!(e instanceof EtcdError)) throw e;
    return `error: ${e.message}`;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'apply-kv-'));
  backend = await Backend.open(dir);
  store = await KvStore.open(backend);
  // rev 2 a=3, 3 b=1, 4 c=2, 5 a=1, 6 d=9, 7 b=5, 8 b=4
  for (const [k, v] of [['a', '3'], ['b', '1'], ['c', '2'], ['a', '1'], ['d', '9'], ['b', '5'], ['b', '4']] as const) {
    await write((batch) => applyPut(store, batch, put(k, v)));
  }
});

afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('apply-kv answers as etcd 3.4.23', () => {
  it('Range: sort targets and orders, limit and more, filters, count, keys_only, count_only, from-key, all keys', () => {
    const az = { range_end: b('z') };
    expect(read(range('a', { ...az, sort_target: 4, sort_order: 2, limit: 2n, keys_only: true }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"ZA==","create_revision":"6","mod_revision":"6","version":"1"},{"key":"Yg==","create_revision":"3","mod_revision":"8","version":"3"}],"more":true,"count":"4"}',
    );
    // a target other than KEY with order NONE sorts ascending
    expect(read(range('a', { ...az, sort_target: 1 }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"Yw==","create_revision":"4","mod_revision":"4","version":"1","value":"Mg=="},{"key":"ZA==","create_revision":"6","mod_revision":"6","version":"1","value":"OQ=="},{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2","value":"MQ=="},{"key":"Yg==","create_revision":"3","mod_revision":"8","version":"3","value":"NA=="}],"count":"4"}',
    );
    expect(read(range('a', { ...az, sort_target: 3, sort_order: 2, keys_only: true }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"Yg==","create_revision":"3","mod_revision":"8","version":"3"},{"key":"ZA==","create_revision":"6","mod_revision":"6","version":"1"},{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2"},{"key":"Yw==","create_revision":"4","mod_revision":"4","version":"1"}],"count":"4"}',
    );
    expect(read(range('a', { ...az, sort_order: 2, limit: 1n, keys_only: true }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"ZA==","create_revision":"6","mod_revision":"6","version":"1"}],"more":true,"count":"4"}',
    );
    // filters do not change count
    expect(read(range('a', { ...az, min_mod_revision: 5n, limit: 1n, keys_only: true }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2"}],"more":true,"count":"4"}',
    );
    expect(read(range('a', { ...az, max_create_revision: 3n, keys_only: true }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2"},{"key":"Yg==","create_revision":"3","mod_revision":"8","version":"3"}],"count":"4"}',
    );
    expect(read(range('a', { ...az, count_only: true, limit: 1n }))).toBe('{"header":{"revision":"8"},"count":"4"}');
    expect(read(range('a', { ...az, limit: 3n, keys_only: true }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2"},{"key":"Yg==","create_revision":"3","mod_revision":"8","version":"3"},{"key":"Yw==","create_revision":"4","mod_revision":"4","version":"1"}],"more":true,"count":"4"}',
    );
    // exactly `limit` keys: no more
    expect(read(range('a', { ...az, limit: 4n, keys_only: true }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2"},{"key":"Yg==","create_revision":"3","mod_revision":"8","version":"3"},{"key":"Yw==","create_revision":"4","mod_revision":"4","version":"1"},{"key":"ZA==","create_revision":"6","mod_revision":"6","version":"1"}],"count":"4"}',
    );
    // "\0" range end = every key ≥ key; an old revision; the header names the current one
    expect(read(range('b', { range_end: b(nul), revision: 4n }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"Yg==","create_revision":"3","mod_revision":"3","version":"1","value":"MQ=="},{"key":"Yw==","create_revision":"4","mod_revision":"4","version":"1","value":"Mg=="}],"count":"2"}',
    );
    expect(read(range(nul, { range_end: b(nul), count_only: true }))).toBe('{"header":{"revision":"8"},"count":"4"}');
    expect(read(range('a', { ...az, sort_target: 2, sort_order: 1, limit: 2n, max_mod_revision: 7n, keys_only: true }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2"},{"key":"Yw==","create_revision":"4","mod_revision":"4","version":"1"}],"more":true,"count":"4"}',
    );
    expect(read(range('a', { revision: -5n }))).toBe(
      '{"header":{"revision":"8"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2","value":"MQ=="}],"count":"1"}',
    );
    expect(read(range('a', { revision: 9n }))).toBe('error: etcdserver: mvcc: required revision is a future revision');
  });

  it('Put, DeleteRange, Txn and Compaction in sequence', async () => {
    expect(await write((bt) => applyPut(store, bt, put('e', '7', { prev_kv: true })))).toBe('{"header":{"revision":"9"}}');
    expect(await write((bt) => applyPut(store, bt, put('e', '', { ignore_value: true, prev_kv: true })))).toBe(
      '{"header":{"revision":"10"},"prev_kv":{"key":"ZQ==","create_revision":"9","mod_revision":"9","version":"1","value":"Nw=="}}',
    );
    expect(read(range('e'))).toBe(
      '{"header":{"revision":"10"},"kvs":[{"key":"ZQ==","create_revision":"9","mod_revision":"10","version":"2","value":"Nw=="}],"count":"1"}',
    );
    expect(await write((bt) => applyPut(store, bt, put('x', '', { ignore_value: true })))).toBe('error: etcdserver: key not found');
    expect(await write((bt) => applyPut(store, bt, put('x', '', { lease: 5n })))).toBe('error: etcdserver: requested lease not found');
    // nothing deleted: no new revision
    expect(await write((bt) => applyDeleteRange(store, bt, del('zz', { prev_kv: true })))).toBe('{"header":{"revision":"10"}}');
    expect(await write((bt) => applyDeleteRange(store, bt, del('c', { range_end: b('e'), prev_kv: true })))).toBe(
      '{"header":{"revision":"11"},"deleted":"2","prev_kvs":[{"key":"Yw==","create_revision":"4","mod_revision":"4","version":"1","value":"Mg=="},{"key":"ZA==","create_revision":"6","mod_revision":"6","version":"1","value":"OQ=="}]}',
    );
    // reads in a txn see its own delete; a range at an old revision does not; one revision for all
    const t1: TxnRequest = {
      compare: [cmp('a', T.VALUE, R.EQUAL, { target_union: 'value', value: b('1') })],
      success: [opDel(del('a', { prev_kv: true })), opRange(range('a')), opRange(range('a', { revision: 5n })), opPut(put('f', 'x', { prev_kv: true })), opDel(del('zz'))],
      failure: [],
    };
    expect(await write((bt) => applyTxn(store, bt, t1))).toBe(
      '{"header":{"revision":"12"},"succeeded":true,"responses":[{"response_delete_range":{"header":{"revision":"12"},"deleted":"1","prev_kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2","value":"MQ=="}]}},{"response_range":{"header":{"revision":"12"}}},{"response_range":{"header":{"revision":"12"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2","value":"MQ=="}],"count":"1"}},{"response_put":{"header":{"revision":"12"}}},{"response_delete_range":{"header":{"revision":"12"}}}]}',
    );
    expect(await write((bt) => applyTxn(store, bt, { compare: [], success: [opRange(range('a', { revision: 99n }))], failure: [] }))).toBe(
      'error: etcdserver: mvcc: required revision is a future revision',
    );
    // the create idiom: create_revision = 0 on an absent key
    expect(
      await write((bt) =>
        applyTxn(store, bt, { compare: [cmp('new', T.CREATE, R.EQUAL, { target_union: 'create_revision', create_revision: 0n })], success: [opPut(put('new', '1'))], failure: [] }),
      ),
    ).toBe('{"header":{"revision":"13"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"13"}}}]}');
    // every key in a range must satisfy the compare
    expect(await write((bt) => applyTxn(store, bt, { compare: [cmp('a', T.VERSION, R.GREATER, { target_union: 'version', version: 0n }, 'z')], success: [], failure: [] }))).toBe(
      '{"header":{"revision":"13"},"succeeded":true}',
    );
    // a VALUE compare on an absent key is false, even NOT_EQUAL
    expect(await write((bt) => applyTxn(store, bt, { compare: [cmp('nope', T.VALUE, R.NOT_EQUAL, { target_union: 'value', value: b('x') })], success: [], failure: [] }))).toBe(
      '{"header":{"revision":"13"}}',
    );
    // a nested txn's response has an empty header
    const nested: TxnRequest = {
      compare: [cmp('new', T.VERSION, R.EQUAL, { target_union: 'version', version: 5n })],
      success: [opPut(put('s', ''))],
      failure: [opPut(put('g', '1')), opRange(range('g'))],
    };
    expect(await write((bt) => applyTxn(store, bt, { compare: [], success: [opTxn(nested)], failure: [] }))).toBe(
      '{"header":{"revision":"14"},"succeeded":true,"responses":[{"response_txn":{"header":{},"responses":[{"response_put":{"header":{"revision":"14"}}},{"response_range":{"header":{"revision":"14"},"kvs":[{"key":"Zw==","create_revision":"14","mod_revision":"14","version":"1","value":"MQ=="}],"count":"1"}}]}}]}',
    );
    // an unknown lease in the branch not taken does not matter; in the taken one it fails the txn
    const lease7 = put('g', '', { lease: 7n });
    expect(
      await write((bt) =>
        applyTxn(store, bt, { compare: [cmp('new', T.VERSION, R.EQUAL, { target_union: 'version', version: 1n })], success: [opRange(range('g'))], failure: [opPut(lease7)] }),
      ),
    ).toBe('{"header":{"revision":"14"},"succeeded":true,"responses":[{"response_range":{"header":{"revision":"14"},"kvs":[{"key":"Zw==","create_revision":"14","mod_revision":"14","version":"1","value":"MQ=="}],"count":"1"}}]}');
    expect(await write((bt) => applyTxn(store, bt, { compare: [], success: [opPut(lease7)], failure: [] }))).toBe('error: etcdserver: requested lease not found');
    expect(store.rev()).toBe(14n);
    expect(await write((bt) => applyCompaction(store, bt, { revision: 3n, physical: false }))).toBe('{"header":{"revision":"14"}}');
    expect(read(range('a', { revision: 2n }))).toBe('error: etcdserver: mvcc: required revision has been compacted');
    expect(read(range('b', { revision: 3n }))).toBe(
      '{"header":{"revision":"14"},"kvs":[{"key":"Yg==","create_revision":"3","mod_revision":"3","version":"1","value":"MQ=="}],"count":"1"}',
    );
    expect(await write((bt) => applyTxn(store, bt, { compare: [], success: [opRange(range('b', { revision: 2n }))], failure: [] }))).toBe(
      'error: etcdserver: mvcc: required revision has been compacted',
    );
    expect(await write((bt) => applyCompaction(store, bt, { revision: 3n, physical: false }))).toBe(
      'error: etcdserver: mvcc: required revision has been compacted',
    );
    expect(await write((bt) => applyCompaction(store, bt, { revision: 15n, physical: false }))).toBe(
      'error: etcdserver: mvcc: required revision is a future revision',
    );
  });
});

describe('apply-kv answers as etcd 3.4.23 on a fresh store', () => {
  it('a txn range at a negative revision below the compacted mark (-1 when never compacted) is "compacted"', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'apply-kv-'));
    const be = await Backend.open(d);
    const st = await KvStore.open(be);
    const run = (t: TxnRequest): string => {
      try {
        const batch = new WriteBatch();
        const out = JSON.stringify(gw(applyTxn(st, batch, t).resp));
        void be.commit(batch);
        return out;
      } catch (e) {
        if (!(e instanceof EtcdError)) throw e;
        return `error: ${e.message}`;
      }
    };
    expect(run({ compare: [], success: [opRange(range('a', { revision: -5n }))], failure: [] })).toBe(
      'error: etcdserver: mvcc: required revision has been compacted',
    );
    expect(run({ compare: [], success: [opRange(range('a', { revision: -1n }))], failure: [] })).toBe(
      '{"header":{"revision":"1"},"succeeded":true,"responses":[{"response_range":{"header":{"revision":"1"}}}]}',
    );
    const batch = new WriteBatch();
    applyPut(st, batch, put('a', '1'));
    void be.commit(batch);
    // a range before the txn's first write reports the revision before it
    expect(run({ compare: [], success: [opRange(range('a', { revision: -1n })), opPut(put('b', ''))], failure: [] })).toBe(
      '{"header":{"revision":"3"},"succeeded":true,"responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","value":"MQ=="}],"count":"1"}},{"response_put":{"header":{"revision":"3"}}}]}',
    );
    await be.close();
    rmSync(d, { recursive: true, force: true });
  });
});
