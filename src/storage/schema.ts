/**
 * Every key of the classic-level database, in one place (DESIGN "Durability and apply").
 *
 * A key starts with one byte naming the kind of record; the rest is fixed-width big-endian
 * where it holds numbers, so that byte order equals numeric order and a kind is one contiguous
 * range [prefix, prefixUpper(prefix)). No two kinds share a first byte.
 *
 *   'e' + index u64                      reserved (Raft entries now live in the WAL, wal.ts)
 *   'h'                                  reserved (the Raft hard state now lives in the WAL)
 *   's'                                  raft snapshot metadata (replicated cluster)
 *   'k' + main u64 + sub u64 [+ 't']     MVCC record at revision (main, sub); a trailing 't'
 *                                        marks a tombstone (etcd: 8-byte main '_' 8-byte sub 't')
 *   'm' + name                           meta: consistent index, compaction marks, ids (metaKey)
 *   'l' + lease id u64                   lease {ttl, remaining ttl} (lease service)
 *   'a' + name                           auth meta: enabled flag, auth revision (auth service)
 *   'u' + user name                      auth user (authpb.User)
 *   'r' + role name                      auth role (authpb.Role)
 *   'c' + member id u64                  cluster member (membership)
 *   'd' + member id u64                  removed member id (membership: refuse it forever)
 *   'A' + member id u64 + alarm type u8  active alarm (maintenance)
 *
 * Invariant: the prefixes are pairwise distinct single bytes (asserted below).
 */
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';

export const prefix = {
  raftEntry: Buffer.from('e'),
  hardState: Buffer.from('h'),
  raftSnapshot: Buffer.from('s'),
  mvcc: Buffer.from('k'),
  meta: Buffer.from('m'),
  lease: Buffer.from('l'),
  auth: Buffer.from('a'),
  authUser: Buffer.from('u'),
  authRole: Buffer.from('r'),
  member: Buffer.from('c'),
  removedMember: Buffer.from('d'),
  alarm: Buffer.from('A'),
} as const;

{
  const seen = new Set<number>();
  for (const p of Object.values(prefix)) {
    assert(p.length === 1 && !seen.has(p[0] as number), 'schema prefixes must be distinct single bytes');
    seen.add(p[0] as number);
  }
}

function metaName(name: string): Buffer {
  return Buffer.concat([prefix.meta, Buffer.from(name)]);
}

export const metaKey = {
  /** Index of the last raft entry whose effects are in the store (etcd's consistent index). */
  consistentIndex: metaName('consistent_index'),
  /** Compaction requested up to this revision (etcd scheduledCompactRev), u64. */
  scheduledCompactRev: metaName('scheduled_compact_rev'),
  /** Compaction physically finished up to this revision (etcd finishedCompactRev), u64. */
  finishedCompactRev: metaName('finished_compact_rev'),
  clusterId: metaName('cluster_id'),
  memberId: metaName('member_id'),
  /** JSON of the bootstrap member list (until membership is replicated). */
  members: metaName('members'),
  /** Cluster version string (etcd cluster/clusterVersion). */
  clusterVersion: metaName('cluster_version'),
  /** --initial-cluster-token the data dir was bootstrapped with (to refuse another cluster's). */
  clusterToken: metaName('cluster_token'),
  /** The Raft configuration (voters, learners) as of the consistent index (etcd 3.5 confState key). */
  confState: metaName('conf_state'),
  /** Term of the consistent index (etcd 3.5 term key). */
  consistentTerm: metaName('consistent_term'),
  /** Present when this member joined an existing cluster (--initial-cluster-state existing):
   *  its Raft core starts with no configuration instead of bootstrapping one. Member-local. */
  joinExisting: metaName('join_existing'),
  /** Id of the key index checkpoint the MVCC records were last described by (mvcc/index-checkpoint.ts). */
  indexCheckpoint: metaName('index_checkpoint'),
} as const;

/** The first key after every key that starts with p. */
export function prefixUpper(p: Buffer): Buffer {
  const out = Buffer.from(p);
  for (let i = out.length - 1; i >= 0; i--) {
    if ((out[i] as number) < 0xff) {
      out[i] = (out[i] as number) + 1;
      return out.subarray(0, i + 1);
    }
  }
  return Buffer.from([0xff, 0xff, 0xff, 0xff]);
}

function withU64(p: Buffer, v: bigint): Buffer {
  const k = Buffer.allocUnsafe(p.length + 8);
  p.copy(k, 0);
  u64ToBytesBE(v, k, p.length);
  return k;
}

// ---- raft log ----

export function raftEntryKey(index: bigint): Buffer {
  return withU64(prefix.raftEntry, index);
}

// ---- MVCC revisions ----

