/**
 * /metrics: Prometheus text format with etcd's metric names and labels for what etcdts has
 * (prom-client's registry and exposition, plus its Node process metrics, whose process_* names
 * are the ones Go's process collector writes).
 *
 * Nothing here runs per request: a call bumps its method's counters itself (MethodDef.stats,
 * given by `instrument`: grpc-prometheus's started/handled/msg counters, by method and code, all
 * pre-created at zero as grpc-prometheus InitializeMetrics does). Every other value is read
 * when scraped: the counters the hot paths bump (base/metrics.ts) and the
 * member's state (leader, indexes, sizes, revisions, watchers).
 *
 * `--metrics extensive` adds grpc_server_handling_seconds (per method, Prometheus' default
 * buckets), as etcd does.
 */
import client, { Registry } from 'prom-client';
import { Histogram, metrics } from '../base/metrics.js';
import type { ServerApi } from '../server/server-api.js';
import { serverVersion } from '../server/server-api.js';
import type { CallStats, MethodDef } from './h2/grpc-server.js';

/** What the metrics read from the member. */
export type MetricsServer = Pick<
  ServerApi,
  'leader' | 'isLeader' | 'isLearner' | 'raftIndex' | 'applied' | 'dbSize' | 'memberId' | 'kv' | 'watchable' | 'dbSizeInUse' | 'opts' | 'pendingProposalCount' | 'failedProposalCount'
>;

const codeNames = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted',
  'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];
const codeCount = codeNames.length;

/** prometheus.DefBuckets. */
const defBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface MethodStats extends CallStats {
  service: string;
  method: string;
  type: 'unary' | 'server_stream' | 'bidi_stream';
}

type Sample = { value: number; labels?: Record<string, string>; metricName?: string };
type MetricType = 'counter' | 'gauge' | 'histogram';

/** A metric whose samples are computed at scrape time (prom-client formats it). */
function source(reg: Registry, name: string, help: string, type: MetricType, values: () => Sample[] | Promise<Sample[]>): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name, help, type, aggregator: 'sum', values: await values() };
    },
  };
  reg.registerMetric(metric as unknown as client.Metric);
}

function histogramSamples(name: string, h: Histogram, labels: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  let cum = 0;
  h.bounds.forEach((b, i) => {
    cum += h.counts[i] as number;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: String(b) }, value: cum });
  });
  cum += h.counts[h.bounds.length] as number;
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cum });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

export class MetricsHub {
  readonly registry = new Registry();
  private readonly methods: MethodStats[] = [];
  private sizeInUse = 0;
  private peerFamilies = false;

  constructor(
    private readonly server: MetricsServer,
    private readonly extensive: boolean,
  ) {
    client.collectDefaultMetrics({ register: this.registry });
    this.serverMetrics();
    this.grpcMetrics();
  }

  /**
   * Gives each method of a service its counters (MethodDef.stats): the gRPC server and the
   * gateway bump them as calls start, send, receive and end — nothing wraps the handlers.
   */
  instrument(service: string, methods: Record<string, MethodDef | null>): Record<string, MethodDef | null> {
    const out: Record<string, MethodDef | null> = {};
    for (const [name, def] of Object.entries(methods)) {
      const type = def === null || def.kind === 'unary' ? 'unary' : def.kind === 'serverStream' ? 'server_stream' : 'bidi_stream';
      const st: MethodStats = { service, method: name, type, started: 0, received: 0, sent: 0, handled: new Float64Array(codeCount), handling: this.extensive ? new Histogram(defBuckets) : null };
      this.methods.push(st);
      out[name] = def === null ? null : { ...def, stats: st };
    }
    return out;
  }

  /** The exposition text (Content-Type: this.registry.contentType). */
  async text(): Promise<string> {
    this.sizeInUse = await this.server.dbSizeInUse().catch(() => this.sizeInUse);
    // Per-peer families appear once there is a peer, as a Go metric vector without children
    // is not written at all (a single member has no etcd_network_peer_* lines).
    if (!this.peerFamilies && metrics.network.peerRoundTrip.size > 0) {
      this.peerFamilies = true;
      source(this.registry, 'etcd_network_peer_round_trip_time_seconds', 'Round-Trip-Time histogram between peers', 'histogram', () =>
        [...metrics.network.peerRoundTrip].flatMap(([to, h]) => histogramSamples('etcd_network_peer_round_trip_time_seconds', h, { To: to })),
      );
    }
    return this.registry.metrics();
  }

