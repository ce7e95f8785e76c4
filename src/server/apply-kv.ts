/**
 * Apply semantics of the KV API over the MVCC store, as etcd's apply.go (v3.4/3.5). Everything
 * here is synchronous and reads only the request and the store, so every member computes the
 * same result from the same entry.
 */
import { compareBytes } from '../base/bytes.js';
import { EtcdError, Errors } from '../api/errors.js';
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type CompactionRequest,
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
import type { KvStore, WriteTxn } from '../mvcc/kv-store.js';

/** etcd's mkGteRange: "\0" means "every key ≥ key"; empty means the single key. */
export function rangeEnd(end: Buffer): Buffer | null {
  if (end.length === 0) return null;
  if (end.length === 1 && end[0] === 0) return Buffer.alloc(0);
  return end;
}

interface ReadView {
  range(key: Buffer, end: Buffer | null, limit: number, countOnly: boolean, rev: bigint): { kvs: KeyValue[]; count: number; rev: bigint };
}

function storeView(store: KvStore): ReadView {
  return {
    range: (key, end, limit, countOnly, rev) => store.range(key, end, { rev, limit, countOnly }),
  };
}

function txnView(txn: WriteTxn, store: KvStore): ReadView {
  return {
    range: (key, end, limit, countOnly, rev) =>
      rev > 0n && rev !== txn.rev()
        ? { ...store.range(key, end, { rev, limit, countOnly }), rev: txn.rev() }
        : txn.range(key, end, limit, countOnly),
  };
}

function stripValue(kv: KeyValue): KeyValue {
  return { ...kv, value: Buffer.alloc(0) };
}

