/**
 * etcd's command line and ETCD_* environment. Every message asserted here was read from a live
 * etcd 3.4.23 given the same input (2026-11-23), except where a test says "etcdts".
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, usage, type ServerConfig } from '../../../src/config/flags.js';

const cfg = (argv: string[], env: Record<string, string | undefined> = {}): ServerConfig => parseConfig(argv, env).config;

function failure(argv: string[], env: Record<string, string | undefined> = {}): ConfigError {
  try {
    parseConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to fail`);
}

/** A member listening on explicit loopback ports, as the messages below were produced. */
const base = ['--listen-client-urls', 'http://127.0.0.1:23791', '--advertise-client-urls', 'http://127.0.0.1:23791'];

describe('defaults equal etcd’s', () => {
  it('has etcd’s defaults with no flags at all', () => {
    const c = cfg([]);
    expect(c.name).toBe('default');
    expect(c.dataDir).toBe('default.etcd');
    expect(c.walDir).toBe('');
    expect(c.listenClientUrls.map((u) => u.host)).toEqual(['localhost:2379']);
    expect(c.listenPeerUrls.map((u) => u.host)).toEqual(['localhost:2380']);
    expect(c.advertiseClientUrls).toEqual(['http://localhost:2379']);
    expect(c.initialAdvertisePeerUrls).toEqual(['http://localhost:2380']);
    expect(c.listenMetricsUrls).toEqual([]);
    expect(c.initialCluster).toEqual([{ name: 'default', peerUrls: ['http://localhost:2380'] }]);
    expect(c.initialClusterToken).toBe('etcd-cluster');
    expect(c.initialClusterState).toBe('new');
    expect([c.heartbeatIntervalMs, c.electionTimeoutMs, c.electionTicks, c.heartbeatTicks]).toEqual([100, 1000, 10, 1]);
    expect(c.snapshotCount).toBe(100_000);
    expect(c.maxTxnOps).toBe(128);
    expect(c.maxRequestBytes).toBe(1_572_864);
    expect(c.quotaBackendBytes).toBe(2 * 1024 ** 3); // etcd logs quota-backend-bytes 2147483648
    expect(c.maxConcurrentStreams).toBe(4_294_967_295);
    expect([c.grpcKeepaliveMinTimeMs, c.grpcKeepaliveIntervalMs, c.grpcKeepaliveTimeoutMs]).toEqual([5000, 7_200_000, 20_000]);
    expect(c.autoCompactionMode).toBe('periodic');
    expect([c.autoCompactionRetention, c.autoCompactionPeriodMs, c.autoCompactionRevisions]).toEqual(['0', 0, 0n]);
    expect(c.watchProgressNotifyIntervalMs).toBe(600_000);
    expect(c.strictReconfigCheck).toBe(true);
    expect(c.enableGrpcGateway).toBe(true);
    expect(c.preVote).toBe(true); // etcd 3.5's default (3.4 had false)
    expect(c.logger).toBe('zap'); // etcd 3.5's default (3.4 had capnslog)
    expect([c.logLevel, c.logOutputs]).toEqual(['info', ['default']]);
    expect([c.enableLeaseCheckpoint, c.forceNewCluster, c.unsafeNoFsync, c.enableV2]).toEqual([false, false, false, false]);
    expect([c.version, c.help]).toEqual([false, false]);
    expect(c.explicit).toEqual([]);
  });

  it('derives the data dir from the name', () => {
    expect(cfg(['--name', 'foo']).dataDir).toBe('foo.etcd');
    expect(cfg(['--name', 'foo', '--data-dir', '/d']).dataDir).toBe('/d');
  });

  it('bootstraps a renamed member alone at its advertised peer URLs when --initial-cluster is the default', () => {
    // etcd --name foo: "initial-cluster":"foo=http://localhost:2380", member 8e9e05c52164694d.
    expect(cfg(['--name', 'foo']).initialCluster).toEqual([{ name: 'foo', peerUrls: ['http://localhost:2380'] }]);
    expect(cfg(['--name', 'foo', '--initial-advertise-peer-urls', 'http://127.0.0.1:2390,http://127.0.0.1:2380']).initialCluster).toEqual([
      { name: 'foo', peerUrls: ['http://127.0.0.1:2380', 'http://127.0.0.1:2390'] },
    ]);
    // Even when the default is typed out.
    expect(cfg(['--name', 'foo', '--initial-cluster', 'default=http://localhost:2380']).initialCluster).toEqual([
      { name: 'foo', peerUrls: ['http://localhost:2380'] },
    ]);
    // But the name "default" keeps the literal default, whatever it advertises.
    expect(cfg(['--initial-advertise-peer-urls', 'http://127.0.0.1:2380']).initialCluster).toEqual([
      { name: 'default', peerUrls: ['http://localhost:2380'] },
    ]);
  });

  it('derives election ticks by integer division', () => {
    const c = cfg(['--heartbeat-interval', '300', '--election-timeout', '2000']);
    expect([c.electionTicks, c.heartbeatTicks]).toEqual([6, 1]);
  });

  it('lists every flag in --help with its default', () => {
    const u = usage();
    for (const f of ['--name', '--data-dir', '--initial-cluster', '--heartbeat-interval', '--experimental-watch-progress-notify-interval', '--unsafe-no-fsync']) {
      expect(u).toContain(`  ${f} '`);
    }
    expect(u).toContain("--initial-cluster 'default=http://localhost:2380'");
    expect(u).toContain("--data-dir '${name}.etcd'");
  });
});

