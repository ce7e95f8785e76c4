/**
 * etcdctl 3.4's display of the maintenance commands (printer_*.go EndpointHashKV, Alarm,
 * DBStatus), per --write-out format; texts checked against etcdctl 3.4.23. Kept apart from the
 * Printer interface: these are plain functions of the format.
 */
import type { AlarmList, CallResult, HashKV } from '../../client/types.js';
import { goJson, goProtobuf } from '../go-json.js';
import { bin, goJsonString, goQuote, humanizeBytes } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { renderTable } from '../table.js';
import { notSupported } from './table.js';

export interface EndpointHashKV {
  ep: string;
  resp: CallResult<HashKV>;
}

/** etcdctl snapshot.Status. */
export interface DbStatus {
  hash: number;
  revision: bigint;
  totalKey: number;
  totalSize: number;
}

const alarmNames: Record<number, string> = { 0: 'NONE', 1: 'NOSPACE', 2: 'CORRUPT' };

function hdr(h: HashKV['header']): string {
  return `"ClusterID" : ${h.cluster_id}\n"MemberID" : ${h.member_id}\n"Revision" : ${h.revision}\n"RaftTerm" : ${h.raft_term}\n`;
}

export function hashKvOutput(format: string, hs: EndpointHashKV[]): string {
  switch (format) {
    case 'simple':
      return hs.map((h) => bin(`${h.ep}, ${h.resp.resp.hash}\n`)).join('');
    case 'json':
      return `[${hs.map((h) => `{"Endpoint":${goJsonString(h.ep)},"HashKV":${goJson(h.resp.type, h.resp.raw)}}`).join(',')}]\n`;
    case 'fields':
      return hs.map((h) => `${hdr(h.resp.resp.header)}"Endpoint" : ${goQuote(h.ep)}\n"Hash" : ${h.resp.resp.hash}\n\n`).join('');
    case 'table':
      return bin(renderTable(['ENDPOINT', 'HASH'], hs.map((h) => [h.ep, String(h.resp.resp.hash)])));
    default:
      throw notSupported(format);
  }
}

/** Go's `%+v` of a *pb.AlarmMember. */
function alarmLine(a: { memberID: bigint; alarm: number }): string {
  return `memberID:${a.memberID} alarm:${alarmNames[a.alarm] ?? String(a.alarm)} \n`;
}

export function alarmOutput(format: string, r: CallResult<AlarmList>): string {
  switch (format) {
    case 'simple':
      return r.resp.alarms.map(alarmLine).join('');
    case 'json':
      return `${goJson(r.type, r.raw)}\n`;
    case 'protobuf':
      return goProtobuf(r.type, r.raw);
    case 'fields':
      if (!r.resp.header) {
        // etcd answers Alarm without a header and etcdctl 3.4's fields printer dereferences it.
        throw new CliExit(
          ExitCode.BadConnection,
          'panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]\n',
          { raw: true },
        );
      }
      return hdr(r.resp.header) + r.resp.alarms.map((a) => `"MemberID" : ${a.memberID}\n"AlarmType" : ${alarmNames[a.alarm] ?? a.alarm}\n`).join('');
    default:
      throw notSupported(format);
  }
}

export function dbStatusOutput(format: string, ds: DbStatus): string {
  const hash = ds.hash.toString(16);
  switch (format) {
    case 'simple':
      return `${hash}, ${ds.revision}, ${ds.totalKey}, ${humanizeBytes(ds.totalSize)}\n`;
    case 'json':
      return `{"hash":${ds.hash},"revision":${ds.revision},"totalKey":${ds.totalKey},"totalSize":${ds.totalSize}}\n`;
    case 'fields':
      return `"Hash" : ${ds.hash}\n"Revision" : ${ds.revision}\n"Keys" : ${ds.totalKey}\n"Size" : ${ds.totalSize}\n`;
    case 'table':
      return renderTable(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], [[hash, ds.revision.toString(), String(ds.totalKey), humanizeBytes(ds.totalSize)]]);
    default:
      throw notSupported(format);
  }
}
