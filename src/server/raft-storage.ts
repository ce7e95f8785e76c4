/**
 * The Raft core's stable storage for a real member: the core's MemoryStorage mirrors, in
 * memory, what is durable on disk — entries and hard state in the write-ahead log
 * (src/storage/wal.ts), the latest snapshot's metadata in classic-level under
 * prefix.raftSnapshot (with the state it describes). The core reads the mirror synchronously;
 * the loop writes disk first, then the mirror (RawNode contract step 1).
 *
 * Invariants: every entry in the mirror is on disk with the same index and term; the mirror's
 * snapshot metadata equals the stored one; entries on disk at or below the snapshot index are
 * never needed again (the snapshot covers them) and are dropped at open; the stored hard
 * state's commit is at least the snapshot index (a snapshot is only ever of committed state).
 */
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';
import { MemoryStorage, emptySnapshot, type InitialState, type RaftStorage } from '../raft/storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types.js';
import type { Backend, BatchOp } from '../storage/backend.js';
import type { Disk } from '../storage/disk.js';
import { Wal } from '../storage/wal.js';
import { metaKey, prefix } from '../storage/schema.js';

/** ConfState as `u32 voters | u32 learners | ids u64 BE...`. */
export function encodeConfState(cs: ConfState): Buffer {
  const b = Buffer.alloc(8 + 8 * (cs.voters.length + cs.learners.length));
  b.writeUInt32BE(cs.voters.length, 0);
  b.writeUInt32BE(cs.learners.length, 4);
  let off = 8;
  for (const id of [...cs.voters, ...cs.learners]) {
    u64ToBytesBE(id, b, off);
    off += 8;
  }
  return b;
}

export function decodeConfState(b: Uint8Array): ConfState {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const nv = buf.readUInt32BE(0);
  const nl = buf.readUInt32BE(4);
  const ids: bigint[] = [];
  for (let i = 0; i < nv + nl; i++) ids.push(u64FromBytesBE(buf, 8 + 8 * i));
  return { voters: ids.slice(0, nv), learners: ids.slice(nv) };
}

export function encodeSnapshotMeta(s: Snapshot): Buffer {
  const head = Buffer.alloc(16);
  u64ToBytesBE(s.metadata.index, head, 0);
  u64ToBytesBE(s.metadata.term, head, 8);
  return Buffer.concat([head, encodeConfState(s.metadata.confState)]);
}

export function decodeSnapshotMeta(b: Uint8Array): Snapshot {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    metadata: { index: u64FromBytesBE(buf, 0), term: u64FromBytesBE(buf, 8), confState: decodeConfState(buf.subarray(16)) },
    data: new Uint8Array(0),
  };
}

export class DurableRaftStorage implements RaftStorage {
  private readonly mem = new MemoryStorage();

  private constructor(
    private readonly backend: Backend,
    private readonly wal: Wal,
  ) {}

  static async open(backend: Backend, walDir: string, disk?: Disk, segmentBytes?: number): Promise<DurableRaftStorage> {
    const { wal, state } = await Wal.open(walDir, segmentBytes, disk);
    const s = new DurableRaftStorage(backend, wal);
    const raw = backend.getSync(prefix.raftSnapshot);
    const snap = raw ? decodeSnapshotMeta(raw) : emptySnapshot();
    const snapIndex = snap.metadata.index;
    if (snapIndex > 0n) s.mem.applySnapshot(snap);
    const hs = state.hardState;
    s.mem.setHardState(hs.commit < snapIndex ? { ...hs, commit: snapIndex } : hs);
    // Entries the snapshot covers are not needed again; the rest follow it without a gap.
    const live = state.entries.filter((e) => e.index > snapIndex);
    if (live.length > 0) {
      assert((live[0] as Entry).index === snapIndex + 1n, `wal entries start at ${(live[0] as Entry).index}, after snapshot ${snapIndex}`);
      s.mem.append(live as Entry[]);
    }
    return s;
  }

  /** The hard state as last written (the commit index may lag: see save). */
  diskHardState(): HardState {
    return this.wal.hardState();
  }

  /**
   * The configuration the core restarts with is the one as of the consistent index (stored with
   * every applied conf change), so the server can restart the core at that applied index
   * instead of replaying the log since the snapshot.
   */
  initialState(): InitialState {
    const st = this.mem.initialState();
    const cs = this.backend.getSync(metaKey.confState);
    return cs ? { ...st, confState: decodeConfState(cs) } : st;
  }
  entries(lo: bigint, hi: bigint, maxBytes: number): Entry[] {
    return this.mem.entries(lo, hi, maxBytes);
  }
  term(i: bigint): bigint {
    return this.mem.term(i);
  }
  firstIndex(): bigint {
    return this.mem.firstIndex();
  }
  lastIndex(): bigint {
    return this.mem.lastIndex();
  }
  snapshot(): Snapshot {
    return this.mem.snapshot();
  }

  /** Step 1 of a Ready without a snapshot: hard state and entries, fsynced when `sync`. */
  async save(hs: HardState | undefined, entries: Entry[], sync: boolean): Promise<void> {
    if (hs === undefined && entries.length === 0) return;
    if (entries.length === 0 && !sync && hs !== undefined) {
      // Only the commit index moved (a term or vote change always comes with sync). The commit
      // index need not be durable — a restarted member learns it again from the leader, and
      // the store's consistent index says what was applied — so it waits for the next write
      // with entries instead of costing a write of its own (one fewer write per round).
      this.mem.setHardState(hs);
      return;
    }
    await this.wal.save(hs, entries, sync);
    if (entries.length > 0) this.mem.append(entries);
    if (hs !== undefined) this.mem.setHardState(hs);
  }

  /**
   * Step 1 of a Ready with a snapshot: the snapshot's state (`stateOps`) and metadata, then the
   * log restarted after it with the hard state and any entries that follow.
   */
  async saveWithSnapshot(snap: Snapshot, stateOps: BatchOp[], hs: HardState | undefined, entries: Entry[]): Promise<void> {
    // The state and its metadata first, in one synced classic-level write; then the log's
    // floor. A crash between the two leaves older log entries, which open() ignores up to the
    // snapshot index (and any later stale ones the leader overwrites, Raft §5.3).
    await this.backend.engine.write([...stateOps, { type: 'put', key: prefix.raftSnapshot, value: encodeSnapshotMeta(snap) }], true);
    await this.wal.save(hs, entries, true, snap.metadata.index);
    this.mem.applySnapshot({ metadata: snap.metadata, data: new Uint8Array(0) });
    if (entries.length > 0) this.mem.append(entries);
    if (hs !== undefined) this.mem.setHardState(hs);
  }

  /**
   * Record a snapshot at `index` (≤ applied) and drop log entries up to `compactTo` (< index,
   * leaving entries for slow followers to catch up from, etcd's SnapshotCatchUpEntries).
   */
  async close(): Promise<void> {
    await this.wal.close();
  }

  async createSnapshot(index: bigint, confState: ConfState, compactTo: bigint): Promise<void> {
    const snap = this.mem.createSnapshot(index, confState, new Uint8Array(0));
    await this.backend.engine.write([{ type: 'put', key: prefix.raftSnapshot, value: encodeSnapshotMeta(snap) }], true);
    if (compactTo > this.mem.firstIndex()) {
      assert(compactTo <= index, 'log compacted beyond the snapshot');
      this.mem.compact(compactTo - 1n);
      await this.wal.compact(compactTo);
    }
  }
}
