/**
 * Every flag etcd's server accepts, with etcd's name, Go value type and default (etcd 3.5
 * defaults, ETCD-FACTS §2; flags only 3.4 has are kept so a 3.4 setup still starts). The help
 * sentences are ours. Flags for features etcdts does not serve are accepted and stored; flags.ts
 * decides which of them must fail when actually used (TLS, discovery, the v2 proxy).
 */
import {
  electionTimeoutMsDefault,
  heartbeatIntervalMsDefault,
  maxRequestBytesDefault,
  maxTxnOpsDefault,
  snapshotCountDefault,
} from '../base/limits.js';

/**
 * How a value is read, following the Go type etcd declares: `uint` is Go's uint (64 bits here),
 * `uint32` is etcd's own flag type (its errors quote strconv), `select` is etcd's
 * SelectiveStringValue (fails with "invalid value").
 */
export type FlagKind = 'string' | 'bool' | 'uint' | 'uint32' | 'int' | 'duration' | 'urls' | 'select';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  /** The default as text, as `etcd --help` shows it. */
  def: string;
  group: string;
  help: string;
  /** Allowed values of a `select` flag. */
  values?: readonly string[];
  /** Shown in --help; false for deprecated or 3.4-only flags kept for compatibility. */
  listed?: boolean;
}

const member = 'Member';
const clustering = 'Clustering';
const security = 'Security';
const auth = 'Auth';
const monitoring = 'Profiling and Monitoring';
const logging = 'Logging';
const experimental = 'Experimental feature';
const unsafe = 'Unsafe feature';
const legacy = 'Deprecated (accepted for compatibility)';

function f(name: string, kind: FlagKind, def: string, group: string, help: string, extra: Partial<FlagSpec> = {}): FlagSpec {
  return { name, kind, def, group, help, ...extra };
}

