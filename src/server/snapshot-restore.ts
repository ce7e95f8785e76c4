/**
 * `snapshot restore`: a fresh data dir for a NEW cluster from a snapshot file (etcd
 * clientv3/snapshot v3_snapshot.go Restore). The contract with the server's bootstrap:
 *
 *   <data-dir>/member/db (classic-level) holds every state-machine record of the snapshot
 *   (MVCC, compaction marks, and our own records — leases, auth — from the `etcdts` bucket),
 *   plus meta member id, cluster id and member list of the new cluster; alarms are cleared; no
 *   consistent index, no Raft log, no hard state. The server, seeing members in meta and an
 *   empty log, starts as a fresh member of that cluster with the restored data.
 *
 * A snapshot of a real etcd restores too: its `key` bucket (MVCC) and compaction marks; its
 * leases and auth are not carried over (our lease and auth records have their own formats).
 *
 * As etcd: the trailing SHA-256 is checked when present (file size % 512 == 32), a snapshot
 * without one needs skipHashCheck; an existing data dir is refused.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { BoltReader, snapshotHashBytes, type FileReader } from '../api/snapshot-file.js';
import { Backend, WriteBatch } from '../storage/backend.js';
import { metaKey, mvccKey, prefix } from '../storage/schema.js';
import { bucket, etcdMetaKey } from './snapshot.js';
import type { MemberInfo } from './server-api.js';

export class RestoreError extends Error {
  override name = 'RestoreError';
}

export interface RestoreOptions {
  snapshotPath: string;
  dataDir: string;
  memberId: bigint;
  clusterId: bigint;
  members: MemberInfo[];
  skipHashCheck: boolean;
  /** Progress lines (etcdctl logs them). */
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export interface RestoreResult {
  /** MVCC records written. */
  records: number;
  /** Our own records (leases, auth...) written from the etcdts bucket. */
  extraRecords: number;
  /** Highest main revision among the MVCC records. */
  revision: bigint;
}

/** Records per classic-level batch while restoring (bounded memory). */
export const restoreBatchRecords = 1000;

/** Record kinds of ours that a restore must not bring back: the old cluster and its alarms. */
const droppedKinds = new Set([prefix.alarm[0], prefix.member[0], prefix.removedMember[0], prefix.raftEntry[0], prefix.hardState[0], prefix.raftSnapshot[0]]);
/** Meta records carried over; the rest (ids, members, consistent index, term) belong to the old cluster. */
const keptMeta = [metaKey.scheduledCompactRev, metaKey.finishedCompactRev, metaKey.clusterVersion];

export function fileReader(fd: number): FileReader {
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return buf;
    },
  };
}

/** Checks the trailing SHA-256 as etcd's restore does; returns the size of the bbolt part. */
export function checkSnapshotHash(fd: number, skipHashCheck: boolean): number {
  const size = fstatSync(fd).size;
  const hasHash = size % 512 === snapshotHashBytes;
  if (!hasHash && !skipHashCheck) throw new RestoreError('snapshot missing hash but --skip-hash-check=false');
  if (!hasHash) return size;
  const dbSize = size - snapshotHashBytes;
  if (!skipHashCheck) {
    const h = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    for (let off = 0; off < dbSize; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, dbSize - off), off);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      off += n;
    }
    const want = Buffer.alloc(snapshotHashBytes);
    readSync(fd, want, 0, snapshotHashBytes, dbSize);
    const got = h.digest();
    if (!got.equals(want)) throw new RestoreError(`expected sha256 ${goBytes(want)}, got ${goBytes(got)}`);
  }
  return dbSize;
}

/** Go's %v of a []byte. */
function goBytes(b: Buffer): string {
  return `[${[...b].join(' ')}]`;
}

function revMain(b: Buffer): bigint {
  if (b.length < 8) throw new RestoreError('invalid revision in snapshot meta bucket');
  return b.readBigUInt64BE(0);
}

export async function restoreSnapshot(o: RestoreOptions): Promise<RestoreResult> {
  if (existsSync(o.dataDir)) throw new RestoreError(`data-dir ${JSON.stringify(o.dataDir)} exists`);
  const log = o.log ?? (() => undefined);
  const fd = openSync(o.snapshotPath, 'r');
  try {
    const dbSize = checkSnapshotHash(fd, o.skipHashCheck);
    const file = fileReader(fd);
    const reader = new BoltReader({ size: dbSize, read: (off, len) => file.read(off, Math.min(len, dbSize - off)) });
    const dbDir = path.join(o.dataDir, 'member', 'db');
    log('restoring snapshot', { path: o.snapshotPath, 'data-dir': o.dataDir });
    const backend = await Backend.open(dbDir);
    try {
      const res: RestoreResult = { records: 0, extraRecords: 0, revision: 0n };
      let batch = new WriteBatch();
      const flush = async (): Promise<void> => {
        await backend.commit(batch);
        batch = new WriteBatch();
      };
      for (const [k, v] of reader.bucket(Buffer.from(bucket.key)) ?? []) {
        if (k.length !== 17 && !(k.length === 18 && k[17] === 0x74)) throw new RestoreError('invalid revision key in snapshot');
        const main = k.readBigUInt64BE(0);
        batch.put(mvccKey(main, k.readBigUInt64BE(9), k.length === 18), Buffer.from(v));
        if (main > res.revision) res.revision = main;
        res.records++;
        if (batch.size >= restoreBatchRecords) await flush();
      }
      const ours = reader.bucket(Buffer.from(bucket.etcdts));
      if (ours) {
        for (const [k, v] of ours) {
          if (k.length === 0 || droppedKinds.has(k[0])) continue;
          if (k[0] === prefix.meta[0] && !keptMeta.some((m) => m.equals(k))) continue;
          if (k[0] === prefix.mvcc[0]) continue;
          batch.put(Buffer.from(k), Buffer.from(v));
          res.extraRecords++;
          if (batch.size >= restoreBatchRecords) await flush();
        }
      } else {
        // A real etcd's snapshot: its compaction marks are revision keys.
        const meta = new Map<string, Buffer>();
        for (const [k, v] of reader.bucket(Buffer.from(bucket.meta)) ?? []) meta.set(k.toString('latin1'), v);
        const sched = meta.get(etcdMetaKey.scheduledCompactRev.toString('latin1'));
        const fin = meta.get(etcdMetaKey.finishedCompactRev.toString('latin1'));
        if (sched) batch.put(metaKey.scheduledCompactRev, Backend.u64(revMain(sched)));
        if (fin) batch.put(metaKey.finishedCompactRev, Backend.u64(revMain(fin)));
      }
      batch.put(metaKey.memberId, Backend.u64(o.memberId));
      batch.put(metaKey.clusterId, Backend.u64(o.clusterId));
      batch.put(metaKey.members, Buffer.from(JSON.stringify(o.members.map((m) => ({ ...m, id: m.id.toString() })))));
      await backend.commit(batch, true);
      for (const m of o.members) log('added member', { 'cluster-id': m.id === o.memberId ? o.clusterId.toString(16) : undefined, 'added-peer-id': m.id.toString(16), 'added-peer-peer-urls': m.peerURLs });
      log('restored snapshot', { path: o.snapshotPath, 'data-dir': o.dataDir });
      return res;
    } finally {
      await backend.close();
    }
  } finally {
    closeSync(fd);
  }
}
