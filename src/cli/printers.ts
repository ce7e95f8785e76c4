/**
 * etcdctl's printers (ctlv3/command/printer*.go) for the KV and cluster responses, in the
 * simple, json and fields formats; the table format exists only where etcdctl defines it.
 * Inputs are proto-loader wire objects (64-bit integers as decimal strings, bytes as Buffer).
 */
import { goJson } from './go-json.js';
import { CliExit, ExitCode } from './output.js';
import { goQuote, hexEscape } from './go-format.js';

type Obj = Record<string, unknown>;
export type Format = 'simple' | 'json' | 'fields' | 'table' | 'protobuf';

export interface PrintOptions {
  format: Format;
  hex: boolean;
  valueOnly: boolean;
}

function buf(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from((v as Uint8Array | undefined) ?? []);
}

function str(v: unknown): string {
  return v === undefined || v === null ? '0' : String(v);
}

export function kvLines(kv: Obj, o: PrintOptions): string {
  const k = o.hex ? hexEscape(buf(kv.key)) : buf(kv.key).toString('latin1');
  const v = o.hex ? hexEscape(buf(kv.value)) : buf(kv.value).toString('latin1');
  return (o.valueOnly ? '' : k + '\n') + v + '\n';
}

function hdrFields(h: Obj | null | undefined): string {
  const x = h ?? {};
  return (
    `"ClusterID" : ${str(x.cluster_id)}\n` +
    `"MemberID" : ${str(x.member_id)}\n` +
    `"Revision" : ${str(x.revision)}\n` +
    `"RaftTerm" : ${str(x.raft_term)}\n`
  );
}

function kvFields(kv: Obj, prefix = ''): string {
  return (
    `"${prefix}Key" : ${goQuote(buf(kv.key))}\n` +
    `"${prefix}CreateRevision" : ${str(kv.create_revision)}\n` +
    `"${prefix}ModRevision" : ${str(kv.mod_revision)}\n` +
    `"${prefix}Version" : ${str(kv.version)}\n` +
    `"${prefix}Value" : ${goQuote(buf(kv.value))}\n` +
    `"${prefix}Lease" : ${str(kv.lease)}\n`
  );
}

// ---- simple ----

export function simpleGet(r: Obj, o: PrintOptions): string {
  return ((r.kvs as Obj[]) ?? []).map((kv) => kvLines(kv, o)).join('');
}

export function simplePut(r: Obj, o: PrintOptions): string {
  return 'OK\n' + (r.prev_kv ? kvLines(r.prev_kv as Obj, o) : '');
}

export function simpleDel(r: Obj, o: PrintOptions): string {
  return `${str(r.deleted)}\n` + ((r.prev_kvs as Obj[]) ?? []).map((kv) => kvLines(kv, o)).join('');
}

export function simpleTxn(r: Obj, o: PrintOptions): string {
  let s = r.succeeded ? 'SUCCESS\n' : 'FAILURE\n';
  for (const op of (r.responses as Obj[]) ?? []) {
    s += '\n';
    if (op.response === 'response_delete_range') s += simpleDel(op.response_delete_range as Obj, o);
    else if (op.response === 'response_put') s += simplePut(op.response_put as Obj, o);
    else if (op.response === 'response_range') s += simpleGet(op.response_range as Obj, o);
  }
  return s;
}

// ---- fields ----

export function fieldsGet(r: Obj): string {
  let s = hdrFields(r.header as Obj);
  for (const kv of (r.kvs as Obj[]) ?? []) s += kvFields(kv);
  s += `"More" : ${r.more ? 'true' : 'false'}\n`;
  s += `"Count" : ${str(r.count)}\n`;
  return s;
}

export function fieldsPut(r: Obj): string {
  return hdrFields(r.header as Obj) + (r.prev_kv ? kvFields(r.prev_kv as Obj, 'Prev') : '');
}

export function fieldsDel(r: Obj): string {
  let s = hdrFields(r.header as Obj) + `"Deleted" : ${str(r.deleted)}\n`;
  for (const kv of (r.prev_kvs as Obj[]) ?? []) s += kvFields(kv, 'Prev');
  return s;
}

export function fieldsTxn(r: Obj): string {
  let s = hdrFields(r.header as Obj) + `"Succeeded" : ${r.succeeded ? 'true' : 'false'}\n`;
  for (const op of (r.responses as Obj[]) ?? []) {
    if (op.response === 'response_delete_range') s += fieldsDel(op.response_delete_range as Obj);
    else if (op.response === 'response_put') s += fieldsPut(op.response_put as Obj);
    else if (op.response === 'response_range') s += fieldsGet(op.response_range as Obj);
  }
  return s;
}

// ---- dispatch ----

export interface Printable {
  type: string;
  simple: (r: Obj, o: PrintOptions) => string;
  fields: (r: Obj) => string;
}

export const printables = {
  get: { type: 'etcdserverpb.RangeResponse', simple: simpleGet, fields: fieldsGet },
  put: { type: 'etcdserverpb.PutResponse', simple: simplePut, fields: fieldsPut },
  del: { type: 'etcdserverpb.DeleteRangeResponse', simple: simpleDel, fields: fieldsDel },
  txn: { type: 'etcdserverpb.TxnResponse', simple: simpleTxn, fields: fieldsTxn },
} satisfies Record<string, Printable>;

export function printResponse(p: Printable, r: Obj, o: PrintOptions): string {
  switch (o.format) {
    case 'json':
      return goJson(p.type, r) + '\n';
    case 'fields':
      return p.fields(r);
    case 'table':
      // etcdctl finds out when printing, after the request was made (a put with -w table writes).
      throw new CliExit(ExitCode.BadFeature, 'table not supported as output format');
    default:
      return p.simple(r, o);
  }
}