export const flagSpecs: readonly FlagSpec[] = [
  // Member
  f('name', 'string', 'default', member, 'This member\'s name, unique in the cluster.'),
  f('data-dir', 'string', '', member, 'Where this member keeps its data (empty: "<name>.etcd").'),
  f('wal-dir', 'string', '', member, 'A separate directory for the write-ahead log (empty: inside --data-dir).'),
  f('snapshot-count', 'uint', String(snapshotCountDefault), member, 'Applied entries between two Raft snapshots.'),
  f('heartbeat-interval', 'uint', String(heartbeatIntervalMsDefault), member, 'Leader heartbeat period in milliseconds; also the Raft tick.'),
  f('election-timeout', 'uint', String(electionTimeoutMsDefault), member, 'Milliseconds without a leader before a follower campaigns (at least 5 heartbeats, at most 50000).'),
  f('initial-election-tick-advance', 'bool', 'true', member, 'On start, skip most of the first election timeout.'),
  f('listen-peer-urls', 'urls', 'http://localhost:2380', member, 'Addresses to accept peer traffic on.'),
  f('listen-client-urls', 'urls', 'http://localhost:2379', member, 'Addresses to accept client traffic (gRPC and HTTP) on.'),
  f('listen-client-http-urls', 'urls', '', member, 'Extra addresses serving HTTP only (no gRPC).'),
  f('max-snapshots', 'uint', '5', member, 'Snapshot files kept on disk (0: all).'),
  f('max-wals', 'uint', '5', member, 'Log files kept on disk (0: all).'),
  f('quota-backend-bytes', 'int', '0', member, 'Raise a NOSPACE alarm above this database size (0: 2 GiB; negative: no quota).'),
  f('backend-bbolt-freelist-type', 'string', 'map', member, 'Storage free-list type (ignored by etcdts).'),
  f('backend-batch-interval', 'duration', '0', member, 'Longest time before a backend commit (0: 100ms).'),
  f('backend-batch-limit', 'int', '0', member, 'Most operations before a backend commit (0: 10000).'),
  f('max-txn-ops', 'uint', String(maxTxnOpsDefault), member, 'Most operations in one transaction.'),
  f('max-request-bytes', 'uint', String(maxRequestBytesDefault), member, 'Largest client request accepted, in bytes.'),
  f('max-concurrent-streams', 'uint32', '4294967295', member, 'Most concurrent gRPC streams per client connection.'),
  f('grpc-keepalive-min-time', 'duration', '5s', member, 'Shortest interval a client may ping the server at.'),
  f('grpc-keepalive-interval', 'duration', '2h', member, 'How often the server pings an idle client (0: never).'),
  f('grpc-keepalive-timeout', 'duration', '20s', member, 'How long the server waits for a ping answer (0: forever).'),
  f('socket-reuse-port', 'bool', 'false', member, 'Set SO_REUSEPORT on listeners.'),
  f('socket-reuse-address', 'bool', 'false', member, 'Set SO_REUSEADDR on listeners.'),
  f('enable-grpc-gateway', 'bool', 'true', member, 'Serve the JSON gateway (/v3/...) on the client port.'),
  // etcdts's own (etcd has no web console): a bool once given; unset it follows the listeners.
  f('ui', 'bool', 'auto', member, 'Serve the web console under /ui/ on the client port (unset: on when every --listen-client-urls host is loopback, off otherwise).'),

  // Clustering
  f('initial-advertise-peer-urls', 'urls', 'http://localhost:2380', clustering, 'Peer URLs this member announces to the cluster.'),
  f('initial-cluster', 'string', 'default=http://localhost:2380', clustering, 'The bootstrap member list, "name=peer-url,...".'),
  f('initial-cluster-state', 'select', 'new', clustering, '"new" to bootstrap a cluster, "existing" to join one.', { values: ['new', 'existing'] }),
  f('initial-cluster-token', 'string', 'etcd-cluster', clustering, 'A token unique to this cluster; it feeds the member and cluster ids.'),
  f('advertise-client-urls', 'urls', 'http://localhost:2379', clustering, 'Client URLs this member announces (required with --listen-client-urls).'),
  f('discovery', 'string', '', clustering, 'Discovery service URL (not supported by etcdts).'),
  f('discovery-fallback', 'select', 'proxy', clustering, 'What to do when discovery fails: "exit" or "proxy".', { values: ['exit', 'proxy'] }),
  f('discovery-proxy', 'string', '', clustering, 'HTTP proxy for the discovery service.'),
  f('discovery-srv', 'string', '', clustering, 'DNS SRV domain for bootstrapping (not supported by etcdts).'),
  f('discovery-srv-name', 'string', '', clustering, 'Suffix of the DNS SRV name.'),
  f('strict-reconfig-check', 'bool', 'true', clustering, 'Refuse membership changes that would lose quorum.'),
  f('pre-vote', 'bool', 'true', clustering, 'Run a pre-vote round before campaigning (etcd 3.4 defaulted to false).'),
  f('auto-compaction-retention', 'string', '0', clustering, 'History to keep: a duration ("1h", a bare number is hours) or a revision count (0: off).'),
  f('auto-compaction-mode', 'string', 'periodic', clustering, '"periodic" (by time) or "revision" (by count).'),
  f('enable-v2', 'bool', 'false', clustering, 'Serve the v2 API (not served by etcdts).'),
  f('v2-deprecation', 'string', 'not-yet', clustering, 'v2 store deprecation phase (ignored by etcdts).'),

  // Security
  f('cert-file', 'string', '', security, 'Client TLS certificate.'),
  f('key-file', 'string', '', security, 'Client TLS key.'),
  f('client-cert-auth', 'bool', 'false', security, 'Require client certificates.'),
  f('client-crl-file', 'string', '', security, 'Client certificate revocation list.'),
  f('client-cert-allowed-hostname', 'string', '', security, 'Required host name in client certificates.'),
  f('trusted-ca-file', 'string', '', security, 'CA for client certificates.'),
  f('auto-tls', 'bool', 'false', security, 'Client TLS with a generated certificate.'),
  f('client-cert-file', 'string', '', security, 'Certificate this member uses as a client (e.g. of itself).'),
  f('client-key-file', 'string', '', security, 'Key this member uses as a client.'),
  f('peer-cert-file', 'string', '', security, 'Peer TLS certificate.'),
  f('peer-key-file', 'string', '', security, 'Peer TLS key.'),
  f('peer-client-cert-auth', 'bool', 'false', security, 'Require peer certificates.'),
  f('peer-trusted-ca-file', 'string', '', security, 'CA for peer certificates.'),
  f('peer-cert-allowed-cn', 'string', '', security, 'Required common name in peer certificates.'),
  f('peer-cert-allowed-hostname', 'string', '', security, 'Required host name in peer certificates.'),
  f('peer-auto-tls', 'bool', 'false', security, 'Peer TLS with a generated certificate.'),
  f('peer-client-cert-file', 'string', '', security, 'Certificate this member presents to peers.'),
  f('peer-client-key-file', 'string', '', security, 'Key this member presents to peers.'),
  f('peer-crl-file', 'string', '', security, 'Peer certificate revocation list.'),
  f('self-signed-cert-validity', 'uint', '1', security, 'Years a generated certificate is valid.'),
  f('cipher-suites', 'string', '', security, 'Allowed TLS cipher suites, comma separated.'),
  f('tls-min-version', 'string', 'TLS1.2', security, 'Lowest TLS version accepted.'),
  f('tls-max-version', 'string', '', security, 'Highest TLS version accepted.'),
  f('cors', 'string', '*', security, 'Allowed CORS origins, comma separated ("*": all).'),
  f('host-whitelist', 'string', '*', security, 'Accepted HTTP Host headers, comma separated ("*": all).'),

  // Auth
  f('auth-token', 'string', 'simple', auth, 'Token kind: "simple" or "jwt,pub-key=...,priv-key=...,sign-method=...".'),
  f('bcrypt-cost', 'uint', '10', auth, 'bcrypt cost for passwords (4..31).'),
  f('auth-token-ttl', 'uint', '300', auth, 'Seconds a simple token lives.'),

  // Profiling and monitoring
  f('enable-pprof', 'bool', 'false', monitoring, 'Serve profiling data under /debug/pprof/.'),
  f('metrics', 'string', 'basic', monitoring, '"basic" or "extensive" (adds histograms).'),
  f('listen-metrics-urls', 'urls', '', monitoring, 'Extra addresses serving /metrics and /health.'),

  // Logging
  f('logger', 'string', 'zap', logging, '"zap" (structured JSON lines; etcdts always logs this way) or "capnslog".'),
  f('log-outputs', 'string', 'default', logging, 'Where logs go: "default", "stderr", "stdout" or file paths, comma separated.'),
  f('log-level', 'string', 'info', logging, 'debug, info, warn, error, panic or fatal.'),
  f('enable-log-rotation', 'bool', 'false', logging, 'Rotate a log file output (ignored by etcdts).'),
  f('log-rotation-config-json', 'string', '{"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false}', logging, 'Log rotation settings (ignored by etcdts).'),

  // Experimental
  f('experimental-initial-corrupt-check', 'bool', 'false', experimental, 'Check data against peers before serving.'),
  f('experimental-corrupt-check-time', 'duration', '0s', experimental, 'Period of cluster corruption checks.'),
  f('experimental-compact-hash-check-enabled', 'bool', 'false', experimental, 'Leader checks followers\' hashes after compaction.'),
  f('experimental-compact-hash-check-time', 'duration', '1m', experimental, 'Period of the compaction hash check.'),
  f('experimental-enable-v2v3', 'string', '', experimental, 'Serve v2 through v3 under this prefix (not supported).'),
  f('experimental-backend-bbolt-freelist-type', 'string', 'array', experimental, 'etcd 3.4 name of --backend-bbolt-freelist-type.', { listed: false }),
  f('experimental-enable-lease-checkpoint', 'bool', 'false', experimental, 'Leader checkpoints lease remaining TTLs so a leader change does not reset them.'),
  f('experimental-enable-lease-checkpoint-persist', 'bool', 'false', experimental, 'Persist lease checkpoints (needs --experimental-enable-lease-checkpoint).'),
  f('experimental-compaction-batch-limit', 'int', '1000', experimental, 'Most revisions deleted per compaction batch.'),
  f('experimental-compaction-sleep-interval', 'duration', '10ms', experimental, 'Pause between compaction batches.'),
  f('experimental-peer-skip-client-san-verification', 'bool', 'false', experimental, 'Skip SAN checks of peer client certificates.'),
  f('experimental-watch-progress-notify-interval', 'duration', '10m', experimental, 'Period of watch progress notifications.'),
  f('experimental-warning-apply-duration', 'duration', '100ms', experimental, 'Log a warning when applying a request takes longer.'),
  f('experimental-txn-mode-write-with-shared-buffer', 'bool', 'true', experimental, 'Read-write transactions share the read buffer (ignored by etcdts).'),
  f('experimental-bootstrap-defrag-threshold-megabytes', 'uint', '0', experimental, 'Defragment on start above this much free space (ignored by etcdts).'),
  f('experimental-max-learners', 'int', '1', experimental, 'Most learner members in the cluster.'),
  f('experimental-snapshot-catchup-entries', 'uint', '5000', experimental, 'Entries kept after a snapshot for slow followers.'),

  // Unsafe
  f('force-new-cluster', 'bool', 'false', unsafe, 'Restart as a one-member cluster, dropping the others.'),
  f('unsafe-no-fsync', 'bool', 'false', unsafe, 'Never fsync: fast, and loses data on a crash.'),

  // etcd 3.4 flags kept so a 3.4 command line still parses.
  f('debug', 'bool', 'false', legacy, 'Same as --log-level=debug.', { listed: false }),
  f('log-package-levels', 'string', '', legacy, 'Per-package capnslog levels (ignored).', { listed: false }),
  f('proxy', 'select', 'off', legacy, 'v2 proxy mode: "off", "readonly" or "on" (only "off" is supported).', { values: ['off', 'readonly', 'on'], listed: false }),
  f('proxy-failure-wait', 'uint', '5000', legacy, 'v2 proxy setting (ignored).', { listed: false }),
  f('proxy-refresh-interval', 'uint', '30000', legacy, 'v2 proxy setting (ignored).', { listed: false }),
  f('proxy-dial-timeout', 'uint', '1000', legacy, 'v2 proxy setting (ignored).', { listed: false }),
  f('proxy-write-timeout', 'uint', '5000', legacy, 'v2 proxy setting (ignored).', { listed: false }),
  f('proxy-read-timeout', 'uint', '0', legacy, 'v2 proxy setting (ignored).', { listed: false }),

  f('config-file', 'string', '', 'Other', 'YAML configuration file with the flag names as keys; when given, every other flag and ETCD_* variable is ignored.'),
  f('version', 'bool', 'false', 'Other', 'Print the version and exit.'),
];

export const flagsByName: ReadonlyMap<string, FlagSpec> = new Map(flagSpecs.map((s) => [s.name, s]));

/** ETCD_<FLAG_UPPER_UNDERSCORES> (pkg/flags FlagToEnv). */
export function envNameOf(flag: string): string {
  return 'ETCD_' + flag.toUpperCase().replace(/-/g, '_');
}
