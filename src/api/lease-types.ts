/**
 * Domain types of the Lease API: etcd's proto messages (proto/etcdserverpb/rpc.proto) with the
 * proto field names kept, 64-bit integers as bigint, bytes as Buffer.
 */
import type { RevisionHeader } from './kv-types.js';

export interface LeaseGrantRequest {
  TTL: bigint;
  ID: bigint;
}

export interface LeaseGrantResponse {
  header: RevisionHeader;
  ID: bigint;
  TTL: bigint;
  error: string;
}

export interface LeaseRevokeRequest {
  ID: bigint;
}

export interface LeaseRevokeResponse {
  header: RevisionHeader;
}

export interface LeaseCheckpointEntry {
  ID: bigint;
  remaining_TTL: bigint;
}

export interface LeaseCheckpointRequest {
  checkpoints: LeaseCheckpointEntry[];
}

export interface LeaseKeepAliveRequest {
  ID: bigint;
}

export interface LeaseKeepAliveResponse {
  header: RevisionHeader;
  ID: bigint;
  TTL: bigint;
}

export interface LeaseTimeToLiveRequest {
  ID: bigint;
  keys: boolean;
}

export interface LeaseTimeToLiveResponse {
  header: RevisionHeader;
  ID: bigint;
  TTL: bigint;
  grantedTTL: bigint;
  keys: Buffer[];
}

export interface LeaseLeasesResponse {
  header: RevisionHeader;
  leases: { ID: bigint }[];
}
