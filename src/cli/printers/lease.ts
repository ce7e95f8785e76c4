/**
 * etcdctl 3.4.23's output of the lease commands, per --write-out format (kept apart from the
 * Printer interface so the lease commands add no method to every printer).
 *
 * What etcdctl prints is shaped by clientv3's response structs, not by the wire messages:
 * grant, keep-alive, time-to-live and list responses embed *pb.ResponseHeader, so
 * - json flattens the header fields into the object (`{"cluster_id":…,"ID":…,"TTL":…}`), with
 *   clientv3's own json tags (`id`, `ttl`, `granted-ttl`, `keys`, `leases`);
 * - protobuf marshals the embedded header alone (its Marshal method is promoted);
 * while revoke's response is a plain pb message: json prints it whole, and protobuf refuses it
 * ("marshal unsupported for type clientv3.LeaseRevokeResponse (…)"). Table supports none.
 * (Checked against etcdctl 3.4.23 and etcd 3.4.23 — see test/compat/lease.test.ts.)
 */
import type { CallResult, LeaseGrant, LeaseKeepAlive, LeaseLeases, LeaseRevoke, LeaseTimeToLive, ResponseHeader, WireMessage } from '../../client/types.js';
import { goJson, goProtobuf } from '../go-json.js';
import { binBytes, goJsonString, goQuote } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';

/** Go's %016x of an int64 (a negative one keeps its sign inside the width). */
export function leaseHex(id: bigint): string {
  return id < 0n ? '-' + (-id).toString(16).padStart(15, '0') : id.toString(16).padStart(16, '0');
}

const zeroHeader: ResponseHeader = { cluster_id: 0n, member_id: 0n, revision: 0n, raft_term: 0n };

function fieldsHeader(h: ResponseHeader | null | undefined): string {
  const x = h ?? zeroHeader;
  return `"ClusterID" : ${x.cluster_id}\n"MemberID" : ${x.member_id}\n"Revision" : ${x.revision}\n"RaftTerm" : ${x.raft_term}\n`;
}

/** The header's JSON fields without braces (Go's encoding of an embedded *ResponseHeader). */
function jsonHeaderFields(raw: WireMessage): string[] {
  const h = (raw['header'] as WireMessage | null | undefined) ?? {};
  const inner = goJson('etcdserverpb.ResponseHeader', h).slice(1, -1);
  return inner === '' ? [] : [inner];
}

function wireInt(raw: WireMessage, name: string): string {
  const v = raw[name];
  return v === undefined || v === null || v === '' ? '0' : String(v);
}

function protobufHeader(raw: WireMessage): string {
  return goProtobuf('etcdserverpb.ResponseHeader', (raw['header'] as WireMessage | null | undefined) ?? {});
}

/** Go's proto compact text of a ResponseHeader: non-zero fields, each followed by a space. */
function headerText(h: ResponseHeader): string {
  let s = '';
  if (h.cluster_id !== 0n) s += `cluster_id:${h.cluster_id} `;
  if (h.member_id !== 0n) s += `member_id:${h.member_id} `;
  if (h.revision !== 0n) s += `revision:${h.revision} `;
  if (h.raft_term !== 0n) s += `raft_term:${h.raft_term} `;
  return s;
}

function unsupported(format: string): CliExit {
  return new CliExit(ExitCode.BadFeature, `${format} not supported as output format`);
}

export interface LeasePrinter {
  grant(r: CallResult<LeaseGrant>): string;
  revoke(id: bigint, r: CallResult<LeaseRevoke>): string;
  keepAlive(r: CallResult<LeaseKeepAlive>): string;
  timeToLive(r: CallResult<LeaseTimeToLive>, keys: boolean): string;
  leases(r: CallResult<LeaseLeases>): string;
}

