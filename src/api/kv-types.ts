/**
 * Domain types of the KV API: etcd's proto messages with the proto field names kept, 64-bit
 * integers as bigint, bytes as Buffer, enums as numbers. The rpc layer converts wire ↔ these
 * (convert.ts); apply and MVCC work only with these.
 */

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;
export const EventType = { PUT: 0, DELETE: 1 } as const;

export interface KeyValue {
  key: Buffer;
  create_revision: bigint;
  mod_revision: bigint;
  version: bigint;
  value: Buffer;
  lease: bigint;
}

export interface Event {
  type: number;
  kv: KeyValue;
  prev_kv: KeyValue | null;
}

export interface RevisionHeader {
  revision: bigint;
}

export interface RangeRequest {
  key: Buffer;
  range_end: Buffer;
  limit: bigint;
  revision: bigint;
  sort_order: number;
  sort_target: number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: bigint;
  max_mod_revision: bigint;
  min_create_revision: bigint;
  max_create_revision: bigint;
}

export interface RangeResponse {
  header: RevisionHeader;
  kvs: KeyValue[];
  more: boolean;
  count: bigint;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease: bigint;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}

export interface PutResponse {
  header: RevisionHeader;
  prev_kv: KeyValue | null;
}

export interface DeleteRangeRequest {
  key: Buffer;
  range_end: Buffer;
  prev_kv: boolean;
}

export interface DeleteRangeResponse {
  header: RevisionHeader;
  deleted: bigint;
  prev_kvs: KeyValue[];
}

export interface RequestOp {
  request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  request_range?: RangeRequest | null;
  request_put?: PutRequest | null;
  request_delete_range?: DeleteRangeRequest | null;
  request_txn?: TxnRequest | null;
}

export interface ResponseOp {
  response: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn';
  response_range?: RangeResponse;
  response_put?: PutResponse;
  response_delete_range?: DeleteRangeResponse;
  response_txn?: TxnResponse;
}

export interface Compare {
  result: number;
  target: number;
  key: Buffer;
  target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
  version?: bigint;
  create_revision?: bigint;
  mod_revision?: bigint;
  value?: Buffer;
  lease?: bigint;
  range_end: Buffer;
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  header: RevisionHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: bigint;
  physical: boolean;
}

export interface CompactionResponse {
  header: RevisionHeader;
}

export function emptyRangeRequest(key: Buffer, range_end: Buffer = Buffer.alloc(0)): RangeRequest {
  return {
    key,
    range_end,
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
}