describe('Go flag syntax', () => {
  it('accepts --f v, --f=v, -f v, bare booleans and --f=false', () => {
    const c = cfg(['-name', 'a', '--heartbeat-interval=200', '--election-timeout', '2000', '--pre-vote=false', '--strict-reconfig-check', '-enable-grpc-gateway=true']);
    expect([c.name, c.heartbeatIntervalMs, c.electionTimeoutMs, c.preVote, c.strictReconfigCheck, c.enableGrpcGateway]).toEqual(['a', 200, 2000, false, true, true]);
  });

  it('lets the last of a repeated flag win', () => {
    expect(cfg(['--name', 'a', '--name', 'b']).name).toBe('b');
  });

  it('reads integers as Go does (base prefixes, underscores)', () => {
    const c = cfg(['--heartbeat-interval', '0x10', '--election-timeout', '1_000', '--max-txn-ops', '010']);
    expect([c.heartbeatIntervalMs, c.electionTimeoutMs, c.maxTxnOps]).toEqual([16, 1000, 8]);
  });

  it('takes the next argument as a value even when it starts with a dash', () => {
    expect(cfg(['--name', '-x']).name).toBe('-x');
  });

  it('treats -h, --help, even -help=false, as a request for the usage', () => {
    expect(cfg(['-h']).help).toBe(true);
    expect(cfg(['--help']).help).toBe(true);
    expect(cfg(['-help=false']).help).toBe(true);
    expect(cfg(['--version']).version).toBe(true);
  });

  it('fails on an unknown flag, a missing value, bad syntax and stray arguments', () => {
    expect(failure(['--nope']).message).toBe('flag provided but not defined: -nope');
    expect(failure(['--nope=1']).flag).toBe('nope');
    expect(failure(['--name']).message).toBe('flag needs an argument: -name');
    expect(failure(['---name', 'x']).message).toBe('bad flag syntax: ---name');
    expect(failure(['--pre-vote', 'maybe']).message).toBe("'maybe' is not a valid flag");
    expect(failure(['--', '--name', 'x']).message).toBe("'--name' is not a valid flag");
  });
});

