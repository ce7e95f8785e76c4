/**
 * What one seed decides before the run starts: the cluster, the members' timings and storage,
 * the network, the workload and which faults run (run.ts draws everything else as it goes, from
 * streams split off the same seed).
 */
import { type SeededRand } from '../../../src/base/random.js';
import type { FailpointName } from '../../../src/server/failpoints.js';
import { failpointNames } from '../../../src/server/failpoints.js';

export function pick<T>(r: SeededRand, xs: readonly T[]): T {
  return xs[r.int(xs.length)] as T;
}

export interface SimParams {
  members: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  preVote: boolean;
  snapshotCount: number;
  snapshotCatchupEntries: number;
  backendBatchIntervalMs: number;
  /** --experimental-corrupt-check-time (0: off). */
  corruptCheckMs: number;
  walSegmentBytes: number;
  /** Disk latency: base ms, and the chance of a slow operation (×50). */
  diskMs: number;
  diskSlowRate: number;
  /** Network: one-way latency ms; loss, duplication, long-delay (reordering) rates. */
  netMs: number;
  lossRate: number;
  dupRate: number;
  longDelayRate: number;
  longDelayMaxMs: number;
  /** Workload. */
  workloadMs: number;
  /** A client gives up on a call after this long (its outcome is then unknown). */
  clientTimeoutMs: number;
  clients: number;
  keys: number;
  leases: boolean;
  watches: boolean;
  compaction: boolean;
  membership: boolean;
  serializableReads: boolean;
  /** Faults: which kinds, and the mean gap between two. */
  faults: {
    crash: boolean;
    failpoint: boolean;
    partition: boolean;
    pause: boolean;
    clockJump: boolean;
  };
  faultGapMs: number;
  /** Longest a crashed member stays down before its supervisor restarts it. */
  downMsMax: number;
  failpoints: FailpointName[];
}

export function drawParams(r: SeededRand): SimParams {
  const electionTimeoutMs = pick(r, [500, 1000]);
  const faults = {
    crash: r.next() < 0.55,
    failpoint: r.next() < 0.35,
    partition: r.next() < 0.5,
    pause: r.next() < 0.3,
    clockJump: r.next() < 0.25,
  };
  return {
    members: pick(r, [1, 3, 3, 3, 3, 5]),
    electionTimeoutMs,
    heartbeatIntervalMs: electionTimeoutMs / pick(r, [5, 10]),
    preVote: r.next() < 0.8,
    snapshotCount: pick(r, [5, 8, 25, 100, 10_000]),
    snapshotCatchupEntries: pick(r, [2, 10, 50]),
    backendBatchIntervalMs: pick(r, [1, 10, 100]),
    corruptCheckMs: pick(r, [0, 0, 0, 300, 1000]),
    walSegmentBytes: pick(r, [8 * 1024, 64 * 1024, 1024 * 1024]),
    diskMs: pick(r, [0.05, 0.5, 2]),
    diskSlowRate: pick(r, [0, 0.01, 0.05]),
    netMs: pick(r, [0.1, 1, 5]),
    lossRate: pick(r, [0, 0, 0.01, 0.05, 0.15]),
    dupRate: pick(r, [0, 0, 0.02, 0.1]),
    longDelayRate: pick(r, [0, 0, 0.01, 0.05]),
    longDelayMaxMs: pick(r, [50, 300, 1500]),
    workloadMs: pick(r, [3000, 6000, 10_000]),
    clientTimeoutMs: pick(r, [1500, 4000, 5000 + 2 * electionTimeoutMs + 2000]),
    clients: 1 + r.int(6),
    keys: 1 + r.int(4),
    leases: r.next() < 0.5,
    watches: r.next() < 0.6,
    compaction: r.next() < 0.4,
    membership: r.next() < 0.3,
    serializableReads: r.next() < 0.5,
    faults,
    faultGapMs: pick(r, [300, 1000, 2500]),
    downMsMax: pick(r, [500, 2000, 6000]),
    failpoints: failpointNames.filter(() => r.next() < 0.5),
  };
}

export function describeParams(p: SimParams): string {
  const f = Object.entries(p.faults)
    .filter(([, on]) => on)
    .map(([k]) => k);
  const w = [p.leases && 'leases', p.watches && 'watches', p.compaction && 'compaction', p.membership && 'membership', p.serializableReads && 'serializable'].filter(Boolean);
  return (
    `${p.members} members, election ${p.electionTimeoutMs}/${p.heartbeatIntervalMs} ms${p.preVote ? ' prevote' : ''}, snapshot every ${p.snapshotCount} (keep ${p.snapshotCatchupEntries}), ` +
    `batch ${p.backendBatchIntervalMs} ms${p.corruptCheckMs > 0 ? `, corrupt check ${p.corruptCheckMs} ms` : ''}, wal segment ${p.walSegmentBytes / 1024} KiB, disk ${p.diskMs} ms (slow ${p.diskSlowRate}), ` +
    `net ${p.netMs} ms loss ${p.lossRate} dup ${p.dupRate} late ${p.longDelayRate}×${p.longDelayMaxMs} ms; ` +
    `${p.workloadMs / 1000} s, ${p.clients} clients (timeout ${p.clientTimeoutMs} ms) on ${p.keys} keys${w.length ? ` + ${w.join(', ')}` : ''}; ` +
    `faults every ~${p.faultGapMs} ms: ${f.length ? f.join(', ') : 'none'}${p.faults.failpoint ? ` (${p.failpoints.join(', ') || 'no point drawn'})` : ''}`
  );
}
