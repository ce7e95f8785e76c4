/**
 * Apply semantics of the KV API over the MVCC store, as etcd's apply.go (v3.4, checked against
 * a live etcd 3.4.23). Everything here is synchronous and reads only the request and the store,
 * so every member computes the same result from the same entry.
 *
 * Invariants: a request that fails here changes nothing (every check runs before the first
 * write); a write request consumes at most one revision; a txn whose taken path has no write
 * consumes none; the events returned are exactly the changes made, in order.
 */
import { AssertionError } from '../base/assert.js';
import { compareBytes } from '../base/bytes.js';
import { EtcdError, Errors } from '../api/errors.js';
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type Event,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from '../api/kv-types.js';
import type { WriteBatch } from '../storage/backend.js';
import type { KvStore, RangeOptions, RangeResult, WriteTxn } from '../mvcc/kv-store.js';

/** etcd's mkGteRange: "\0" means "every key ≥ key" (empty end); empty means the single key (null). */
export function rangeEnd(end: Buffer): Buffer | null {
  if (end.length === 0) return null;
  if (end.length === 1 && end[0] === 0) return Buffer.alloc(0);
  return end;
}

/** What a request reads through: the store (read-only) or the open write transaction. */
interface KvReader {
  range(key: Buffer, end: Buffer | null, opts: RangeOptions): RangeResult;
}

export interface WriteResult<T> {
  resp: T;
  /** The changes, in order, for watchers. */
  events: Event[];
}

// ---- Range ----