function doRange(view: ReadView, r: RangeRequest): RangeResponse {
  let limit = r.limit;
  const filtered =
    r.sort_order !== SortOrder.NONE ||
    r.min_mod_revision !== 0n ||
    r.max_mod_revision !== 0n ||
    r.min_create_revision !== 0n ||
    r.max_create_revision !== 0n;
  if (filtered) limit = 0n;
  if (limit > 0n) limit += 1n; // one more, to tell whether there are more
  const rr = view.range(r.key, rangeEnd(r.range_end), Number(limit), r.count_only, r.revision);
  let kvs = rr.kvs;
  if (r.max_mod_revision !== 0n) kvs = kvs.filter((kv) => kv.mod_revision <= r.max_mod_revision);
  if (r.min_mod_revision !== 0n) kvs = kvs.filter((kv) => kv.mod_revision >= r.min_mod_revision);
  if (r.max_create_revision !== 0n) kvs = kvs.filter((kv) => kv.create_revision <= r.max_create_revision);
  if (r.min_create_revision !== 0n) kvs = kvs.filter((kv) => kv.create_revision >= r.min_create_revision);
  let order = r.sort_order;
  if (r.sort_target !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  if (order !== SortOrder.NONE) {
    const cmp = sorter(r.sort_target);
    kvs = [...kvs].sort(order === SortOrder.DESCEND ? (a, b) => cmp(b, a) : cmp);
  }
  let more = false;
  if (r.limit > 0n && kvs.length > Number(r.limit)) {
    kvs = kvs.slice(0, Number(r.limit));
    more = true;
  }
  if (r.keys_only) kvs = kvs.map(stripValue);
  return { header: { revision: rr.rev }, kvs, more, count: BigInt(rr.count) };
}

function sorter(target: number): (a: KeyValue, b: KeyValue) => number {
  const num = (f: (kv: KeyValue) => bigint) => (a: KeyValue, b: KeyValue) => {
    const x = f(a);
    const y = f(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  switch (target) {
    case SortTarget.VERSION:
      return num((kv) => kv.version);
    case SortTarget.CREATE:
      return num((kv) => kv.create_revision);
    case SortTarget.MOD:
      return num((kv) => kv.mod_revision);
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return (a, b) => compareBytes(a.key, b.key);
  }
}

export function applyRange(store: KvStore, r: RangeRequest): RangeResponse {
  return doRange(storeView(store), r);
}

/** Checks a put can apply (etcd checkPut): lease exists, ignore_* need an existing key. */
function checkPut(view: ReadView, store: KvStore, p: PutRequest): void {
  if (p.ignore_value || p.ignore_lease) {
    const cur = view.range(p.key, null, 0, false, 0n).kvs[0];
    if (!cur) throw new EtcdError(Errors.KeyNotFound);
  }
  if (p.lease !== 0n && !store.leases.exists(p.lease)) throw new EtcdError(Errors.LeaseNotFound);
}

function doPut(txn: WriteTxn, store: KvStore, p: PutRequest): PutResponse {
  const view = txnView(txn, store);
  checkPut(view, store, p);
  const prev = view.range(p.key, null, 0, false, 0n).kvs[0] ?? null;
  let value = p.value;
  let lease = p.lease;
  if (prev) {
    if (p.ignore_value) value = prev.value;
    if (p.ignore_lease) lease = prev.lease;
  }
  const rev = txn.put(p.key, value, lease);
  return { header: { revision: rev }, prev_kv: p.prev_kv ? prev : null };
}

function doDelete(txn: WriteTxn, dr: DeleteRangeRequest): DeleteRangeResponse {
  const deleted = txn.deleteRange(dr.key, rangeEnd(dr.range_end));
  return {
    header: { revision: deleted.length > 0 || txn.changed() ? txn.beginRev + 1n : txn.beginRev },
    deleted: BigInt(deleted.length),
    prev_kvs: dr.prev_kv ? deleted : [],
  };
}

export interface WriteResult<T> {
  resp: T;
  events: Event[];
}

export function applyPut(store: KvStore, batch: WriteBatch, p: PutRequest): WriteResult<PutResponse> {
  const txn = store.write(batch);
  // The check runs before any write so a failed put consumes no revision.
  checkPut(txnView(txn, store), store, p);
  const resp = doPut(txn, store, p);
  return { resp, events: txn.end() };
}

export function applyDeleteRange(store: KvStore, batch: WriteBatch, dr: DeleteRangeRequest): WriteResult<DeleteRangeResponse> {
  const txn = store.write(batch);
  const resp = doDelete(txn, dr);
  return { resp, events: txn.end() };
}

function compareInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  let r: number;
  switch (c.target) {
    case CompareTarget.VALUE:
      r = compareBytes(kv.value, c.target_union === 'value' && c.value ? c.value : Buffer.alloc(0));
      break;
    case CompareTarget.VERSION:
      r = compareInt(kv.version, c.target_union === 'version' ? (c.version ?? 0n) : 0n);
      break;
    case CompareTarget.CREATE:
      r = compareInt(kv.create_revision, c.target_union === 'create_revision' ? (c.create_revision ?? 0n) : 0n);
      break;
    case CompareTarget.MOD:
      r = compareInt(kv.mod_revision, c.target_union === 'mod_revision' ? (c.mod_revision ?? 0n) : 0n);
      break;
    case CompareTarget.LEASE:
      r = compareInt(kv.lease, c.target_union === 'lease' ? (c.lease ?? 0n) : 0n);
      break;
    default:
      return false;
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
      return false;
  }
}

const zeroKv: KeyValue = {
  key: Buffer.alloc(0),
  create_revision: 0n,
  mod_revision: 0n,
  version: 0n,
  value: Buffer.alloc(0),
  lease: 0n,
};

function applyCompare(view: ReadView, c: Compare): boolean {
  const kvs = view.range(c.key, rangeEnd(c.range_end), 0, false, 0n).kvs;
  if (kvs.length === 0) {
    // A missing key has version/create/mod/lease 0, but no value: a VALUE compare fails.
    if (c.target === CompareTarget.VALUE) return false;
    return compareKv(c, zeroKv);
  }
  return kvs.every((kv) => compareKv(c, kv));
}

/** The branch taken at every nesting level, decided before any write (etcd compareToPath). */
function txnPath(view: ReadView, t: TxnRequest): boolean[] {
  const ok = t.compare.every((c) => applyCompare(view, c));
  const path = [ok];
  for (const op of ok ? t.success : t.failure) {
    if (op.request === 'request_txn' && op.request_txn) path.push(...txnPath(view, op.request_txn));
  }
  return path;
}

function isWrite(t: TxnRequest, path: boolean[], at = { i: 0 }): boolean {
  const ok = path[at.i++] as boolean;
  let write = false;
  for (const op of ok ? t.success : t.failure) {
    if (op.request === 'request_put' || op.request === 'request_delete_range') write = true;
    else if (op.request === 'request_txn' && op.request_txn && isWrite(op.request_txn, path, at)) write = true;
  }
  return write;
}

/** etcd checkRange: a range inside a txn must name a readable revision. */
function checkRange(store: KvStore, r: RangeRequest): void {
  if (r.revision > store.rev()) throw new EtcdError(Errors.FutureRev);
  if (r.revision > 0n && r.revision < store.compactRev()) throw new EtcdError(Errors.Compacted);
}

/** Checks every op on the taken path before anything is written, so a txn applies whole or not at all. */
function checkTxnOps(view: ReadView, store: KvStore, t: TxnRequest, path: boolean[], writes: boolean, at = { i: 0 }): void {
  const ok = path[at.i++] as boolean;
  for (const op of ok ? t.success : t.failure) {
    if (op.request === 'request_put' && op.request_put && writes) checkPut(view, store, op.request_put);
    else if (op.request === 'request_range' && op.request_range) checkRange(store, op.request_range);
    else if (op.request === 'request_txn' && op.request_txn) checkTxnOps(view, store, op.request_txn, path, writes, at);
  }
}

function execTxn(txn: WriteTxn | null, view: ReadView, store: KvStore, t: TxnRequest, path: boolean[], at: { i: number }): TxnResponse {
  const ok = path[at.i++] as boolean;
  const responses: ResponseOp[] = [];
  for (const op of ok ? t.success : t.failure) responses.push(execOp(txn, view, store, op, path, at));
  return { header: { revision: 0n }, succeeded: ok, responses };
}

function execOp(txn: WriteTxn | null, view: ReadView, store: KvStore, op: RequestOp, path: boolean[], at: { i: number }): ResponseOp {
  switch (op.request) {
    case 'request_range': {
      const resp = doRange(view, op.request_range as RangeRequest);
      return { response: 'response_range', response_range: resp };
    }
    case 'request_put': {
      if (!txn) throw new Error('put in a read-only transaction');
      return { response: 'response_put', response_put: doPut(txn, store, op.request_put as PutRequest) };
    }
    case 'request_delete_range': {
      if (!txn) throw new Error('delete in a read-only transaction');
      return { response: 'response_delete_range', response_delete_range: doDelete(txn, op.request_delete_range as DeleteRangeRequest) };
    }
    case 'request_txn': {
      const resp = execTxn(txn, view, store, op.request_txn as TxnRequest, path, at);
      resp.header.revision = txn ? txn.rev() : store.rev();
      return { response: 'response_txn', response_txn: resp };
    }
    default:
      throw new EtcdError(Errors.KeyNotFound);
  }
}

export function applyTxn(store: KvStore, batch: WriteBatch, t: TxnRequest): WriteResult<TxnResponse> {
  const path = txnPath(storeView(store), t);
  const write = isWrite(t, path);
  checkTxnOps(storeView(store), store, t, path, write);
  if (!write) {
    const view = storeView(store);
    const resp = execTxn(null, view, store, t, path, { i: 0 });
    resp.header.revision = store.rev();
    return { resp, events: [] };
  }
  const txn = store.write(batch);
  const view = txnView(txn, store);
  const resp = execTxn(txn, view, store, t, path, { i: 0 });
  resp.header.revision = txn.rev();
  return { resp, events: txn.end() };
}

export interface CompactResult {
  revision: bigint;
  physical: Promise<void>;
}

export function applyCompaction(store: KvStore, batch: WriteBatch, c: CompactionRequest): CompactResult {
  const physical = store.compact(c.revision, batch);
  return { revision: store.rev(), physical };
}
