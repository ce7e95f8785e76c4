/**
 * The member's state as a Raft snapshot payload: every record of the backend except the ones
 * that belong to this member alone (its Raft log, hard state, snapshot metadata and member id).
 * A leader streams it to a follower that fell behind its compacted log (etcd sends its bolt db
 * the same way); the follower stores the stream in a file, fsyncs it, and installs it from the
 * file in ONE backend write when the Raft core hands the snapshot out in a Ready.
 *
 * Format: "ETSNAP1\n", then records `u32 BE key length | key | u32 BE value length | value`,
 * then the end marker 0xFFFFFFFF and the SHA-256 of everything before the marker.
 *
 * Invariants: the dump is read through one iterator, so it is one consistent state of the store
 * (classic-level iterators read an implicit snapshot; every apply batch is atomic and carries
 * its consistent index, so the dump's consistent index says exactly which entries it holds);
 * a file that is truncated or corrupted is never installed (the digest is checked first).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { metrics, secondsSince } from '../base/metrics.js';
import type { Backend, BatchOp } from '../storage/backend.js';
import { nodeDisk, type Disk } from '../storage/disk.js';
import { metaKey, prefix } from '../storage/schema.js';

const magic = Buffer.from('ETSNAP1\n');
const endMarker = 0xffffffff;
export const snapshotChunkBytes = 1024 * 1024;

/** Records that describe this member only and never travel in a snapshot. */
export function isMemberLocalKey(k: Buffer): boolean {
  const p = k[0];
  if (p === prefix.raftEntry[0] || p === prefix.hardState[0] || p === prefix.raftSnapshot[0]) return true;
  return k.equals(metaKey.memberId) || k.equals(metaKey.joinExisting);
}

const allKeysLo = Buffer.alloc(0);
const allKeysHi = Buffer.alloc(64, 0xff);

/**
 * A consistent dump of the backend, in chunks of about snapshotChunkBytes. From its start until
 * the consumer is done with it (sent, or cut short) it counts in
 * etcd_disk_backend_snapshot_duration_seconds, as etcd's backend snapshot does until Close.
 */
export function dumpState(backend: Backend): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const t0 = performance.now();
      try {
        yield* dumpChunks(backend);
      } finally {
        metrics.disk.backendSnapshot.observe(secondsSince(t0));
      }
    },
  };
}

async function* dumpChunks(backend: Backend): AsyncGenerator<Uint8Array> {
  // Everything applied so far lands first (the backend gathers writes), then the
  // iterator's snapshot of the database is taken.
  await backend.drain();
  const scan = backend.scan(allKeysLo, allKeysHi);
  const hash = createHash('sha256');
  let parts: Buffer[] = [magic];
  let size = magic.length;
  hash.update(magic);
  for await (const [k, v] of scan) {
    if (isMemberLocalKey(k)) continue;
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(k.length);
    const mid = Buffer.allocUnsafe(4);
    mid.writeUInt32BE(v.length);
    for (const b of [head, k, mid, v]) {
      hash.update(b);
      parts.push(b);
      size += b.length;
    }
    if (size >= snapshotChunkBytes) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  const end = Buffer.allocUnsafe(4);
  end.writeUInt32BE(endMarker);
  parts.push(end, hash.digest());
  yield Buffer.concat(parts);
}

/** Writes a received snapshot stream to `file` (via a temporary name) and fsyncs it. */
export async function storeStateFile(file: string, data: AsyncIterable<Uint8Array>, disk: Disk = nodeDisk): Promise<void> {
  await disk.mkdirp(path.dirname(file));
  const tmp = `${file}.part`;
  const fh = await disk.open(tmp, { create: true });
  try {
    let pos = 0;
    for await (const chunk of data) {
      await fh.write(chunk, pos);
      pos += chunk.length;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await parseStateFile(await disk.readFile(tmp)); // refuse a truncated or corrupt stream now
  await disk.rename(tmp, file);
}

export class CorruptSnapshotError extends Error {}

/** The records of a snapshot file, after checking its digest. */
export async function parseStateFile(buf: Buffer): Promise<[Buffer, Buffer][]> {
  if (buf.length < magic.length + 36 || !buf.subarray(0, magic.length).equals(magic)) {
    throw new CorruptSnapshotError('not an etcdts state snapshot');
  }
  const out: [Buffer, Buffer][] = [];
  let off = magic.length;
  for (;;) {
    if (off + 4 > buf.length) throw new CorruptSnapshotError('state snapshot truncated');
    const kl = buf.readUInt32BE(off);
    if (kl === endMarker) {
      const digest = buf.subarray(off + 4, off + 36);
      const want = createHash('sha256').update(buf.subarray(0, off)).digest();
      if (digest.length !== 32 || !digest.equals(want) || off + 36 !== buf.length) {
        throw new CorruptSnapshotError('state snapshot digest mismatch');
      }
      return out;
    }
    const k = buf.subarray(off + 4, off + 4 + kl);
    off += 4 + kl;
    if (off + 4 > buf.length) throw new CorruptSnapshotError('state snapshot truncated');
    const vl = buf.readUInt32BE(off);
    const v = buf.subarray(off + 4, off + 4 + vl);
    off += 4 + vl;
    if (k.length !== kl || v.length !== vl) throw new CorruptSnapshotError('state snapshot truncated');
    out.push([k, v]);
  }
}

/** Backend operations that replace the whole shared state with the snapshot's records. */
export async function installOps(backend: Backend, records: [Buffer, Buffer][]): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  for await (const [k] of backend.scan(allKeysLo, allKeysHi)) {
    if (!isMemberLocalKey(k)) ops.push({ type: 'del', key: k });
  }
  for (const [key, value] of records) ops.push({ type: 'put', key, value });
  return ops;
}
