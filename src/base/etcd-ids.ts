/**
 * Member and cluster ids computed exactly as etcd does (server/etcdserver/api/membership):
 * member id = first 8 bytes (big-endian) of SHA-1(sorted peer URLs joined + cluster token
 * [+ unix seconds for runtime-added members]); cluster id = first 8 bytes of SHA-1 of the sorted
 * member ids as 8-byte big-endian integers. Same flags ⇒ same ids as etcd.
 */
import { createHash } from 'node:crypto';
import { u64FromBytesBE, u64ToBytesBE } from './int64.js';

export function computeMemberId(peerUrls: string[], token: string, nowUnixSeconds?: bigint): bigint {
  const sorted = [...peerUrls].sort();
  let s = sorted.join('') + token;
  if (nowUnixSeconds !== undefined) s += nowUnixSeconds.toString();
  return u64FromBytesBE(createHash('sha1').update(s).digest());
}

export function computeClusterId(memberIds: bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const b = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => u64ToBytesBE(id, b, 8 * i));
  return u64FromBytesBE(createHash('sha1').update(b).digest());
}