describe('bad values fail with etcd’s message naming the flag and the value', () => {
  const cases: [string[], string][] = [
    [['--heartbeat-interval', 'x'], 'invalid value "x" for flag -heartbeat-interval: parse error'],
    [['--heartbeat-interval', '-1'], 'invalid value "-1" for flag -heartbeat-interval: parse error'],
    [['--snapshot-count', '-5'], 'invalid value "-5" for flag -snapshot-count: parse error'],
    [['--heartbeat-interval', '99999999999999999999'], 'invalid value "99999999999999999999" for flag -heartbeat-interval: value out of range'],
    [['--quota-backend-bytes', 'abc'], 'invalid value "abc" for flag -quota-backend-bytes: parse error'],
    [['--max-concurrent-streams', 'abc'], 'invalid value "abc" for flag -max-concurrent-streams: strconv.ParseUint: parsing "abc": invalid syntax'],
    [['--max-concurrent-streams', '4294967296'], 'invalid value "4294967296" for flag -max-concurrent-streams: strconv.ParseUint: parsing "4294967296": value out of range'],
    [['--pre-vote=maybe'], 'invalid boolean value "maybe" for -pre-vote: parse error'],
    [['--initial-cluster-state', 'bogus'], 'invalid value "bogus" for flag -initial-cluster-state: invalid value'],
    [['--discovery-fallback', 'bad'], 'invalid value "bad" for flag -discovery-fallback: invalid value'],
    [['--experimental-watch-progress-notify-interval', '5'], 'invalid value "5" for flag -experimental-watch-progress-notify-interval: parse error'],
    [['--grpc-keepalive-min-time', '1x'], 'invalid value "1x" for flag -grpc-keepalive-min-time: parse error'],
    [['--listen-client-urls', 'foo'], 'invalid value "foo" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo'],
    [['--listen-client-urls', 'ftp://127.0.0.1:1'], 'invalid value "ftp://127.0.0.1:1" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1'],
    [['--listen-client-urls', 'http://127.0.0.1:23791/path'], 'invalid value "http://127.0.0.1:23791/path" for flag -listen-client-urls: URL must not contain a path: http://127.0.0.1:23791/path'],
    [['--initial-advertise-peer-urls', 'http://127.0.0.1:2380/'], 'invalid value "http://127.0.0.1:2380/" for flag -initial-advertise-peer-urls: URL must not contain a path: http://127.0.0.1:2380/'],
    [['--listen-client-urls', 'http://127.0.0.1'], 'invalid value "http://127.0.0.1" for flag -listen-client-urls: URL address does not have the form "host:port": http://127.0.0.1'],
    [['--advertise-client-urls', '127.0.0.1:2379'], 'invalid value "127.0.0.1:2379" for flag -advertise-client-urls: parse "127.0.0.1:2379": first path segment in URL cannot contain colon'],
    [['--advertise-client-urls', 'http://a:b'], 'invalid value "http://a:b" for flag -advertise-client-urls: parse "http://a:b": invalid port ":b" after host'],
    [['--advertise-client-urls', 'http://a:1:2'], 'invalid value "http://a:1:2" for flag -advertise-client-urls: URL address does not have the form "host:port": http://a:1:2'],
    [['--advertise-client-urls', 'http:a:1'], 'invalid value "http:a:1" for flag -advertise-client-urls: URL address does not have the form "host:port": http:a:1'],
    [['--listen-peer-urls', ':::'], 'invalid value ":::" for flag -listen-peer-urls: parse ":::": missing protocol scheme'],
    [['--listen-metrics-urls', 'foo'], 'invalid value "foo" for flag -listen-metrics-urls: URL scheme must be http, https, unix, or unixs: foo'],
  ];
  for (const [argv, message] of cases) {
    it(`${argv.join(' ')}`, () => {
      const e = failure([...base, ...argv]);
      expect(e.message).toBe(message);
      expect(e).toBeInstanceOf(ConfigError);
    });
  }

  it('names the flag and the value on the error object', () => {
    const e = failure(['--heartbeat-interval', 'x']);
    expect([e.flag, e.value]).toEqual(['heartbeat-interval', 'x']);
  });
});