/** Length of an MVCC record key without the tombstone mark: prefix + main + sub. */
export const mvccKeyBytes = 17;
const tombstoneMark = 0x74; // 't'

export function mvccKey(main: bigint, sub: bigint, tombstone: boolean): Buffer {
  const k = Buffer.allocUnsafe(tombstone ? mvccKeyBytes + 1 : mvccKeyBytes);
  k[0] = prefix.mvcc[0] as number;
  u64ToBytesBE(main, k, 1);
  u64ToBytesBE(sub, k, 9);
  if (tombstone) k[mvccKeyBytes] = tombstoneMark;
  return k;
}

export interface MvccKeyParts {
  main: bigint;
  sub: bigint;
  tombstone: boolean;
}

/** u64FromBytesBE with 32-bit halves: this runs for every record at start-up. */
function u64At(k: Uint8Array, at: number): bigint {
  const hi = ((k[at] as number) * 0x1000000 + (((k[at + 1] as number) << 16) | ((k[at + 2] as number) << 8) | (k[at + 3] as number)));
  const lo = ((k[at + 4] as number) * 0x1000000 + (((k[at + 5] as number) << 16) | ((k[at + 6] as number) << 8) | (k[at + 7] as number)));
  if (hi < 0x200000) return BigInt(hi * 0x100000000 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function parseMvccKey(k: Uint8Array): MvccKeyParts {
  assert(k[0] === prefix.mvcc[0], 'not an MVCC key');
  assert(
    k.length === mvccKeyBytes || (k.length === mvccKeyBytes + 1 && k[mvccKeyBytes] === tombstoneMark),
    'bad MVCC key length',
  );
  return { main: u64At(k, 1), sub: u64At(k, 9), tombstone: k.length === mvccKeyBytes + 1 };
}

/** Lower bound of every MVCC key with main revision ≥ main. */
/** mvccKey with number revisions (the MVCC index keeps numbers; exact below 2^53). */
export function mvccKeyN(main: number, sub: number, tombstone: boolean): Buffer {
  const k = Buffer.allocUnsafe(tombstone ? mvccKeyBytes + 1 : mvccKeyBytes);
  k[0] = prefix.mvcc[0] as number;
  k.writeUInt32BE(Math.floor(main / 0x1_0000_0000), 1);
  k.writeUInt32BE(main >>> 0, 5);
  k.writeUInt32BE(Math.floor(sub / 0x1_0000_0000), 9);
  k.writeUInt32BE(sub >>> 0, 13);
  if (tombstone) k[mvccKeyBytes] = tombstoneMark;
  return k;
}

/** The main revision of an MVCC record key, as a number. */
export function mvccMainOf(k: Buffer): number {
  return k.readUInt32BE(1) * 0x1_0000_0000 + k.readUInt32BE(5);
}

/** The sub revision of an MVCC record key, as a number. */
export function mvccSubOf(k: Buffer): number {
  return k.readUInt32BE(9) * 0x1_0000_0000 + k.readUInt32BE(13);
}

export function isTombstoneKey(k: Uint8Array): boolean {
  return k.length === mvccKeyBytes + 1 && k[mvccKeyBytes] === tombstoneMark;
}

export function mvccKeyFloor(main: bigint): Buffer {
  return mvccKey(main, 0n, false);
}

// ---- lease, auth, membership, alarms ----

export function leaseKey(id: bigint): Buffer {
  return withU64(prefix.lease, BigInt.asUintN(64, id));
}

export function parseLeaseKey(k: Uint8Array): bigint {
  assert(k[0] === prefix.lease[0] && k.length === 9, 'not a lease key');
  return BigInt.asIntN(64, u64FromBytesBE(k, 1));
}

export function authKey(name: string): Buffer {
  return Buffer.concat([prefix.auth, Buffer.from(name)]);
}

export function authUserKey(name: Uint8Array): Buffer {
  return Buffer.concat([prefix.authUser, name]);
}

export function authRoleKey(name: Uint8Array): Buffer {
  return Buffer.concat([prefix.authRole, name]);
}

export function memberKey(id: bigint): Buffer {
  return withU64(prefix.member, id);
}

export function removedMemberKey(id: bigint): Buffer {
  return withU64(prefix.removedMember, id);
}

export function alarmKey(memberId: bigint, alarmType: number): Buffer {
  const k = Buffer.allocUnsafe(10);
  prefix.alarm.copy(k, 0);
  u64ToBytesBE(memberId, k, 1);
  k[9] = alarmType;
  return k;
}

/** The member id part of a key built by memberKey/removedMemberKey/alarmKey. */
export function idOfKey(k: Uint8Array): bigint {
  assert(k.length >= 9, 'key too short for an id');
  return u64FromBytesBE(k, 1);
}
