/**
 * Hand-written protobuf codecs of the KV hot path (Range, Put, DeleteRange, Txn and the
 * messages inside them; field numbers: proto/etcdserverpb/rpc.proto, ETCD-FACTS §1.2, §1.4).
 * Decoding goes straight from the request bytes to the domain types of kv-types.ts (what
 * convert.ts makes of proto-loader's objects, field for field), with keys and values as views
 * into the request buffer; encoding writes a response in one exact-size buffer, in two passes
 * (size, then write). The output is byte-identical to protobufjs's for the same object (a test
 * checks both directions against it), which is what the generic path sent before.
 *
 * Rules kept from the generic path: a missing bytes field is an empty Buffer, a missing message
 * is null, a oneof names its case (`request`, `target_union`) and only that member is set, the
 * last occurrence of a scalar or oneof member wins; an unknown enum number is kept as a number.
 */
import { PbDecodeError, PbReader, PbWriter, bytesFieldSize, int64FieldSize, messageFieldSize } from '../base/pb.js';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './kv-types.js';

export { PbDecodeError };

const empty = Buffer.alloc(0);

/** Nesting limit of txns inside txns (Go's proto decoder allows 10 000; ours is far below the
 *  stack, and etcd's txn checks refuse deep nesting anyway through --max-txn-ops). */
const nestingMax = 64;

// ---------------------------------------------------------------- decoding

export function decodeRangeRequest(buf: Buffer, start = 0, end = buf.length): RangeRequest {
  const r = new PbReader(buf, start, end);
  const m: RangeRequest = {
    key: empty,
    range_end: empty,
    limit: 0n,
    revision: 0n,
    sort_order: 0,
    sort_target: 0,
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: 0n,
    max_mod_revision: 0n,
    min_create_revision: 0n,
    max_create_revision: 0n,
  };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: r.expect(wt, 2); m.key = r.bytes(); break;
      case 2: r.expect(wt, 2); m.range_end = r.bytes(); break;
      case 3: r.expect(wt, 0); m.limit = r.int64(); break;
      case 4: r.expect(wt, 0); m.revision = r.int64(); break;
      case 5: r.expect(wt, 0); m.sort_order = r.varint32() | 0; break;
      case 6: r.expect(wt, 0); m.sort_target = r.varint32() | 0; break;
      case 7: r.expect(wt, 0); m.serializable = r.bool(); break;
      case 8: r.expect(wt, 0); m.keys_only = r.bool(); break;
      case 9: r.expect(wt, 0); m.count_only = r.bool(); break;
      case 10: r.expect(wt, 0); m.min_mod_revision = r.int64(); break;
      case 11: r.expect(wt, 0); m.max_mod_revision = r.int64(); break;
      case 12: r.expect(wt, 0); m.min_create_revision = r.int64(); break;
      case 13: r.expect(wt, 0); m.max_create_revision = r.int64(); break;
      default: r.skip(wt);
    }
  }
  return m;
}

export function decodePutRequest(buf: Buffer, start = 0, end = buf.length): PutRequest {
  const r = new PbReader(buf, start, end);
  const m: PutRequest = { key: empty, value: empty, lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: r.expect(wt, 2); m.key = r.bytes(); break;
      case 2: r.expect(wt, 2); m.value = r.bytes(); break;
      case 3: r.expect(wt, 0); m.lease = r.int64(); break;
      case 4: r.expect(wt, 0); m.prev_kv = r.bool(); break;
      case 5: r.expect(wt, 0); m.ignore_value = r.bool(); break;
      case 6: r.expect(wt, 0); m.ignore_lease = r.bool(); break;
      default: r.skip(wt);
    }
  }
  return m;
}

export function decodeDeleteRangeRequest(buf: Buffer, start = 0, end = buf.length): DeleteRangeRequest {
  const r = new PbReader(buf, start, end);
  const m: DeleteRangeRequest = { key: empty, range_end: empty, prev_kv: false };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: r.expect(wt, 2); m.key = r.bytes(); break;
      case 2: r.expect(wt, 2); m.range_end = r.bytes(); break;
      case 3: r.expect(wt, 0); m.prev_kv = r.bool(); break;
      default: r.skip(wt);
    }
  }
  return m;
}

function decodeCompare(buf: Buffer, start: number, end: number): Compare {
  const r = new PbReader(buf, start, end);
  const m: Compare = { result: 0, target: 0, key: empty, range_end: empty };
  const pick = (which: NonNullable<Compare['target_union']>): void => {
    // A oneof keeps only its last member.
    if (m.target_union !== undefined && m.target_union !== which) delete m[m.target_union];
    m.target_union = which;
  };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: r.expect(wt, 0); m.result = r.varint32() | 0; break;
      case 2: r.expect(wt, 0); m.target = r.varint32() | 0; break;
      case 3: r.expect(wt, 2); m.key = r.bytes(); break;
      case 4: r.expect(wt, 0); pick('version'); m.version = r.int64(); break;
      case 5: r.expect(wt, 0); pick('create_revision'); m.create_revision = r.int64(); break;
      case 6: r.expect(wt, 0); pick('mod_revision'); m.mod_revision = r.int64(); break;
      case 7: r.expect(wt, 2); pick('value'); m.value = r.bytes(); break;
      case 8: r.expect(wt, 0); pick('lease'); m.lease = r.int64(); break;
      case 64: r.expect(wt, 2); m.range_end = r.bytes(); break;
      default: r.skip(wt);
    }
  }
  return m;
}

