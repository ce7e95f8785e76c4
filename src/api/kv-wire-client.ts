/**
 * Hand-written protobuf codecs of the KV calls in the client's direction (kv-wire.ts is the
 * server's): encode Range/Put/DeleteRange/Txn requests, decode their responses. They let the
 * client (and so `ctl get/put/del/txn`) run without protobufjs, whose load and descriptor build
 * were most of ctl's cold start (issue 13).
 *
 * They agree with the generic path they replace (client/generic-wire.ts; a test checks both
 * directions at random): a request is what protobufjs writes for the pruned wire object — zero
 * scalars and empty bytes left out (Go's proto3 marshal; etcd reads a present-but-empty
 * `range_end` as "to the end"), a oneof's chosen member written even when zero or empty, fields
 * in field-number order — and a response decodes to what convert.ts makes of proto-loader's
 * object: every scalar present (zero when absent), a missing message null, a oneof naming its
 * case, bytes as views into the response buffer, 64-bit unsigned header fields as uint64.
 */
import { PbReader, PbWriter, bytesFieldSize, int64FieldSize, int64Size, messageFieldSize, varintSize } from '../base/pb.js';
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

/** The response header as the client sees it (client/types.ts ResponseHeader). */
export interface ResponseHeaderWire {
  cluster_id: bigint;
  member_id: bigint;
  revision: bigint;
  raft_term: bigint;
}

type WithHeader<T> = Omit<T, 'header'> & { header: ResponseHeaderWire | null };
export type RangeResult = WithHeader<RangeResponse>;
export type PutResult = WithHeader<PutResponse>;
export type DeleteRangeResult = WithHeader<DeleteRangeResponse>;
export type TxnResult = Omit<WithHeader<TxnResponse>, 'responses'> & { responses: ResponseOpResult[] };
export interface ResponseOpResult {
  response?: ResponseOp['response'];
  response_range?: RangeResult;
  response_put?: PutResult;
  response_delete_range?: DeleteRangeResult;
  response_txn?: TxnResult;
}

const empty = Buffer.alloc(0);

// ---------------------------------------------------------------- encoding requests

/** An enum field (1-byte tag), left out when 0; negative numbers as 10-byte varints. */
function enumFieldSize(v: number): number {
  return v === 0 ? 0 : 1 + (v < 0 ? 10 : varintSize(v));
}

function writeEnum(w: PbWriter, tag: number, v: number): void {
  if (v === 0) return;
  w.byte(tag);
  if (v < 0) w.int64(BigInt(v));
  else w.varint(v);
}

function boolSize(v: boolean): number {
  return v ? 2 : 0;
}

function rangeReqSize(m: RangeRequest): number {
  return (
    bytesFieldSize(m.key.length) +
    bytesFieldSize(m.range_end.length) +
    int64FieldSize(m.limit) +
    int64FieldSize(m.revision) +
    enumFieldSize(m.sort_order) +
    enumFieldSize(m.sort_target) +
    boolSize(m.serializable) +
    boolSize(m.keys_only) +
    boolSize(m.count_only) +
    int64FieldSize(m.min_mod_revision) +
    int64FieldSize(m.max_mod_revision) +
    int64FieldSize(m.min_create_revision) +
    int64FieldSize(m.max_create_revision)
  );
}

function writeRangeReq(w: PbWriter, m: RangeRequest): void {
  w.bytesField(0x0a, m.key);
  w.bytesField(0x12, m.range_end);
  w.int64Field(0x18, m.limit);
  w.int64Field(0x20, m.revision);
  writeEnum(w, 0x28, m.sort_order);
  writeEnum(w, 0x30, m.sort_target);
  w.boolField(0x38, m.serializable);
  w.boolField(0x40, m.keys_only);
  w.boolField(0x48, m.count_only);
  w.int64Field(0x50, m.min_mod_revision);
  w.int64Field(0x58, m.max_mod_revision);
  w.int64Field(0x60, m.min_create_revision);
  w.int64Field(0x68, m.max_create_revision);
}

