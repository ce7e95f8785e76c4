/**
 * Every key prefix of the classic-level database, in one place (DESIGN "Durability and apply").
 * One byte per kind of record; the rest of the key is fixed-width big-endian so that byte order
 * equals numeric order.
 *
 *   'e' + index u64                      raft log entry (raft-log.ts)
 *   'h'                                  raft hard state {term, vote, commit}
 *   's'                                  raft snapshot metadata (later: replicated cluster)
 *   'k' + main u64 + sub u64 [+ 't']     MVCC record at revision (main, sub); 't' marks a tombstone
 *   'm' + name                           meta: consistent index, compaction marks, cluster/member ids
 *   'l' + lease id u64                   lease (later: lease service)
 *   'a' + ...                            auth users/roles (later: auth service)
 *   'c' + member id u64                  cluster members (later: membership)
 *   'A' + member id u64 + type u8        alarms (later: maintenance)
 */
export const prefix = {
  raftEntry: Buffer.from('e'),
  hardState: Buffer.from('h'),
  raftSnapshot: Buffer.from('s'),
  mvcc: Buffer.from('k'),
  meta: Buffer.from('m'),
  lease: Buffer.from('l'),
  auth: Buffer.from('a'),
  member: Buffer.from('c'),
  alarm: Buffer.from('A'),
} as const;

export const metaKey = {
  /** Index of the last raft entry whose effects are in the store (etcd's consistent index). */
  consistentIndex: Buffer.from('mconsistent_index'),
  /** Compaction requested up to this revision (etcd scheduledCompactRev). */
  scheduledCompactRev: Buffer.from('mscheduled_compact_rev'),
  /** Compaction physically finished up to this revision (etcd finishedCompactRev). */
  finishedCompactRev: Buffer.from('mfinished_compact_rev'),
  clusterId: Buffer.from('mcluster_id'),
  memberId: Buffer.from('mmember_id'),
  /** JSON of the bootstrap member list (until membership is replicated). */
  members: Buffer.from('mmembers'),
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
