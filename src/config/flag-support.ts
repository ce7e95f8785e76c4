/**
 * What etcdts does with each of etcd's flags (flag-table.ts): a flag listed in `implemented`
 * changes etcdts's behaviour as it changes etcd's (each is named by a test that proves it:
 * test/unit/config/flag-support.test.ts checks that); any other flag is accepted only at its
 * default value (what etcdts does anyway), and refused at start, naming it, when set to anything
 * else — an accepted flag that did nothing would silently run a different server than asked.
 * `alsoAccepted` lists non-default values that describe what etcdts already does.
 */

export const implemented: ReadonlySet<string> = new Set([
  'name',
  'data-dir',
  'snapshot-count',
  'heartbeat-interval',
  'election-timeout',
  'listen-peer-urls',
  'listen-client-urls',
  'quota-backend-bytes',
  'backend-batch-interval',
  'backend-batch-limit',
  'max-txn-ops',
  'max-request-bytes',
  'max-concurrent-streams',
  'enable-grpc-gateway',
  'ui',
  'initial-advertise-peer-urls',
  'initial-cluster',
  'initial-cluster-state',
  'initial-cluster-token',
  'advertise-client-urls',
  'strict-reconfig-check',
  'pre-vote',
  'auto-compaction-retention',
  'auto-compaction-mode',
  'metrics',
  'listen-metrics-urls',
  'log-level',
  'log-outputs',
  'debug',
  'experimental-corrupt-check-time',
  'experimental-watch-progress-notify-interval',
  'experimental-snapshot-catchup-entries',
  'config-file',
  'version',
  // Client and peer TLS (base/tls.ts), auth (server/auth-gate.ts).
  'cert-file',
  'key-file',
  'trusted-ca-file',
  'client-cert-auth',
  'auto-tls',
  'client-crl-file',
  'client-cert-allowed-hostname',
  'cipher-suites',
  'self-signed-cert-validity',
  'peer-cert-file',
  'peer-key-file',
  'peer-trusted-ca-file',
  'peer-client-cert-auth',
  'peer-auto-tls',
  'peer-cert-allowed-cn',
  'peer-cert-allowed-hostname',
  'peer-crl-file',
  'auth-token',
  'auth-token-ttl',
  'bcrypt-cost',
]);

/** Non-default values that say what etcdts does anyway (etcd 3.6 always checkpoints leases). */
export const alsoAccepted: ReadonlyMap<string, readonly string[]> = new Map([
  ['experimental-enable-lease-checkpoint', ['true']],
  ['experimental-enable-lease-checkpoint-persist', ['true']],
]);
