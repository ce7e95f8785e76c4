/**
 * The process's metric values, as plain numbers the hot paths bump with one increment (no
 * allocation, no label lookup); rpc/metrics.ts reads them when /metrics is scraped and writes
 * etcd's metric names. Process-wide, as etcd's Prometheus registry is (one member per process;
 * in-process test clusters share them).
 *
 * Invariants: counters only grow; a histogram's bucket counts are cumulative only when
 * exposed (here each observation lands in exactly one bucket); `pending` gauges return to 0
 * when nothing is in flight.
 */

/** A histogram with fixed upper bounds (seconds), etcd's buckets. */
export class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > (this.bounds[i] as number)) i++;
    (this.counts as Float64Array)[i]! += 1;
    this.sum += v;
    this.count++;
  }
}

/** prometheus.ExponentialBuckets(start, factor, n). */
export function exponentialBuckets(start: number, factor: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = start; i < n; i++, v *= factor) out.push(v);
  return out;
}

export const metrics = {
  server: {
    /** etcd_server_leader_changes_seen_total */
    leaderChanges: 0,
    /** etcd_server_slow_apply_total */
    slowApply: 0,
    /** etcd_server_slow_read_indexes_total */
    slowReadIndexes: 0,
    /** etcd_server_read_indexes_failed_total */
    readIndexesFailed: 0,
  },
  disk: {
    /** etcd_disk_wal_fsync_duration_seconds: 0.001 × 2^k, 14 buckets (etcd wal/metrics.go). */
    walFsync: new Histogram(exponentialBuckets(0.001, 2, 14)),
    /** etcd_disk_wal_write_bytes_total */
    walWriteBytes: 0,
    /** etcd_disk_backend_commit_duration_seconds (etcd mvcc/backend/metrics.go). */
    backendCommit: new Histogram(exponentialBuckets(0.001, 2, 14)),
    /** etcd_disk_backend_defrag_duration_seconds: 0.1 × 2^k, 13 buckets. */
    backendDefrag: new Histogram(exponentialBuckets(0.1, 2, 13)),
    /** etcd_disk_backend_snapshot_duration_seconds: 0.01 × 2^k, 17 buckets. */
    backendSnapshot: new Histogram(exponentialBuckets(0.01, 2, 17)),
  },
  mvcc: {
    /** etcd_mvcc_range_total: ranges served (alone or in a txn). */
    range: 0,
    /** etcd_mvcc_put_total */
    put: 0,
    /** etcd_mvcc_delete_total */
    delete: 0,
    /** etcd_mvcc_txn_total */
    txn: 0,
  },
  network: {
    /** etcd_network_peer_round_trip_time_seconds{To}: by peer id in hex (peerRoundTripHistogram). */
    peerRoundTrip: new Map<string, Histogram>(),
  },
  lease: {
    /** etcd_debugging_lease_granted_total */
    granted: 0,
    /** etcd_debugging_lease_revoked_total */
    revoked: 0,
    /** etcd_debugging_lease_renewed_total */
    renewed: 0,
    /** etcd_debugging_server_lease_expired_total */
    expired: 0,
  },
};

/** etcd_network_peer_round_trip_time_seconds buckets: 0.1 ms × 2^k, 16 buckets (etcd rafthttp/metrics.go). */
const peerRoundTripBuckets = exponentialBuckets(0.0001, 2, 16);

/**
 * The round-trip histogram of one peer (label To = the peer's id in hex), made on first use:
 * once per peer link, never per message.
 */
export function peerRoundTripHistogram(to: bigint): Histogram {
  const key = to.toString(16);
  let h = metrics.network.peerRoundTrip.get(key);
  if (h === undefined) {
    h = new Histogram(peerRoundTripBuckets);
    metrics.network.peerRoundTrip.set(key, h);
  }
  return h;
}

/** Seconds since `startMs` (performance.now() ms). */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}
