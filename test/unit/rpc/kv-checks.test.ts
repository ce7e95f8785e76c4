import { describe, expect, it } from 'vitest';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import type { RequestOp, TxnRequest } from '../../../src/api/kv-types.js';
import { checkPut, checkTxn } from '../../../src/rpc/kv-checks.js';

const put = (k: string): RequestOp => ({
  request: 'request_put',
  request_put: { key: Buffer.from(k), value: Buffer.from('v'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false },
});
const del = (k: string, end = ''): RequestOp => ({
  request: 'request_delete_range',
  request_delete_range: { key: Buffer.from(k), range_end: Buffer.from(end), prev_kv: false },
});
const txn = (success: RequestOp[], failure: RequestOp[] = []): TxnRequest => ({ compare: [], success, failure });
const nested = (success: RequestOp[], failure: RequestOp[] = []): RequestOp => ({ request: 'request_txn', request_txn: txn(success, failure) });

function errorOf(f: () => void): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return e instanceof EtcdError ? e.message : String(e);
  }
}

describe('KV request checks (etcd v3rpc/key.go)', () => {
  it('rejects ignore_value with a value and ignore_lease with a lease', () => {
    const p = put('k').request_put as NonNullable<RequestOp['request_put']>;
    expect(errorOf(() => checkPut({ ...p, ignore_value: true }))).toBe(Errors.ValueProvided.message);
    expect(errorOf(() => checkPut({ ...p, ignore_lease: true, lease: 5n }))).toBe(Errors.LeaseProvided.message);
    expect(errorOf(() => checkPut({ ...p, key: Buffer.alloc(0) }))).toBe(Errors.EmptyKey.message);
  });

  it('limits the operations of a txn to --max-txn-ops', () => {
    expect(errorOf(() => checkTxn(txn([put('a'), put('b'), put('c')]), 2))).toBe(Errors.TooManyOps.message);
    expect(errorOf(() => checkTxn(txn([put('a'), put('b')]), 2))).toBeNull();
  });

  it('rejects an empty request op with "key not found"', () => {
    expect(errorOf(() => checkTxn(txn([{}]), 128))).toBe(Errors.KeyNotFound.message);
  });

  it('finds duplicate keys: twice in a branch, inside a deleted range, across nested txns', () => {
    expect(errorOf(() => checkTxn(txn([put('a'), put('a')]), 128))).toBe(Errors.DuplicateKey.message);
    expect(errorOf(() => checkTxn(txn([del('a', 'c'), put('b')]), 128))).toBe(Errors.DuplicateKey.message);
    expect(errorOf(() => checkTxn(txn([put('a'), nested([put('a')])]), 128))).toBe(Errors.DuplicateKey.message);
    // then/else of a nested txn exclude each other: the same key in both is fine.
    expect(errorOf(() => checkTxn(txn([nested([put('a')], [put('a')])]), 128))).toBeNull();
    // success and failure branches are checked separately.
    expect(errorOf(() => checkTxn(txn([put('a')], [put('a')]), 128))).toBeNull();
    expect(errorOf(() => checkTxn(txn([del('a'), put('b')]), 128))).toBeNull();
  });
});