function putReqSize(m: PutRequest): number {
  return bytesFieldSize(m.key.length) + bytesFieldSize(m.value.length) + int64FieldSize(m.lease) + boolSize(m.prev_kv) + boolSize(m.ignore_value) + boolSize(m.ignore_lease);
}

function writePutReq(w: PbWriter, m: PutRequest): void {
  w.bytesField(0x0a, m.key);
  w.bytesField(0x12, m.value);
  w.int64Field(0x18, m.lease);
  w.boolField(0x20, m.prev_kv);
  w.boolField(0x28, m.ignore_value);
  w.boolField(0x30, m.ignore_lease);
}

function deleteReqSize(m: DeleteRangeRequest): number {
  return bytesFieldSize(m.key.length) + bytesFieldSize(m.range_end.length) + boolSize(m.prev_kv);
}

function writeDeleteReq(w: PbWriter, m: DeleteRangeRequest): void {
  w.bytesField(0x0a, m.key);
  w.bytesField(0x12, m.range_end);
  w.boolField(0x18, m.prev_kv);
}

/** The chosen member of Compare.target_union, written even when zero or empty. */
function compareSize(m: Compare): number {
  let n = enumFieldSize(m.result) + enumFieldSize(m.target) + bytesFieldSize(m.key.length);
  const u = m.target_union;
  if (u !== undefined) {
    const v = m[u];
    if (v !== undefined && v !== null) n += typeof v === 'bigint' ? 1 + int64Size(v) : 1 + varintSize(v.length) + v.length;
  }
  // range_end is field 64: a 2-byte tag.
  if (m.range_end.length > 0) n += 2 + varintSize(m.range_end.length) + m.range_end.length;
  return n;
}

const unionTags = { version: 0x20, create_revision: 0x28, mod_revision: 0x30, value: 0x3a, lease: 0x40 } as const;

function writeCompare(w: PbWriter, m: Compare): void {
  writeEnum(w, 0x08, m.result);
  writeEnum(w, 0x10, m.target);
  w.bytesField(0x1a, m.key);
  const u = m.target_union;
  if (u !== undefined) {
    const v = m[u];
    if (v !== undefined && v !== null) {
      w.byte(unionTags[u]);
      if (typeof v === 'bigint') w.int64(v);
      else {
        w.varint(v.length);
        w.raw(v);
      }
    }
  }
  if (m.range_end.length > 0) {
    w.byte(0x82);
    w.byte(0x04);
    w.varint(m.range_end.length);
    w.raw(m.range_end);
  }
}

/**
 * Sizes of a TxnRequest's nested messages, in the order the writer needs them (sizes are
 * computed once: a txn nests txns).
 */
function txnReqSize(m: TxnRequest, parts: number[]): number {
  const at = parts.length;
  parts.push(0);
  let n = 0;
  for (const c of m.compare) {
    const s = compareSize(c);
    parts.push(s);
    n += messageFieldSize(s);
  }
  for (const op of m.success) n += messageFieldSize(opReqSize(op, parts));
  for (const op of m.failure) n += messageFieldSize(opReqSize(op, parts));
  parts[at] = n;
  return n;
}

/** A RequestOp's body: its chosen member's field (an empty body when none is set). */
function opReqSize(op: RequestOp, parts: number[]): number {
  const at = parts.length;
  parts.push(0);
  let n = 0;
  switch (op.request) {
    case 'request_range':
      if (op.request_range) n = messageFieldSize(rangeReqSize(op.request_range));
      break;
    case 'request_put':
      if (op.request_put) n = messageFieldSize(putReqSize(op.request_put));
      break;
    case 'request_delete_range':
      if (op.request_delete_range) n = messageFieldSize(deleteReqSize(op.request_delete_range));
      break;
    case 'request_txn':
      if (op.request_txn) n = messageFieldSize(txnReqSize(op.request_txn, parts));
      break;
    default:
      break;
  }
  parts[at] = n;
  return n;
}