describe('etcd’s checks across flags', () => {
  const cases: [string[], string][] = [
    [['--heartbeat-interval', '300'], '--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]'],
    [['--election-timeout', '60000'], '--election-timeout[60000ms] is too long, and should be set less than 50000ms'],
    [['--heartbeat-interval', '0'], '--heartbeat-interval must be >0 (set to 0ms)'],
    [['--election-timeout', '0'], '--election-timeout must be >0 (set to 0ms)'],
    [['--listen-client-urls', 'http://foo:23791'], 'expected IP in URL for binding (http://foo:23791)'],
    [['--listen-peer-urls', 'http://:23801'], 'expected IP in URL for binding (http://:23801)'],
    [['--advertise-client-urls', 'http://:2379'], '--advertise-client-urls "http://:2379" must be "host:port" (unexpected empty host (http://:2379))'],
    [['--initial-advertise-peer-urls', 'http://:2380'], '--initial-advertise-peer-urls "http://:2380" must be "host:port" (unexpected empty host (http://:2380))'],
    [['--auto-compaction-mode', 'foo'], 'unknown auto-compaction-mode "foo"'],
    [['--auto-compaction-retention', 'xyz'], 'error parsing CompactionRetention: time: invalid duration "xyz"'],
    [['--auto-compaction-retention', '1.5'], 'error parsing CompactionRetention: time: missing unit in duration "1.5"'],
    [['--auto-compaction-retention', '-1'], 'error parsing CompactionRetention: time: missing unit in duration "-1"'],
    [['--experimental-enable-lease-checkpoint-persist'], 'setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint'],
    [['--logger', 'bogus'], 'unknown logger option "bogus"'],
    [['--initial-cluster', 'bad'], 'error setting up initial cluster: URL scheme must be http, https, unix, or unixs: '],
    [['--initial-cluster', 'default=foo'], 'error setting up initial cluster: URL scheme must be http, https, unix, or unixs: foo'],
    [['--initial-cluster', 'default=http://127.0.0.1:2380/x'], 'error setting up initial cluster: URL must not contain a path: http://127.0.0.1:2380/x'],
  ];
  for (const [argv, message] of cases) {
    it(`${argv.join(' ')}`, () => {
      expect(failure([...base, ...argv]).message).toBe(message);
    });
  }

  it('accepts an election timeout of exactly 5 heartbeats and exactly 50000ms', () => {
    expect(cfg(['--heartbeat-interval', '100', '--election-timeout', '500']).electionTicks).toBe(5);
    expect(cfg(['--election-timeout', '50000']).electionTimeoutMs).toBe(50_000);
  });

  it('requires --advertise-client-urls with an explicit --listen-client-urls, from the command line or the environment', () => {
    const message = '--advertise-client-urls is required when --listen-client-urls is set explicitly';
    expect(failure(['--listen-client-urls', 'http://127.0.0.1:23791']).message).toBe(message);
    expect(failure([], { ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:23791' }).message).toBe(message);
    expect(cfg(['--advertise-client-urls', 'http://10.0.0.1:2379']).advertiseClientUrls).toEqual(['http://10.0.0.1:2379']);
  });

  it('fails on a log level etcd does not know (etcd itself panics) — etcdts', () => {
    expect(failure(['--log-level', 'WARN']).message).toContain('unknown level "WARN"');
    expect(cfg(['--log-level', 'warn']).logLevel).toBe('warn');
    expect(cfg(['--debug']).logLevel).toBe('debug');
  });
});

describe('URLs are read as etcd reads them', () => {
  it('sorts, trims, lower-cases the scheme and keeps the host as written', () => {
    const c = cfg(['--advertise-client-urls', ' http://b:2 , HTTP://a:1', '--initial-advertise-peer-urls', 'http://127.0.0.1:2390,http://127.0.0.1:2380']);
    expect(c.advertiseClientUrls).toEqual(['http://a:1', 'http://b:2']);
    expect(c.initialAdvertisePeerUrls).toEqual(['http://127.0.0.1:2380', 'http://127.0.0.1:2390']);
  });

  it('binds to IP literals, localhost and IPv6', () => {
    const c = cfg(['--listen-client-urls', 'http://[::1]:23791,http://localhost:23792', '--advertise-client-urls', 'http://[::1]:23791']);
    expect(c.listenClientUrls.map((u) => [u.hostname, u.port])).toEqual([
      ['[::1]', '23791'],
      ['localhost', '23792'],
    ]);
  });

  it('takes an empty list for the optional URL flags', () => {
    expect(cfg(['--listen-metrics-urls', '']).listenMetricsUrls).toEqual([]);
  });

  it('reads --initial-cluster by name, each name’s URLs sorted', () => {
    const c = cfg(['--name', 'b', '--initial-cluster', 'b=http://127.0.0.1:3,a=http://127.0.0.1:2,b=http://127.0.0.1:1']);
    expect(c.initialCluster).toEqual([
      { name: 'a', peerUrls: ['http://127.0.0.1:2'] },
      { name: 'b', peerUrls: ['http://127.0.0.1:1', 'http://127.0.0.1:3'] },
    ]);
    expect(cfg(['--initial-cluster', '']).initialCluster).toEqual([]);
  });
});

describe('ETCD_* environment variables', () => {
  it('reads every flag from ETCD_<FLAG>, and reports what it used', () => {
    const r = parseConfig([], { ETCD_NAME: 'env', ETCD_DATA_DIR: '/d', ETCD_HEARTBEAT_INTERVAL: '50', ETCD_PRE_VOTE: 'false', ETCD_INITIAL_CLUSTER_TOKEN: 't' });
    expect([r.config.name, r.config.dataDir, r.config.heartbeatIntervalMs, r.config.preVote, r.config.initialClusterToken]).toEqual(['env', '/d', 50, false, 't']);
    expect(r.notices).toContain('recognized and used environment variable ETCD_DATA_DIR=/d');
    expect(r.config.explicit.sort()).toEqual(['data-dir', 'heartbeat-interval', 'initial-cluster-token', 'name', 'pre-vote']);
  });

  it('combines the command line and the environment for different flags', () => {
    const c = cfg(['--name=cli'], { ETCD_DATA_DIR: '/d' });
    expect([c.name, c.dataDir]).toEqual(['cli', '/d']);
  });

  it('refuses a flag given both ways, as etcd 3.4 does', () => {
    const e = failure(['--name', 'cli'], { ETCD_NAME: 'env' });
    expect(e.message).toBe(
      'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)',
    );
    expect(e.flag).toBe('name');
  });

  it('warns about unknown ETCD_* variables and about empty ones, and ignores other prefixes', () => {
    const r = parseConfig([], { ETCD_FOO_BAR: '1', ETCD_lower: '1', ETCD_NAME: '', ETCDCTL_API: '3', PATH: '/bin', ETCD_UNSET: undefined });
    expect(r.warnings.sort()).toEqual([
      'unrecognized environment variable ETCD_FOO_BAR=1',
      'unrecognized environment variable ETCD_NAME=',
      'unrecognized environment variable ETCD_lower=1',
    ]);
    expect(r.config.name).toBe('default');
    // An empty variable does not conflict with the flag.
    expect(cfg(['--name', 'x'], { ETCD_NAME: '' }).name).toBe('x');
  });

  it('fails on a bad value naming the variable', () => {
    expect(failure([], { ETCD_HEARTBEAT_INTERVAL: 'abc' }).message).toBe('invalid value "abc" for ETCD_HEARTBEAT_INTERVAL: parse error');
    expect(failure([], { ETCD_PRE_VOTE: 'abc' }).message).toBe('invalid value "abc" for ETCD_PRE_VOTE: parse error');
    expect(failure([], { ETCD_LISTEN_PEER_URLS: 'foo' }).message).toBe('invalid value "foo" for ETCD_LISTEN_PEER_URLS: URL scheme must be http, https, unix, or unixs: foo');
  });

  it('does not take --version from ETCD_VERSION (etcd decides it from the command line)', () => {
    expect(cfg([], { ETCD_VERSION: 'true' }).version).toBe(false);
  });
});

describe('TLS flags and the features etcdts does not serve yet — etcdts', () => {
  it('takes the TLS flags, and refuses an https client URL without a certificate as etcd does', () => {
    const ok = cfg(['--cert-file', '/c.pem', '--key-file', '/k.pem', '--peer-auto-tls=true', '--client-cert-auth']);
    expect(ok.clientTls).toMatchObject({ certFile: '/c.pem', keyFile: '/k.pem', clientCertAuth: true });
    expect(ok.peerTls.autoTls).toBe(true);
    const e = failure(['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://127.0.0.1:2379']);
    expect(e.message).toBe('TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme');
    expect(cfg(['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://127.0.0.1:2379', '--auto-tls']).listenClientUrls[0]?.protocol).toBe('https:');
    expect(failure(['--cipher-suites', 'TLS_FOO']).message).toBe('unexpected TLS cipher suite "TLS_FOO"');
    const c = cfg(['--auto-tls=false', '--cipher-suites', 'TLS_AES_128_GCM_SHA256', '--client-cert-allowed-hostname', 'h']);
    expect(c.clientTls.autoTls).toBe(false);
    expect(c.clientTls.allowedHostname).toBe('h');
    expect(cfg(['--peer-crl-file', '/crl.pem']).peerTls.crlFile).toBe('/crl.pem');
  });

  it('refuses a missing --config-file, discovery and the v2 proxy clearly', () => {
    expect(failure(['--config-file', '/nonexistent/etcd.yml']).message).toBe('open /nonexistent/etcd.yml: no such file or directory');
    expect(failure([], { ETCD_CONFIG_FILE: '/nonexistent/etcd.yml' }).flag).toBe('config-file');
    expect(failure(['--discovery', 'https://discovery.etcd.io/x']).message).toMatch(/discovery is not supported by etcdts yet/);
    expect(failure(['--proxy', 'on']).message).toMatch(/v2 proxy is not supported/);
  });

  it('refuses --enable-v2 and --logger=capnslog, which etcdts cannot honour; accepts their defaults', () => {
    expect(failure(['--enable-v2']).message).toBe('--enable-v2=true is not supported by etcdts (it runs as with --enable-v2=false); remove the flag');
    expect(failure(['--logger', 'capnslog']).flag).toBe('logger');
    expect(cfg(['--enable-v2=false', '--logger', 'zap']).enableV2).toBe(false);
  });
});

describe('the rest of ServerConfig', () => {
  it('reads auto compaction as etcd: a bare number is hours (periodic) or revisions', () => {
    expect(cfg(['--auto-compaction-retention', '5']).autoCompactionPeriodMs).toBe(5 * 3_600_000);
    expect(cfg(['--auto-compaction-retention', '90m']).autoCompactionPeriodMs).toBe(90 * 60_000);
    const r = cfg(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1000']);
    expect([r.autoCompactionMode, r.autoCompactionRevisions, r.autoCompactionPeriodMs]).toEqual(['revision', 1000n, 0]);
    // etcd keeps "1h" as a duration even in revision mode, and counts its nanoseconds.
    expect(cfg(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1h']).autoCompactionRevisions).toBe(3_600_000_000_000n);
  });

  it('reads the other flags of the brief', () => {
    const c = cfg([
      '--snapshot-count', '10000', '--max-txn-ops', '1024', '--max-request-bytes', '10485760',
      '--quota-backend-bytes', '8589934592', '--log-outputs', 'stderr,/tmp/x.log', '--initial-cluster-state', 'existing',
      '--strict-reconfig-check=false', '--enable-grpc-gateway=false', '--max-concurrent-streams', '100',
      '--experimental-watch-progress-notify-interval', '5s', '--experimental-enable-lease-checkpoint',
      '--listen-metrics-urls', 'http://127.0.0.1:2381', '--initial-cluster-token', 'tok',
    ]);
    expect([c.snapshotCount, c.maxTxnOps, c.maxRequestBytes, c.quotaBackendBytes]).toEqual([10000, 1024, 10485760, 8589934592]);
    expect(c.logOutputs).toEqual(['stderr', '/tmp/x.log']);
    expect([c.initialClusterState, c.strictReconfigCheck, c.enableGrpcGateway, c.maxConcurrentStreams]).toEqual(['existing', false, false, 100]);
    expect([c.watchProgressNotifyIntervalMs, c.enableLeaseCheckpoint]).toEqual([5000, true]);
    expect(c.listenMetricsUrls.map((u) => u.port)).toEqual(['2381']);
    expect(c.initialClusterToken).toBe('tok');
  });

  it('keeps a negative quota (etcd: no quota)', () => {
    expect(cfg(['--quota-backend-bytes', '-1']).quotaBackendBytes).toBe(-1);
  });
});