  private serverMetrics(): void {
    const r = this.registry;
    const s = this.server;
    const m = metrics;
    const one = (value: number | bigint | boolean): Sample[] => [{ value: typeof value === 'boolean' ? (value ? 1 : 0) : Number(value) }];
    source(r, 'etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', 'gauge', () => one(s.leader() !== 0n));
    source(r, 'etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', 'gauge', () => one(s.isLeader()));
    source(r, 'etcd_server_is_learner', 'Whether or not this member is a learner. 1 if is, 0 otherwise.', 'gauge', () => one(s.isLearner()));
    source(r, 'etcd_server_leader_changes_seen_total', 'The number of leader changes seen.', 'counter', () => one(m.server.leaderChanges));
    source(r, 'etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', 'gauge', () => one(s.raftIndex()));
    source(r, 'etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', 'gauge', () => one(s.applied()));
    source(r, 'etcd_server_proposals_pending', 'The current number of pending proposals to commit.', 'gauge', () => one(s.pendingProposalCount()));
    source(r, 'etcd_server_proposals_failed_total', 'The total number of failed proposals seen.', 'counter', () => one(s.failedProposalCount()));
    source(r, 'etcd_server_slow_apply_total', 'The total number of slow apply requests (likely overloaded from slow disk).', 'counter', () => one(m.server.slowApply));
    source(r, 'etcd_server_slow_read_indexes_total', "The total number of pending read indexes not in sync with leader's or timed out read index requests.", 'counter', () => one(m.server.slowReadIndexes));
    source(r, 'etcd_server_read_indexes_failed_total', 'The total number of failed read indexes seen.', 'counter', () => one(m.server.readIndexesFailed));
    source(r, 'etcd_server_id', 'Server or member ID in hexadecimal format. 1 for \'server_id\' label with current ID.', 'gauge', () => [{ value: 1, labels: { server_id: s.memberId.toString(16) } }]);
    source(r, 'etcd_server_version', 'Which version is running. 1 for \'server_version\' label with current version.', 'gauge', () => [{ value: 1, labels: { server_version: serverVersion } }]);
    source(r, 'etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.', 'gauge', () => one(s.opts.quotaBackendBytes === 0 ? 2 * 1024 ** 3 : s.opts.quotaBackendBytes));
    source(r, 'etcd_server_health_success', 'The total number of successful health checks', 'counter', () => one(healthCounts.success));
    source(r, 'etcd_server_health_failures', 'The total number of failed health checks', 'counter', () => one(healthCounts.failures));

    source(r, 'etcd_disk_wal_fsync_duration_seconds', 'The latency distributions of fsync called by WAL.', 'histogram', () => histogramSamples('etcd_disk_wal_fsync_duration_seconds', m.disk.walFsync));
    source(r, 'etcd_disk_wal_write_bytes_total', 'Total number of bytes written in WAL.', 'gauge', () => one(m.disk.walWriteBytes));
    source(r, 'etcd_disk_backend_commit_duration_seconds', 'The latency distributions of commit called by backend.', 'histogram', () => histogramSamples('etcd_disk_backend_commit_duration_seconds', m.disk.backendCommit));
    source(r, 'etcd_disk_backend_defrag_duration_seconds', 'The latency distribution of backend defragmentation.', 'histogram', () => histogramSamples('etcd_disk_backend_defrag_duration_seconds', m.disk.backendDefrag));
    source(r, 'etcd_disk_backend_snapshot_duration_seconds', 'The latency distribution of backend snapshots.', 'histogram', () => histogramSamples('etcd_disk_backend_snapshot_duration_seconds', m.disk.backendSnapshot));

    source(r, 'etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', 'gauge', () => one(s.dbSize()));
    source(r, 'etcd_debugging_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', 'gauge', () => one(s.dbSize()));
    source(r, 'etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.', 'gauge', () => one(this.sizeInUse));
    source(r, 'etcd_debugging_mvcc_keys_total', 'Total number of keys.', 'gauge', () => one(s.kv.keyCount()));
    source(r, 'etcd_debugging_mvcc_current_revision', 'The current revision of store.', 'gauge', () => one(s.kv.rev()));
    source(r, 'etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.', 'gauge', () => one(s.kv.compactRev())); // -1 before any, as etcd
    for (const [name, what, key] of [
      ['range', 'ranges', 'range'],
      ['put', 'puts', 'put'],
      ['delete', 'deletes', 'delete'],
      ['txn', 'txns', 'txn'],
    ] as const) {
      source(r, `etcd_mvcc_${name}_total`, `Total number of ${what} seen by this member.`, 'counter', () => one(m.mvcc[key]));
      source(r, `etcd_debugging_mvcc_${name}_total`, `Total number of ${what} seen by this member.`, 'counter', () => one(m.mvcc[key]));
    }
    source(r, 'etcd_debugging_mvcc_watch_stream_total', 'Total number of watch streams.', 'gauge', () => one(s.watchable.streamCount()));
    source(r, 'etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', 'gauge', () => {
      const w = s.watchable.stats();
      return one(w.synced + w.unsynced);
    });
    source(r, 'etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.', 'gauge', () => one(s.watchable.stats().unsynced));

    source(r, 'etcd_debugging_lease_granted_total', 'The total number of granted leases.', 'counter', () => one(m.lease.granted));
    source(r, 'etcd_debugging_lease_revoked_total', 'The total number of revoked leases.', 'counter', () => one(m.lease.revoked));
    source(r, 'etcd_debugging_lease_renewed_total', 'The number of renewed leases seen by the leader.', 'counter', () => one(m.lease.renewed));
    source(r, 'etcd_debugging_server_lease_expired_total', 'The total number of expired leases.', 'counter', () => one(m.lease.expired));
  }

  private grpcMetrics(): void {
    const r = this.registry;
    const labels = (st: MethodStats): Record<string, string> => ({ grpc_method: st.method, grpc_service: st.service, grpc_type: st.type });
    source(r, 'grpc_server_started_total', 'Total number of RPCs started on the server.', 'counter', () => this.methods.map((st) => ({ value: st.started, labels: labels(st) })));
    source(r, 'grpc_server_handled_total', 'Total number of RPCs completed on the server, regardless of success or failure.', 'counter', () =>
      this.methods.flatMap((st) => codeNames.map((code, i) => ({ value: st.handled[i] as number, labels: { grpc_code: code, ...labels(st) } }))),
    );
    source(r, 'grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.', 'counter', () => this.methods.map((st) => ({ value: st.received, labels: labels(st) })));
    source(r, 'grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.', 'counter', () => this.methods.map((st) => ({ value: st.sent, labels: labels(st) })));
    if (this.extensive) {
      source(r, 'grpc_server_handling_seconds', 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.', 'histogram', () =>
        this.methods.flatMap((st) => (st.handling ? histogramSamples('grpc_server_handling_seconds', st.handling as Histogram, labels(st)) : [])),
      );
    }
  }
}

/** /health results (etcd_server_health_success / _failures). */
export const healthCounts = { success: 0, failures: 0 };
