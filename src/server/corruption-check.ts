/**
 * The periodic corruption check (etcd's --experimental-corrupt-check-time, off by default as in
 * etcd 3.4/3.5): the leader hashes its store (HashKV) at its current revision and asks every
 * peer for its hash at that same revision over the peer transport; a peer whose hash differs
 * at the same compaction revision holds different data, so the leader raises the CORRUPT alarm
 * for that member through Raft (every member then refuses KV writes and reads, as etcd).
 *
 * Invariants: only a leader raises the alarm; hashes are compared only when both sides hashed
 * the same revision range (same hash revision and same compaction revision) — a peer that is
 * behind or has compacted differently is skipped, never accused.
 */
import { hex } from '../base/int64.js';
import type { Runtime, TimerHandle } from '../base/runtime.js';
import type { Logger } from '../base/logger.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';
import type { HashKvResult } from './maintenance.js';

export const hashKvPeerRequest = 'hashkv';
export const hashKvPeerTimeoutMs = 5_000;

export interface CorruptionCheckDeps {
  memberId: bigint;
  isLeader(): boolean;
  peers(): bigint[];
  currentRev(): bigint;
  hash(rev: bigint): Promise<HashKvResult>;
  request(to: bigint, kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  raiseCorrupt(memberId: bigint): Promise<unknown>;
  logger: Logger;
  rt: Runtime;
}

export function encodeHashAnswer(r: HashKvResult): Uint8Array {
  const b = new Uint8Array(28);
  new DataView(b.buffer).setUint32(0, r.hash >>> 0);
  u64ToBytesBE(r.hashRev, b, 4);
  u64ToBytesBE(r.compactRev < 0n ? 0n : r.compactRev, b, 12);
  u64ToBytesBE(r.currentRev, b, 20);
  return b;
}

export function decodeHashAnswer(b: Uint8Array): { hash: number; hashRev: bigint; compactRev: bigint; currentRev: bigint } {
  return {
    hash: new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0),
    hashRev: u64FromBytesBE(b, 4),
    compactRev: u64FromBytesBE(b, 12),
    currentRev: u64FromBytesBE(b, 20),
  };
}

export class CorruptionChecker {
  private timer: TimerHandle | null = null;
  private running = false;

  constructor(
    private readonly deps: CorruptionCheckDeps,
    private readonly periodMs: number,
  ) {}

  start(): void {
    if (this.periodMs <= 0 || this.timer) return;
    this.timer = this.deps.rt.every(this.periodMs, () => void this.checkOnce().catch(() => undefined));
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** A peer asks for our hash at a revision (body: u64 revision). */
  async answer(body: Uint8Array): Promise<Uint8Array> {
    return encodeHashAnswer(await this.deps.hash(u64FromBytesBE(body, 0)));
  }

  /** One round; returns the members found to differ from the leader (and alarmed). */
  async checkOnce(): Promise<bigint[]> {
    if (this.running || !this.deps.isLeader()) return [];
    this.running = true;
    try {
      const rev = this.deps.currentRev();
      const mine = await this.deps.hash(rev);
      const body = u64ToBytesBE(rev, new Uint8Array(8), 0);
      const bad: bigint[] = [];
      for (const id of this.deps.peers()) {
        let theirs;
        try {
          theirs = decodeHashAnswer(await this.deps.request(id, hashKvPeerRequest, body, hashKvPeerTimeoutMs));
        } catch {
          continue; // unreachable, behind (future revision) or compacted: nothing to compare
        }
        const myCompact = mine.compactRev < 0n ? 0n : mine.compactRev;
        if (theirs.hashRev !== mine.hashRev || theirs.compactRev !== myCompact) continue;
        if (theirs.hash === mine.hash) continue;
        this.deps.logger.error('found data inconsistency with peers', {
          'local-member-id': hex(this.deps.memberId),
          'remote-peer-id': hex(id),
          revision: rev.toString(),
          'local-hash': mine.hash,
          'remote-hash': theirs.hash,
        });
        bad.push(id);
        await this.deps.raiseCorrupt(id);
      }
      return bad;
    } finally {
      this.running = false;
    }
  }
}