const simple: LeasePrinter = {
  grant: (r) => `lease ${leaseHex(r.resp.ID)} granted with TTL(${r.resp.TTL}s)\n`,
  revoke: (id) => `lease ${leaseHex(id)} revoked\n`,
  keepAlive: (r) => `lease ${leaseHex(r.resp.ID)} keepalived with TTL(${r.resp.TTL})\n`,
  timeToLive(r, keys) {
    const x = r.resp;
    if (x.grantedTTL === 0n && x.TTL === -1n) return `lease ${leaseHex(x.ID)} already expired\n`;
    let s = `lease ${leaseHex(x.ID)} granted with TTL(${x.grantedTTL}s), remaining(${x.TTL}s)`;
    if (keys) s += `, attached keys([${x.keys.map((k) => binBytes(k)).join(' ')}])`;
    return s + '\n';
  },
  leases: (r) => `found ${r.resp.leases.length} leases\n` + r.resp.leases.map((l) => `${leaseHex(l.ID)}\n`).join(''),
};

const json: LeasePrinter = {
  grant: (r) =>
    `{${[...jsonHeaderFields(r.raw), `"ID":${wireInt(r.raw, 'ID')}`, `"TTL":${wireInt(r.raw, 'TTL')}`, `"Error":${goJsonString(r.resp.error ?? '')}`].join(',')}}\n`,
  revoke: (_id, r) => goJson('etcdserverpb.LeaseRevokeResponse', r.raw) + '\n',
  keepAlive: (r) => `{${[...jsonHeaderFields(r.raw), `"ID":${wireInt(r.raw, 'ID')}`, `"TTL":${wireInt(r.raw, 'TTL')}`].join(',')}}\n`,
  timeToLive(r) {
    const keys = r.resp.keys.length === 0 ? 'null' : `[${r.resp.keys.map((k) => `"${k.toString('base64')}"`).join(',')}]`;
    const parts = [
      ...jsonHeaderFields(r.raw),
      `"id":${wireInt(r.raw, 'ID')}`,
      `"ttl":${wireInt(r.raw, 'TTL')}`,
      `"granted-ttl":${wireInt(r.raw, 'grantedTTL')}`,
      `"keys":${keys}`,
    ];
    return `{${parts.join(',')}}\n`;
  },
  leases: (r) => `{${[...jsonHeaderFields(r.raw), `"leases":[${r.resp.leases.map((l) => `{"id":${l.ID}}`).join(',')}]`].join(',')}}\n`,
};

const fields: LeasePrinter = {
  grant: (r) => fieldsHeader(r.resp.header) + `"ID" : ${r.resp.ID}\n"TTL" : ${r.resp.TTL}\n`,
  revoke: (_id, r) => fieldsHeader(r.resp.header),
  keepAlive: (r) => fieldsHeader(r.resp.header) + `"ID" : ${r.resp.ID}\n"TTL" : ${r.resp.TTL}\n`,
  timeToLive: (r) =>
    fieldsHeader(r.resp.header) +
    `"ID" : ${r.resp.ID}\n"TTL" : ${r.resp.TTL}\n"GrantedTTL" : ${r.resp.grantedTTL}\n` +
    r.resp.keys.map((k) => `"Key" : ${goQuote(k)}\n`).join(''),
  leases: (r) => fieldsHeader(r.resp.header) + r.resp.leases.map((l) => `"ID" : ${l.ID}\n`).join(''),
};

const protobuf: LeasePrinter = {
  grant: (r) => protobufHeader(r.raw),
  revoke(_id, r) {
    const msg = `marshal unsupported for type clientv3.LeaseRevokeResponse ({${headerText(r.resp.header ?? zeroHeader)}})`;
    throw new CliExit(ExitCode.BadFeature, msg);
  },
  keepAlive: (r) => protobufHeader(r.raw),
  timeToLive: (r) => protobufHeader(r.raw),
  leases: (r) => protobufHeader(r.raw),
};

const table: LeasePrinter = {
  grant: () => {
    throw unsupported('table');
  },
  revoke: () => {
    throw unsupported('table');
  },
  keepAlive: () => {
    throw unsupported('table');
  },
  timeToLive: () => {
    throw unsupported('table');
  },
  leases: () => {
    throw unsupported('table');
  },
};

/** The lease printer of a --write-out value (validated by the command's client set-up). */
export function leasePrinter(format: string): LeasePrinter {
  switch (format) {
    case 'json':
      return json;
    case 'fields':
      return fields;
    case 'protobuf':
      return protobuf;
    case 'table':
      return table;
    default:
      return simple;
  }
}