function stripValue(kv: KeyValue): KeyValue {
  return { ...kv, value: Buffer.alloc(0) };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The ascending comparator of a sort target; null for a target etcd does not know. */
function sorter(target: number): ((a: KeyValue, b: KeyValue) => number) | null {
  switch (target) {
    case SortTarget.KEY:
      return (a, b) => compareBytes(a.key, b.key);
    case SortTarget.VERSION:
      return (a, b) => cmpBig(a.version, b.version);
    case SortTarget.CREATE:
      return (a, b) => cmpBig(a.create_revision, b.create_revision);
    case SortTarget.MOD:
      return (a, b) => cmpBig(a.mod_revision, b.mod_revision);
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return null;
  }
}

/** The sort order etcd applies: a target other than KEY with order NONE sorts ascending. */
export function effectiveSortOrder(r: Pick<RangeRequest, 'sort_order' | 'sort_target'>): number {
  if (r.sort_target !== SortTarget.KEY && r.sort_order === SortOrder.NONE) return SortOrder.ASCEND;
  return r.sort_order;
}

/**
 * etcd applierV3backend.Range. With a sort or a min/max filter everything in the range is
 * fetched, then filtered, sorted and truncated; otherwise limit+1 are fetched to tell `more`.
 * `count` is the number of keys in the range at the revision, whatever the limit and filters.
 * Sorting is stable (ties stay in key order); etcd's Go sort agrees for up to 12 keys.
 */
function doRange(reader: KvReader, r: RangeRequest): RangeResponse {
  let limit = r.limit;
  if (
    r.sort_order !== SortOrder.NONE ||
    r.min_mod_revision !== 0n ||
    r.max_mod_revision !== 0n ||
    r.min_create_revision !== 0n ||
    r.max_create_revision !== 0n
  ) {
    limit = 0n;
  }
  if (limit > 0n) limit += 1n;
  const rr = reader.range(r.key, rangeEnd(r.range_end), {
    rev: r.revision,
    limit: limit > 0n ? Number(limit) : 0,
    countOnly: r.count_only,
  });
  let kvs = rr.kvs;
  if (r.max_mod_revision !== 0n) kvs = kvs.filter((kv) => kv.mod_revision <= r.max_mod_revision);
  if (r.min_mod_revision !== 0n) kvs = kvs.filter((kv) => kv.mod_revision >= r.min_mod_revision);
  if (r.max_create_revision !== 0n) kvs = kvs.filter((kv) => kv.create_revision <= r.max_create_revision);
  if (r.min_create_revision !== 0n) kvs = kvs.filter((kv) => kv.create_revision >= r.min_create_revision);
  const order = effectiveSortOrder(r);
  if (order === SortOrder.ASCEND || order === SortOrder.DESCEND) {
    const cmp = sorter(r.sort_target);
    // etcd 3.4 crashes here (nil sorter); kv-checks rejects such requests before they get here.
    if (!cmp) throw new EtcdError(Errors.InvalidSortOption);
    kvs = [...kvs].sort(order === SortOrder.DESCEND ? (a, b) => cmp(b, a) : cmp);
  }
  let more = false;
  if (r.limit > 0n && BigInt(kvs.length) > r.limit) {
    kvs = kvs.slice(0, Number(r.limit));
    more = true;
  }
  if (r.keys_only) kvs = kvs.map(stripValue);
  return { header: { revision: rr.rev }, kvs, more, count: BigInt(rr.count) };
}

export function applyRange(store: KvStore, r: RangeRequest): RangeResponse {
  return doRange(store, r);
}

// ---- Put / DeleteRange ----

function doPut(txn: WriteTxn, p: PutRequest): PutResponse {
  let prev: KeyValue | null = null;
  if (p.ignore_value || p.ignore_lease || p.prev_kv) prev = txn.range(p.key, null, {}).kvs[0] ?? null;
  if ((p.ignore_value || p.ignore_lease) && !prev) throw new EtcdError(Errors.KeyNotFound);
  const value = p.ignore_value && prev ? prev.value : p.value;
  const lease = p.ignore_lease && prev ? prev.lease : p.lease;
  const revision = txn.put(p.key, value, lease);
  return { header: { revision }, prev_kv: p.prev_kv ? prev : null };
}

function doDelete(txn: WriteTxn, dr: DeleteRangeRequest): DeleteRangeResponse {
  const deleted = txn.deleteRange(dr.key, rangeEnd(dr.range_end));
  // etcd TxnWrite.DeleteRange: beginRev + 1 once the txn changed anything, else beginRev.
  return { header: { revision: txn.rev() }, deleted: BigInt(deleted.length), prev_kvs: dr.prev_kv ? deleted : [] };
}

/** Runs fn in a write transaction; a failure must leave the transaction without changes. */
function inWriteTxn<T>(store: KvStore, batch: WriteBatch, fn: (txn: WriteTxn) => T): WriteResult<T> {
  const txn = store.write(batch);
  let resp: T;
  try {
    resp = fn(txn);
  } catch (err) {
    if (txn.changed()) {
      // Half a request is in the index and the batch: members would diverge (etcd panics).
      throw new AssertionError(`request failed after writing: ${String(err)}`);
    }
    txn.end();
    throw err;
  }
  return { resp, events: txn.end() };
}

/**
 * etcd applierV3backend.Put outside a txn: the lease must exist (checked first), ignore_value /
 * ignore_lease need an existing key ("etcdserver: key not found").
 */
export function applyPut(store: KvStore, batch: WriteBatch, p: PutRequest): WriteResult<PutResponse> {
  if (p.lease !== 0n && !store.leases.exists(p.lease)) throw new EtcdError(Errors.LeaseNotFound);
  return inWriteTxn(store, batch, (txn) => doPut(txn, p));
}

export function applyDeleteRange(store: KvStore, batch: WriteBatch, dr: DeleteRangeRequest): WriteResult<DeleteRangeResponse> {
  return inWriteTxn(store, batch, (txn) => doDelete(txn, dr));
}

// ---- Txn ----

/** etcd compareKV: an unknown target compares as equal, an unknown result holds. */
function compareKv(c: Compare, kv: KeyValue): boolean {
  let r = 0;
  switch (c.target) {
    case CompareTarget.VALUE:
      r = compareBytes(kv.value, c.target_union === 'value' && c.value ? c.value : Buffer.alloc(0));
      break;
    case CompareTarget.VERSION:
      r = cmpBig(kv.version, c.target_union === 'version' ? (c.version ?? 0n) : 0n);
      break;
    case CompareTarget.CREATE:
      r = cmpBig(kv.create_revision, c.target_union === 'create_revision' ? (c.create_revision ?? 0n) : 0n);
      break;
    case CompareTarget.MOD:
      r = cmpBig(kv.mod_revision, c.target_union === 'mod_revision' ? (c.mod_revision ?? 0n) : 0n);
      break;
    case CompareTarget.LEASE:
      r = cmpBig(kv.lease, c.target_union === 'lease' ? (c.lease ?? 0n) : 0n);
      break;
    default:
      break;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return r === 0;
    case CompareResult.NOT_EQUAL:
      return r !== 0;
    case CompareResult.GREATER:
      return r > 0;
    case CompareResult.LESS:
      return r < 0;
    default:
      return true;
  }
}

const absentKv: KeyValue = {
  key: Buffer.alloc(0),
  create_revision: 0n,
  mod_revision: 0n,
  version: 0n,
  value: Buffer.alloc(0),
  lease: 0n,
};

/**
 * etcd applyCompare: every key in [key, range_end) must satisfy the compare; with no key, the
 * compare is against zeros (so `create_revision = 0` means absent), except that a VALUE compare
 * on no key is false.
 */
function applyCompare(reader: KvReader, c: Compare): boolean {
  let kvs: KeyValue[];
  try {
    kvs = reader.range(c.key, rangeEnd(c.range_end), {}).kvs;
  } catch (err) {
    if (err instanceof EtcdError) return false;
    throw err;
  }
  if (kvs.length === 0) return c.target === CompareTarget.VALUE ? false : compareKv(c, absentKv);
  return kvs.every((kv) => compareKv(c, kv));
}

function branch(t: TxnRequest, ok: boolean): RequestOp[] {
  return ok ? t.success : t.failure;
}

/** etcd compareToPath: the branch taken at every txn, outer first, decided before any write. */
function compareToPath(reader: KvReader, t: TxnRequest, path: boolean[] = []): boolean[] {
  const ok = t.compare.every((c) => applyCompare(reader, c));
  path.push(ok);
  for (const op of branch(t, ok)) if (op.request === 'request_txn' && op.request_txn) compareToPath(reader, op.request_txn, path);
  return path;
}

/** etcd isTxnReadonly: no put or delete in any branch, nested ones included. */
export function isTxnReadonly(t: TxnRequest): boolean {
  for (const op of [...t.success, ...t.failure]) {
    if (op.request === 'request_put' || op.request === 'request_delete_range') return false;
    if (op.request === 'request_txn' && op.request_txn && !isTxnReadonly(op.request_txn)) return false;
  }
  return true;
}

/** A cursor over the txn path, consumed in the order compareToPath produced it. */
interface PathCursor {
  path: boolean[];
  i: number;
}

function nextBranch(t: TxnRequest, at: PathCursor): { ok: boolean; ops: RequestOp[] } {
  const ok = at.path[at.i++];
  if (ok === undefined) throw new AssertionError('txn path exhausted');
  return { ok, ops: branch(t, ok) };
}

/** etcd checkRequests: runs check on every non-txn op of the taken path, nested ones included. */
function checkRequests(t: TxnRequest, at: PathCursor, check: (op: RequestOp) => void): void {
  for (const op of nextBranch(t, at).ops) {
    if (op.request === 'request_txn' && op.request_txn) checkRequests(op.request_txn, at, check);
    else check(op);
  }
}

/** etcd checkRequestPut: ignore_* need the key; a lease must exist. */
function checkRequestPut(store: KvStore, op: RequestOp): void {
  if (op.request !== 'request_put' || !op.request_put) return;
  const p = op.request_put;
  if (p.ignore_value || p.ignore_lease) {
    if (store.range(p.key, null, {}).kvs.length === 0) throw new EtcdError(Errors.KeyNotFound);
  }
  if (p.lease !== 0n && !store.leases.exists(p.lease)) throw new EtcdError(Errors.LeaseNotFound);
}

/** etcd checkRequestRange: a range at an explicit revision must be readable now. */
function checkRequestRange(store: KvStore, op: RequestOp): void {
  if (op.request !== 'request_range' || !op.request_range) return;
  const rev = op.request_range.revision;
  if (rev === 0n) return;
  if (rev > store.rev()) throw new EtcdError(Errors.FutureRev);
  if (rev < store.compactRev()) throw new EtcdError(Errors.Compacted);
}

/**
 * Runs the taken path. Responses of nested txns carry an empty header (revision 0), as etcd's
 * newTxnResp; range/put/delete responses carry their own revision.
 */
function execTxn(reader: KvReader, txn: WriteTxn | null, t: TxnRequest, at: PathCursor): TxnResponse {
  const { ok, ops } = nextBranch(t, at);
  const responses: ResponseOp[] = [];
  for (const op of ops) {
    switch (op.request) {
      case 'request_range':
        responses.push({ response: 'response_range', response_range: doRange(reader, op.request_range as RangeRequest) });
        break;
      case 'request_put':
        if (!txn) throw new AssertionError('put in a read-only txn');
        responses.push({ response: 'response_put', response_put: doPut(txn, op.request_put as PutRequest) });
        break;
      case 'request_delete_range':
        if (!txn) throw new AssertionError('delete in a read-only txn');
        responses.push({ response: 'response_delete_range', response_delete_range: doDelete(txn, op.request_delete_range as DeleteRangeRequest) });
        break;
      case 'request_txn':
        if (op.request_txn) responses.push({ response: 'response_txn', response_txn: execTxn(reader, txn, op.request_txn, at) });
        break;
      default:
        // kv-checks rejects empty ops before proposing ("key not found").
        throw new EtcdError(Errors.KeyNotFound);
    }
  }
  return { header: { revision: 0n }, succeeded: ok, responses };
}

/**
 * etcd applierV3backend.Txn: compares (nested ones too) are evaluated first against the store;
 * then, along the taken path, puts are checked if the txn has a write anywhere, and ranges at
 * explicit revisions; then the path runs in one write transaction (one revision for all its
 * writes), or as a plain read when no branch writes.
 */
export function applyTxn(store: KvStore, batch: WriteBatch, t: TxnRequest): WriteResult<TxnResponse> {
  const path = compareToPath(store, t);
  const write = !isTxnReadonly(t);
  if (write) checkRequests(t, { path, i: 0 }, (op) => checkRequestPut(store, op));
  checkRequests(t, { path, i: 0 }, (op) => checkRequestRange(store, op));
  if (!write) {
    const resp = execTxn(store, null, t, { path, i: 0 });
    resp.header = { revision: store.rev() };
    return { resp, events: [] };
  }
  return inWriteTxn(store, batch, (txn) => {
    const resp = execTxn(txn, txn, t, { path, i: 0 });
    resp.header = { revision: txn.rev() };
    return resp;
  });
}

// ---- Compaction ----

export interface CompactResult {
  resp: CompactionResponse;
  /** The store revision after the compaction (the response header's). */
  revision: bigint;
  /** Resolves once the compacted records are deleted from disk (CompactionRequest.physical). */
  physical: Promise<void>;
}

export function applyCompaction(store: KvStore, batch: WriteBatch, c: CompactionRequest): CompactResult {
  const physical = store.compact(c.revision, batch);
  const revision = store.rev();
  return { resp: { header: { revision } }, revision, physical };
}