function decodeRequestOp(buf: Buffer, start: number, end: number, depth: number): RequestOp {
  const r = new PbReader(buf, start, end);
  let op: RequestOp = {};
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    const f = t >>> 3;
    if (f >= 1 && f <= 4) {
      r.expect(wt, 2);
      const [s, e] = r.span();
      switch (f) {
        case 1: op = { request: 'request_range', request_range: decodeRangeRequest(buf, s, e) }; break;
        case 2: op = { request: 'request_put', request_put: decodePutRequest(buf, s, e) }; break;
        case 3: op = { request: 'request_delete_range', request_delete_range: decodeDeleteRangeRequest(buf, s, e) }; break;
        default: op = { request: 'request_txn', request_txn: decodeTxnAt(buf, s, e, depth + 1) }; break;
      }
    } else r.skip(wt);
  }
  return op;
}

function decodeTxnAt(buf: Buffer, start: number, end: number, depth: number): TxnRequest {
  if (depth > nestingMax) throw new PbDecodeError('proto: txn nested too deep');
  const r = new PbReader(buf, start, end);
  const m: TxnRequest = { compare: [], success: [], failure: [] };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: { r.expect(wt, 2); const [s, e] = r.span(); m.compare.push(decodeCompare(buf, s, e)); break; }
      case 2: { r.expect(wt, 2); const [s, e] = r.span(); m.success.push(decodeRequestOp(buf, s, e, depth)); break; }
      case 3: { r.expect(wt, 2); const [s, e] = r.span(); m.failure.push(decodeRequestOp(buf, s, e, depth)); break; }
      default: r.skip(wt);
    }
  }
  return m;
}

export function decodeTxnRequest(buf: Buffer, start = 0, end = buf.length): TxnRequest {
  return decodeTxnAt(buf, start, end, 0);
}

export function decodeLeaseKeepAliveRequest(buf: Buffer): bigint {
  const r = new PbReader(buf);
  let id = 0n;
  while (r.more()) {
    const t = r.tag();
    if (t >>> 3 === 1) {
      r.expect(t & 7, 0);
      id = r.int64();
    } else r.skip(t & 7);
  }
  return id;
}

// ---------------------------------------------------------------- encoding

/** A response header as the rpc layer fills it (etcd header.fill), or as nested txn ops carry it. */
export interface HeaderWire {
  cluster_id?: bigint;
  member_id?: bigint;
  revision: bigint;
  raft_term?: bigint;
}

function headerSize(h: HeaderWire): number {
  return int64FieldSize(h.cluster_id ?? 0n) + int64FieldSize(h.member_id ?? 0n) + int64FieldSize(h.revision) + int64FieldSize(h.raft_term ?? 0n);
}

function writeHeader(w: PbWriter, tag: number, h: HeaderWire, size: number): void {
  w.header(tag, size);
  w.int64Field(0x08, h.cluster_id ?? 0n);
  w.int64Field(0x10, h.member_id ?? 0n);
  w.int64Field(0x18, h.revision);
  w.int64Field(0x20, h.raft_term ?? 0n);
}

export function kvSize(kv: KeyValue): number {
  return (
    bytesFieldSize(kv.key.length) +
    int64FieldSize(kv.create_revision) +
    int64FieldSize(kv.mod_revision) +
    int64FieldSize(kv.version) +
    bytesFieldSize(kv.value.length) +
    int64FieldSize(kv.lease)
  );
}

export function writeKv(w: PbWriter, kv: KeyValue): void {
  w.bytesField(0x0a, kv.key);
  w.int64Field(0x10, kv.create_revision);
  w.int64Field(0x18, kv.mod_revision);
  w.int64Field(0x20, kv.version);
  w.bytesField(0x2a, kv.value);
  w.int64Field(0x30, kv.lease);
}

// Each response type: size() computes its size and remembers sub-sizes in `parts` (in the
// order write() needs them), so nothing is measured twice.

function rangeSize(m: RangeResponse, parts: number[]): number {
  const at = parts.length;
  parts.push(0);
  const hs = headerSize(m.header);
  parts.push(hs);
  let n = messageFieldSize(hs);
  for (const kv of m.kvs) {
    const s = kvSize(kv);
    parts.push(s);
    n += messageFieldSize(s);
  }
  if (m.more) n += 2;
  n += int64FieldSize(m.count);
  parts[at] = n;
  return n;
}

function writeRange(w: PbWriter, m: RangeResponse, parts: number[], i: number): number {
  i++; // own size
  writeHeader(w, 0x0a, m.header, parts[i++] as number);
  for (const kv of m.kvs) {
    w.header(0x12, parts[i++] as number);
    writeKv(w, kv);
  }
  w.boolField(0x18, m.more);
  w.int64Field(0x20, m.count);
  return i;
}