function writeOpReq(w: PbWriter, tag: number, op: RequestOp, parts: number[], i: number): number {
  w.header(tag, parts[i++] as number);
  switch (op.request) {
    case 'request_range':
      if (op.request_range) {
        w.header(0x0a, rangeReqSize(op.request_range));
        writeRangeReq(w, op.request_range);
      }
      break;
    case 'request_put':
      if (op.request_put) {
        w.header(0x12, putReqSize(op.request_put));
        writePutReq(w, op.request_put);
      }
      break;
    case 'request_delete_range':
      if (op.request_delete_range) {
        w.header(0x1a, deleteReqSize(op.request_delete_range));
        writeDeleteReq(w, op.request_delete_range);
      }
      break;
    case 'request_txn':
      if (op.request_txn) {
        w.header(0x22, parts[i] as number);
        i = writeTxnReq(w, op.request_txn, parts, i);
      }
      break;
    default:
      break;
  }
  return i;
}

function writeTxnReq(w: PbWriter, m: TxnRequest, parts: number[], i: number): number {
  i++; // own size
  for (const c of m.compare) {
    w.header(0x0a, parts[i++] as number);
    writeCompare(w, c);
  }
  for (const op of m.success) i = writeOpReq(w, 0x12, op, parts, i);
  for (const op of m.failure) i = writeOpReq(w, 0x1a, op, parts, i);
  return i;
}

function exact(n: number, write: (w: PbWriter) => void): Buffer {
  const buf = Buffer.allocUnsafe(n);
  const w = new PbWriter(buf);
  write(w);
  if (w.pos !== n) throw new Error(`encoder size mismatch: wrote ${w.pos} of ${n}`);
  return buf;
}

export function encodeRangeRequest(m: RangeRequest): Buffer {
  return exact(rangeReqSize(m), (w) => writeRangeReq(w, m));
}

export function encodePutRequest(m: PutRequest): Buffer {
  return exact(putReqSize(m), (w) => writePutReq(w, m));
}

export function encodeDeleteRangeRequest(m: DeleteRangeRequest): Buffer {
  return exact(deleteReqSize(m), (w) => writeDeleteReq(w, m));
}

export function encodeTxnRequest(m: TxnRequest): Buffer {
  const parts: number[] = [];
  const n = txnReqSize(m, parts);
  return exact(n, (w) => void writeTxnReq(w, m, parts, 0));
}

// ---------------------------------------------------------------- decoding responses

function decodeHeader(buf: Buffer, start: number, end: number): ResponseHeaderWire {
  const r = new PbReader(buf, start, end);
  const h: ResponseHeaderWire = { cluster_id: 0n, member_id: 0n, revision: 0n, raft_term: 0n };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: r.expect(wt, 0); h.cluster_id = r.uint64(); break;
      case 2: r.expect(wt, 0); h.member_id = r.uint64(); break;
      case 3: r.expect(wt, 0); h.revision = r.int64(); break;
      case 4: r.expect(wt, 0); h.raft_term = r.uint64(); break;
      default: r.skip(wt);
    }
  }
  return h;
}

function decodeKv(buf: Buffer, start: number, end: number): KeyValue {
  const r = new PbReader(buf, start, end);
  const kv: KeyValue = { key: empty, create_revision: 0n, mod_revision: 0n, version: 0n, value: empty, lease: 0n };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: r.expect(wt, 2); kv.key = r.bytes(); break;
      case 2: r.expect(wt, 0); kv.create_revision = r.int64(); break;
      case 3: r.expect(wt, 0); kv.mod_revision = r.int64(); break;
      case 4: r.expect(wt, 0); kv.version = r.int64(); break;
      case 5: r.expect(wt, 2); kv.value = r.bytes(); break;
      case 6: r.expect(wt, 0); kv.lease = r.int64(); break;
      default: r.skip(wt);
    }
  }
  return kv;
}

