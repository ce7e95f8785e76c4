/**
 * Maintenance.Snapshot: the member's state machine as a bbolt file with etcd's bucket layout
 * (api/snapshot-file.ts), so `etcdctl snapshot status|restore` and a real etcd can read it.
 *
 * Consistency: every range is read from one explicit LevelDB snapshot taken when reading
 * starts, and apply batches land atomically, so the file is the store exactly as of one applied
 * index (etcd streams one bbolt read transaction).
 *
 * Buckets written (etcd mvcc/backend names):
 *   key      MVCC records: 8-byte main '_' 8-byte sub ['t'] → mvccpb.KeyValue (tombstone: key only)
 *   meta     consistent_index (u64 BE), scheduledCompactRev / finishedCompactRev (revision bytes)
 *   members  this member list as etcd stores it (hex id → JSON), cluster: clusterVersion
 *   alarm    marshalled AlarmMember → empty
 *   etcdts   every non-Raft, non-MVCC record of ours verbatim (leases, auth, members, meta,
 *            alarms), so our restore brings back what etcd's buckets do not carry in our format.
 * The Raft log and hard state are left out (etcd's WAL is not in its snapshot either).
 *
 * The bbolt layout needs the whole tree before the meta pages, so the file is built in a temp
 * file first, then streamed (etcd also knows the size before sending: remaining_bytes).
 */
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { BoltWriter, pageBytes } from '../api/snapshot-file.js';
import { decodeKv, encodeKv } from '../mvcc/kv-codec.js';
import { Backend } from '../storage/backend.js';
import { idOfKey, metaKey, mvccKeyBytes, parseMvccKey, prefix } from '../storage/schema.js';
import { u64FromBytesBE } from '../base/int64.js';

/** Bucket names as etcd's backend declares them. */
export const bucket = {
  key: 'key',
  meta: 'meta',
  members: 'members',
  membersRemoved: 'members_removed',
  cluster: 'cluster',
  alarm: 'alarm',
  lease: 'lease',
  etcdts: 'etcdts',
} as const;

/** Keys of etcd's meta bucket. */
export const etcdMetaKey = {
  consistentIndex: Buffer.from('consistent_index'),
  scheduledCompactRev: Buffer.from('scheduledCompactRev'),
  finishedCompactRev: Buffer.from('finishedCompactRev'),
  clusterVersion: Buffer.from('clusterVersion'),
} as const;

const emptyKv = { key: Buffer.alloc(0), create_revision: 0n, mod_revision: 0n, version: 0n, value: Buffer.alloc(0), lease: 0n };