function putSize(m: PutResponse, parts: number[]): number {
  const at = parts.length;
  parts.push(0);
  const hs = headerSize(m.header);
  parts.push(hs);
  let n = messageFieldSize(hs);
  if (m.prev_kv) {
    const s = kvSize(m.prev_kv);
    parts.push(s);
    n += messageFieldSize(s);
  }
  parts[at] = n;
  return n;
}

function writePut(w: PbWriter, m: PutResponse, parts: number[], i: number): number {
  i++;
  writeHeader(w, 0x0a, m.header, parts[i++] as number);
  if (m.prev_kv) {
    w.header(0x12, parts[i++] as number);
    writeKv(w, m.prev_kv);
  }
  return i;
}

function deleteSize(m: DeleteRangeResponse, parts: number[]): number {
  const at = parts.length;
  parts.push(0);
  const hs = headerSize(m.header);
  parts.push(hs);
  let n = messageFieldSize(hs) + int64FieldSize(m.deleted);
  for (const kv of m.prev_kvs) {
    const s = kvSize(kv);
    parts.push(s);
    n += messageFieldSize(s);
  }
  parts[at] = n;
  return n;
}

function writeDelete(w: PbWriter, m: DeleteRangeResponse, parts: number[], i: number): number {
  i++;
  writeHeader(w, 0x0a, m.header, parts[i++] as number);
  w.int64Field(0x10, m.deleted);
  for (const kv of m.prev_kvs) {
    w.header(0x1a, parts[i++] as number);
    writeKv(w, kv);
  }
  return i;
}

function opSize(op: ResponseOp, parts: number[]): number {
  switch (op.response) {
    case 'response_range': return messageFieldSize(rangeSize(op.response_range as RangeResponse, parts));
    case 'response_put': return messageFieldSize(putSize(op.response_put as PutResponse, parts));
    case 'response_delete_range': return messageFieldSize(deleteSize(op.response_delete_range as DeleteRangeResponse, parts));
    case 'response_txn': return messageFieldSize(txnSize(op.response_txn as TxnResponse, parts));
  }
}

function writeOp(w: PbWriter, op: ResponseOp, parts: number[], i: number): number {
  const own = parts[i] as number;
  switch (op.response) {
    case 'response_range': w.header(0x0a, own); return writeRange(w, op.response_range as RangeResponse, parts, i);
    case 'response_put': w.header(0x12, own); return writePut(w, op.response_put as PutResponse, parts, i);
    case 'response_delete_range': w.header(0x1a, own); return writeDelete(w, op.response_delete_range as DeleteRangeResponse, parts, i);
    case 'response_txn': w.header(0x22, own); return writeTxn(w, op.response_txn as TxnResponse, parts, i);
  }
}

function txnSize(m: TxnResponse, parts: number[]): number {
  const at = parts.length;
  parts.push(0);
  const hs = headerSize(m.header);
  parts.push(hs);
  let n = messageFieldSize(hs);
  if (m.succeeded) n += 2;
  for (const op of m.responses) {
    const opAt = parts.length;
    parts.push(0);
    // The ResponseOp's body: its one field (tag, length, the inner response).
    const s = opSize(op, parts);
    parts[opAt] = s;
    n += messageFieldSize(s);
  }
  parts[at] = n;
  return n;
}

function writeTxn(w: PbWriter, m: TxnResponse, parts: number[], i: number): number {
  i++;
  writeHeader(w, 0x0a, m.header, parts[i++] as number);
  w.boolField(0x10, m.succeeded);
  for (const op of m.responses) {
    w.header(0x1a, parts[i++] as number);
    i = writeOp(w, op, parts, i);
  }
  return i;
}

function finish<T>(m: T, size: (m: T, parts: number[]) => number, write: (w: PbWriter, m: T, parts: number[], i: number) => number): Buffer {
  const parts: number[] = [];
  const n = size(m, parts);
  const buf = Buffer.allocUnsafe(n);
  const w = new PbWriter(buf);
  write(w, m, parts, 0);
  if (w.pos !== n) throw new Error(`encoder size mismatch: wrote ${w.pos} of ${n}`);
  return buf;
}

export function encodeRangeResponse(m: RangeResponse): Buffer {
  return finish(m, rangeSize, writeRange);
}

export function encodePutResponse(m: PutResponse): Buffer {
  return finish(m, putSize, writePut);
}

export function encodeDeleteRangeResponse(m: DeleteRangeResponse): Buffer {
  return finish(m, deleteSize, writeDelete);
}

export function encodeTxnResponse(m: TxnResponse): Buffer {
  return finish(m, txnSize, writeTxn);
}

export function encodeLeaseKeepAliveResponse(header: HeaderWire, id: bigint, ttl: bigint): Buffer {
  const hs = headerSize(header);
  const n = messageFieldSize(hs) + int64FieldSize(id) + int64FieldSize(ttl);
  const buf = Buffer.allocUnsafe(n);
  const w = new PbWriter(buf);
  writeHeader(w, 0x0a, header, hs);
  w.int64Field(0x10, id);
  w.int64Field(0x18, ttl);
  return buf;
}
