/**
 * etcdctl's display: one printer per --write-out format, each with a method per response kind.
 * Methods return the text to print (binary strings); a format a command does not support throws
 * CliExit(ExitBadFeature, "<format> not supported as output format"), which etcdctl raises only
 * after the request was made (the write has happened by then).
 */
import type { CallResult, DeleteRange, MemberList, Put, Range, Status, Txn } from '../../client/types.js';

export interface EndpointHealth {
  ep: string;
  health: boolean;
  /** Go Duration.String() of the check's time. */
  took: string;
  error: string;
}

export interface EndpointStatus {
  ep: string;
  resp: CallResult<Status>;
}

export interface Printer {
  get(r: CallResult<Range>): string;
  put(r: CallResult<Put>): string;
  del(r: CallResult<DeleteRange>): string;
  txn(r: CallResult<Txn>): string;
  memberList(r: CallResult<MemberList>): string;
  endpointHealth(hs: EndpointHealth[]): { stdout: string; stderr: string };
  endpointStatus(ss: EndpointStatus[]): string;
}

export type Format = 'simple' | 'json' | 'fields' | 'protobuf' | 'table';

export const formats: readonly string[] = ['simple', 'json', 'fields', 'protobuf', 'table'];