/** Key ranges of the state machine, in key order: everything but the Raft records. */
export function stateRanges(): [Buffer, Buffer][] {
  const raft = [prefix.raftEntry, prefix.hardState, prefix.raftSnapshot].map((p) => p[0] as number).sort((a, b) => a - b);
  const out: [Buffer, Buffer][] = [];
  let from = 0;
  for (const r of raft) {
    if (r > from) out.push([Buffer.from([from]), Buffer.from([r])]);
    from = r + 1;
  }
  out.push([Buffer.from([from]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
  return out;
}

/** Bytes of consecutive pages gathered into one file write. */
const snapshotWriteRunBytes = 1024 * 1024;

/** Keys read per step while writing a snapshot. */
const snapshotScanKeys = 1000;

/**
 * Every state-machine record in key order, read from one explicit LevelDB snapshot taken at
 * the first step (one point in time across the ranges; the Raft log between them is not read).
 */
export async function* stateRecords(backend: Backend): AsyncGenerator<[Buffer, Buffer]> {
  const snapshot = backend.engine.snapshot();
  try {
    for (const [gte, lt] of stateRanges()) {
      const it = backend.engine.iterator({ gte, lt, snapshot });
      try {
        for (;;) {
          const chunk = await it.nextv(snapshotScanKeys);
          if (chunk.length === 0) break;
          for (const e of chunk) yield e;
        }
      } finally {
        await it.close();
      }
    }
  } finally {
    await snapshot.close();
  }
}

/** etcd revToBytes: 8-byte main, '_', 8-byte sub, then 't' for a tombstone. */
export function etcdRevisionKey(ourKey: Buffer): Buffer {
  const tomb = ourKey.length > mvccKeyBytes;
  const out = Buffer.allocUnsafe(tomb ? 18 : 17);
  ourKey.copy(out, 0, 1, 9);
  out[8] = 0x5f; // '_'
  ourKey.copy(out, 9, 9, 17);
  if (tomb) out[17] = 0x74;
  return out;
}

/** The value etcd stores for an MVCC record: a tombstone carries the key only. */
export function etcdRecordValue(ourKey: Buffer, value: Buffer): Buffer {
  if (ourKey.length === mvccKeyBytes) return value; // not a tombstone (schema.ts mvccKey)
  return encodeKv({ ...emptyKv, key: Buffer.from(decodeKv(value).key) });
}

function revBytes(main: bigint): Buffer {
  const out = Buffer.alloc(17);
  out.writeBigUInt64BE(BigInt.asUintN(64, main), 0);
  out[8] = 0x5f;
  return out;
}

function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

/** Protobuf of etcdserverpb.AlarmMember (etcd's alarm bucket key). */
export function alarmMemberBytes(memberID: bigint, alarm: number): Buffer {
  const b: number[] = [];
  if (memberID !== 0n) b.push(0x08, ...varint(memberID));
  if (alarm !== 0) b.push(0x10, ...varint(BigInt(alarm)));
  return Buffer.from(b);
}

function goJsonString(s: string): string {
  return JSON.stringify(s);
}

interface StoredMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner?: boolean;
}

/** etcd membership.Member as json.Marshal writes it into the members bucket. */
function etcdMemberJson(m: StoredMember): string {
  let s = `{"id":${BigInt(m.id).toString()},"peerURLs":[${m.peerURLs.map(goJsonString).join(',')}]`;
  if (m.isLearner) s += ',"isLearner":true';
  if (m.name) s += `,"name":${goJsonString(m.name)}`;
  if (m.clientURLs.length > 0) s += `,"clientURLs":[${m.clientURLs.map(goJsonString).join(',')}]`;
  return `${s}}`;
}

export interface SnapshotFile {
  path: string;
  /** Bytes of the bbolt file (without the trailing hash). */
  size: number;
}

/** Writes the state machine of `backend` as a bbolt file at `file`. */
export async function writeSnapshotFile(backend: Backend, file: string): Promise<SnapshotFile> {
  // Everything applied so far lands first (the backend gathers writes).
  await backend.drain();
  const fh = await open(file, 'w', 0o600);
  try {
    // Pages come mostly in file order: gather runs of consecutive pages into large writes.
    let runStart = -1;
    let runPages: Buffer[] = [];
    let runBytes = 0;
    const flushRun = async (): Promise<void> => {
      if (runPages.length === 0) return;
      const data = Buffer.concat(runPages, runBytes);
      runPages = [];
      runBytes = 0;
      await fh.write(data, 0, data.length, runStart * pageBytes);
    };
    const w = new BoltWriter({
      write: async (pgid, data) => {
        if (runPages.length > 0 && (pgid !== runStart + runBytes / pageBytes || runBytes >= snapshotWriteRunBytes)) await flushRun();
        if (runPages.length === 0) runStart = pgid;
        runPages.push(data);
        runBytes += data.length;
      },
    });
    const keys = w.bucket(bucket.key);
    const raw = w.bucket(bucket.etcdts);
    const meta = new Map<string, Buffer>();
    const alarms: Buffer[] = [];
    for await (const [k, v] of stateRecords(backend)) {
      const kind = k[0] as number;
      if (kind === prefix.mvcc[0]) {
        await keys.add(etcdRevisionKey(k), etcdRecordValue(k, v));
        continue;
      }
      await raw.add(k, v);
      if (kind === prefix.meta[0]) meta.set(k.subarray(1).toString('latin1'), v);
      else if (kind === prefix.alarm[0]) alarms.push(alarmMemberBytes(idOfKey(k), k[9] as number));
    }
    const m = w.bucket(bucket.meta);
    const ci = meta.get(metaKey.consistentIndex.subarray(1).toString('latin1'));
    if (ci) await m.add(etcdMetaKey.consistentIndex, ci);
    const fin = meta.get(metaKey.finishedCompactRev.subarray(1).toString('latin1'));
    if (fin) await m.add(etcdMetaKey.finishedCompactRev, revBytes(u64FromBytesBE(fin)));
    const sched = meta.get(metaKey.scheduledCompactRev.subarray(1).toString('latin1'));
    if (sched) await m.add(etcdMetaKey.scheduledCompactRev, revBytes(u64FromBytesBE(sched)));
    const a = w.bucket(bucket.alarm);
    for (const k of alarms.sort(Buffer.compare)) await a.add(k, Buffer.alloc(0));
    const mem = w.bucket(bucket.members);
    const membersJson = meta.get(metaKey.members.subarray(1).toString('latin1'));
    if (membersJson) {
      const list = (JSON.parse(membersJson.toString()) as StoredMember[])
        .map((x) => [Buffer.from(BigInt(x.id).toString(16)), Buffer.from(etcdMemberJson(x))] as const)
        .sort((x, y) => Buffer.compare(x[0], y[0]));
      for (const [k, v] of list) await mem.add(k, v);
    }
    w.bucket(bucket.membersRemoved);
    w.bucket(bucket.lease);
    const cv = meta.get(metaKey.clusterVersion.subarray(1).toString('latin1'));
    const c = w.bucket(bucket.cluster);
    if (cv) await c.add(etcdMetaKey.clusterVersion, cv);
    const pages = await w.finish();
    await flushRun();
    await fh.sync();
    return { path: file, size: pages * pageBytes };
  } finally {
    await fh.close();
  }
}


/** etcd v3rpc snapshotSendBufferSize. */
export const snapshotChunkBytes = 32 * 1024;

export interface SnapshotChunk {
  remaining_bytes: bigint;
  blob: Buffer;
}

/**
 * Streams a snapshot file in chunks with the bytes remaining after each, then the file's
 * SHA-256 as the last chunk (remaining 0), as etcd does; removes the file at the end.
 */
export async function* snapshotChunks(f: SnapshotFile): AsyncGenerator<SnapshotChunk> {
  const fh = await open(f.path, 'r');
  try {
    const h = createHash('sha256');
    let sent = 0;
    const buf = Buffer.allocUnsafe(snapshotChunkBytes);
    while (sent < f.size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(snapshotChunkBytes, f.size - sent), sent);
      if (bytesRead === 0) throw new Error(`snapshot file ${f.path} shorter than ${f.size} bytes`);
      const blob = Buffer.from(buf.subarray(0, bytesRead));
      h.update(blob);
      sent += bytesRead;
      yield { remaining_bytes: BigInt(f.size - sent), blob };
    }
    yield { remaining_bytes: 0n, blob: h.digest() };
  } finally {
    await fh.close();
    await rm(f.path, { force: true });
  }
}
