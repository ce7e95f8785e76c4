/**
 * KV request checks against etcd 3.4.23's answers (recorded through its JSON gateway): which
 * requests it refuses before proposing, and with which error; which odd ones it lets through.
 */
import { describe, expect, it } from 'vitest';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import { emptyRangeRequest, type RangeRequest, type RequestOp, type TxnRequest } from '../../../src/api/kv-types.js';
import { checkDelete, checkPut, checkRange, checkTxn } from '../../../src/rpc/kv-checks.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const put = (k: string): RequestOp => ({
  request: 'request_put',
  request_put: { key: b(k), value: b(''), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false },
});
const del = (k: string, end = ''): RequestOp => ({ request: 'request_delete_range', request_delete_range: { key: b(k), range_end: b(end), prev_kv: false } });
const rng = (r: Partial<RangeRequest> & { key: Buffer }): RequestOp => ({ request: 'request_range', request_range: { ...emptyRangeRequest(r.key), ...r } });
const txn = (success: RequestOp[], failure: RequestOp[] = [], compare: TxnRequest['compare'] = []): TxnRequest => ({ compare, success, failure });
const nested = (success: RequestOp[], failure: RequestOp[] = []): RequestOp => ({ request: 'request_txn', request_txn: txn(success, failure) });

function answer(f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof EtcdError) return e.message;
    throw e;
  }
}
const txnAnswer = (t: TxnRequest, maxTxnOps = 128): string => answer(() => checkTxn(t, maxTxnOps));
const dup = Errors.DuplicateKey.message;

describe('KV request checks as etcd 3.4.23', () => {
  it('duplicate keys: put vs delete at one level and across nested txns', () => {
    // a "\0" range end is a literal key for the overlap check: etcd lets this through
    expect(txnAnswer(txn([del('a', '\0'), put('b')]))).toBe('ok');
    // an inverted range covers nothing
    expect(txnAnswer(txn([del('c', 'a'), put('b')]))).toBe('ok');
    expect(txnAnswer(txn([del('a', 'c'), put('b')]))).toBe(dup);
    expect(txnAnswer(txn([del('a', 'c'), put('c')]))).toBe('ok');
    // this level's puts are checked against nested deletes…
    expect(txnAnswer(txn([put('b'), nested([del('b')])]))).toBe(dup);
    // …but a nested put only against deletes seen before it
    expect(txnAnswer(txn([nested([put('b')]), nested([], [del('b')])]))).toBe('ok');
    expect(txnAnswer(txn([nested([del('b')]), nested([], [put('b')])]))).toBe(dup);
    // then/else of one nested txn exclude each other; of two nested txns they do not
    expect(txnAnswer(txn([nested([put('b')], [put('b')])]))).toBe('ok');
    expect(txnAnswer(txn([nested([put('b')]), nested([], [put('b')])]))).toBe(dup);
    // deletes may repeat
    expect(txnAnswer(txn([del('q'), del('q')]))).toBe('ok');
    expect(txnAnswer(txn([put('q'), put('q')]))).toBe(dup);
    // branches are independent
    expect(txnAnswer(txn([put('q')], [put('q')]))).toBe('ok');
  });

  it('empty ops, empty keys, ignore flags', () => {
    expect(txnAnswer(txn([{}]))).toBe(Errors.KeyNotFound.message);
    expect(txnAnswer(txn([], [], [{ key: b(''), target: 0, result: 0, range_end: b('') }]))).toBe(Errors.EmptyKey.message);
    expect(txnAnswer(txn([rng({ key: b('') })]))).toBe(Errors.EmptyKey.message);
    expect(answer(() => checkRange(emptyRangeRequest(b(''))))).toBe(Errors.EmptyKey.message);
    expect(answer(() => checkDelete({ key: b(''), range_end: b('z'), prev_kv: false }))).toBe(Errors.EmptyKey.message);
    const p = put('k').request_put as NonNullable<RequestOp['request_put']>;
    expect(answer(() => checkPut({ ...p, ignore_value: true, value: b('v') }))).toBe(Errors.ValueProvided.message);
    expect(answer(() => checkPut({ ...p, ignore_value: true }))).toBe('ok');
    expect(answer(() => checkPut({ ...p, ignore_lease: true, lease: 3n }))).toBe(Errors.LeaseProvided.message);
    expect(txnAnswer(txn([{ request: 'request_put', request_put: { ...p, ignore_lease: true, lease: 3n } }]))).toBe(Errors.LeaseProvided.message);
  });

  it('--max-txn-ops bounds max(compares, success, failure), and nested txns get what is left', () => {
    const c = { key: b('k'), target: 0, result: 0, range_end: b('') };
    expect(txnAnswer(txn([put('a')], [], [c, c, c]), 2)).toBe(Errors.TooManyOps.message);
    expect(txnAnswer(txn([put('a'), put('b')], [put('c')]), 2)).toBe('ok');
    expect(txnAnswer(txn([], [put('a'), put('b'), put('c')]), 2)).toBe(Errors.TooManyOps.message);
    // 2 ops at the top leave 1 for a nested txn
    expect(txnAnswer(txn([put('a'), nested([put('b')])]), 3)).toBe('ok');
    expect(txnAnswer(txn([put('a'), nested([put('b'), put('c')])]), 3)).toBe(Errors.TooManyOps.message);
  });

  it('sort options: etcd 3.4 ignores an unknown order and crashes on an unknown target it sorts by; we refuse those', () => {
    const r = (sort_order: number, sort_target: number): string => answer(() => checkRange({ ...emptyRangeRequest(b('a')), sort_order, sort_target }));
    expect(r(7, 0)).toBe('ok');
    expect(r(7, 9)).toBe('ok');
    expect(r(0, 9)).toBe(Errors.InvalidSortOption.message);
    expect(r(1, 9)).toBe(Errors.InvalidSortOption.message);
    expect(r(2, 5)).toBe(Errors.InvalidSortOption.message);
    expect(r(2, 4)).toBe('ok');
    expect(txnAnswer(txn([rng({ key: b('a'), sort_target: 9 })]))).toBe(Errors.InvalidSortOption.message);
  });
});
