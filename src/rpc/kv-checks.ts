/**
 * Request checks done before a KV request is proposed, as etcd's v3rpc/key.go (3.4): they
 * reject malformed requests with etcd's exact errors and never touch the store.
 *
 * Sort options: etcd 3.4/3.5 accept any sort_order number (one it does not know sorts nothing)
 * but crash on an unknown sort_target that is used for sorting (a nil sorter: order ASCEND or
 * DESCEND, or order NONE which becomes ASCEND for a non-KEY target). Exactly those requests get
 * 3.6's answer, "etcdserver: invalid sort option"; everything 3.4 answers is answered as 3.4.
 */
import { compareBytes } from '../base/bytes.js';
import { EtcdError, Errors } from '../api/errors.js';
import {
  SortOrder,
  SortTarget,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from '../api/kv-types.js';

const knownSortTargets: ReadonlySet<number> = new Set(Object.values(SortTarget));

export function checkRange(r: RangeRequest): void {
  if (r.key.length === 0) throw new EtcdError(Errors.EmptyKey);
  const order = r.sort_target !== SortTarget.KEY && r.sort_order === SortOrder.NONE ? SortOrder.ASCEND : r.sort_order;
  const sorts = order === SortOrder.ASCEND || order === SortOrder.DESCEND;
  if (sorts && !knownSortTargets.has(r.sort_target)) throw new EtcdError(Errors.InvalidSortOption);
}

export function checkPut(r: PutRequest): void {
  if (r.key.length === 0) throw new EtcdError(Errors.EmptyKey);
  if (r.ignore_value && r.value.length !== 0) throw new EtcdError(Errors.ValueProvided);
  if (r.ignore_lease && r.lease !== 0n) throw new EtcdError(Errors.LeaseProvided);
}

export function checkDelete(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw new EtcdError(Errors.EmptyKey);
}

function checkOp(op: RequestOp, maxTxnOps: number): void {
  switch (op.request) {
    case 'request_range':
      if (op.request_range) return checkRange(op.request_range);
      break;
    case 'request_put':
      if (op.request_put) return checkPut(op.request_put);
      break;
    case 'request_delete_range':
      if (op.request_delete_range) return checkDelete(op.request_delete_range);
      break;
    case 'request_txn':
      if (op.request_txn) return checkTxnOps(op.request_txn, maxTxnOps);
      break;
    default:
      break;
  }
  // An empty RequestOp (no case set).
  throw new EtcdError(Errors.KeyNotFound);
}

function checkTxnOps(r: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw new EtcdError(Errors.TooManyOps);
  for (const c of r.compare) if (c.key.length === 0) throw new EtcdError(Errors.EmptyKey);
  // etcd passes maxTxnOps - opc down to nested txns.
  for (const op of r.success) checkOp(op, maxTxnOps - opc);
  for (const op of r.failure) checkOp(op, maxTxnOps - opc);
}

/** An interval [begin, end) of keys; end null means unbounded (etcd's affine "" end). */
interface Interval {
  begin: Buffer;
  end: Buffer | null;
}

function pointIn(k: Buffer, iv: Interval): boolean {
  return compareBytes(iv.begin, k) <= 0 && (iv.end === null || compareBytes(k, iv.end) < 0);
}

function point(k: Buffer): Interval {
  return { begin: k, end: Buffer.concat([k, Buffer.from([0])]) };
}

/**
 * etcd checkIntervals: within one branch (and the nested txns it contains) a key may be put
 * once, and not put inside a range that is also deleted. Then/else branches of a nested txn
 * exclude each other, so they may put the same key.
 */
function checkIntervals(reqs: RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const req of reqs) {
    if (req.request !== 'request_delete_range' || !req.request_delete_range) continue;
    const d = req.request_delete_range;
    dels.push(d.range_end.length !== 0 ? { begin: d.key, end: d.range_end } : point(d.key));
  }
  const puts = new Set<string>();
  const hitsDel = (k: string): boolean => dels.some((iv) => pointIn(Buffer.from(k, 'latin1'), iv));
  for (const req of reqs) {
    if (req.request !== 'request_txn' || !req.request_txn) continue;
    const then = checkIntervals(req.request_txn.success);
    const els = checkIntervals(req.request_txn.failure);
    for (const k of then.puts) {
      if (puts.has(k) || hitsDel(k)) throw new EtcdError(Errors.DuplicateKey);
      puts.add(k);
    }
    for (const k of els.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw new EtcdError(Errors.DuplicateKey);
      if (hitsDel(k)) throw new EtcdError(Errors.DuplicateKey);
      puts.add(k);
    }
    dels.push(...then.dels, ...els.dels);
  }
  for (const req of reqs) {
    if (req.request !== 'request_put' || !req.request_put) continue;
    const k = req.request_put.key.toString('latin1');
    if (puts.has(k) || hitsDel(k)) throw new EtcdError(Errors.DuplicateKey);
    puts.add(k);
  }
  return { puts, dels };
}

export function checkTxn(r: TxnRequest, maxTxnOps: number): void {
  checkTxnOps(r, maxTxnOps);
  checkIntervals(r.success);
  checkIntervals(r.failure);
}