function rangeAt(buf: Buffer, start: number, end: number): RangeResult {
  const r = new PbReader(buf, start, end);
  const m: RangeResult = { header: null, kvs: [], more: false, count: 0n };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: { r.expect(wt, 2); const [s, e] = r.span(); m.header = decodeHeader(buf, s, e); break; }
      case 2: { r.expect(wt, 2); const [s, e] = r.span(); m.kvs.push(decodeKv(buf, s, e)); break; }
      case 3: r.expect(wt, 0); m.more = r.bool(); break;
      case 4: r.expect(wt, 0); m.count = r.int64(); break;
      default: r.skip(wt);
    }
  }
  return m;
}

function putAt(buf: Buffer, start: number, end: number): PutResult {
  const r = new PbReader(buf, start, end);
  const m: PutResult = { header: null, prev_kv: null };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: { r.expect(wt, 2); const [s, e] = r.span(); m.header = decodeHeader(buf, s, e); break; }
      case 2: { r.expect(wt, 2); const [s, e] = r.span(); m.prev_kv = decodeKv(buf, s, e); break; }
      default: r.skip(wt);
    }
  }
  return m;
}

function deleteAt(buf: Buffer, start: number, end: number): DeleteRangeResult {
  const r = new PbReader(buf, start, end);
  const m: DeleteRangeResult = { header: null, deleted: 0n, prev_kvs: [] };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: { r.expect(wt, 2); const [s, e] = r.span(); m.header = decodeHeader(buf, s, e); break; }
      case 2: r.expect(wt, 0); m.deleted = r.int64(); break;
      case 3: { r.expect(wt, 2); const [s, e] = r.span(); m.prev_kvs.push(decodeKv(buf, s, e)); break; }
      default: r.skip(wt);
    }
  }
  return m;
}

/** Nesting limit of txn responses inside txn responses (as kv-wire.ts's for requests). */
const nestingMax = 64;

function responseOpAt(buf: Buffer, start: number, end: number, depth: number): ResponseOpResult {
  const r = new PbReader(buf, start, end);
  let op: ResponseOpResult = {};
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    const f = t >>> 3;
    if (f >= 1 && f <= 4) {
      r.expect(wt, 2);
      const [s, e] = r.span();
      switch (f) {
        case 1: op = { response_range: rangeAt(buf, s, e), response: 'response_range' }; break;
        case 2: op = { response_put: putAt(buf, s, e), response: 'response_put' }; break;
        case 3: op = { response_delete_range: deleteAt(buf, s, e), response: 'response_delete_range' }; break;
        default: op = { response_txn: txnAt(buf, s, e, depth + 1), response: 'response_txn' }; break;
      }
    } else r.skip(wt);
  }
  return op;
}

function txnAt(buf: Buffer, start: number, end: number, depth: number): TxnResult {
  if (depth > nestingMax) new PbReader(buf, start, end).fail('txn response nested too deep');
  const r = new PbReader(buf, start, end);
  const m: TxnResult = { header: null, succeeded: false, responses: [] };
  while (r.more()) {
    const t = r.tag();
    const wt = t & 7;
    switch (t >>> 3) {
      case 1: { r.expect(wt, 2); const [s, e] = r.span(); m.header = decodeHeader(buf, s, e); break; }
      case 2: r.expect(wt, 0); m.succeeded = r.bool(); break;
      case 3: { r.expect(wt, 2); const [s, e] = r.span(); m.responses.push(responseOpAt(buf, s, e, depth)); break; }
      default: r.skip(wt);
    }
  }
  return m;
}

export function decodeRangeResponse(buf: Buffer): RangeResult {
  return rangeAt(buf, 0, buf.length);
}

export function decodePutResponse(buf: Buffer): PutResult {
  return putAt(buf, 0, buf.length);
}

export function decodeDeleteRangeResponse(buf: Buffer): DeleteRangeResult {
  return deleteAt(buf, 0, buf.length);
}

export function decodeTxnResponse(buf: Buffer): TxnResult {
  return txnAt(buf, 0, buf.length, 0);
}
