/**
 * etcd's server command line and ETCD_* environment, read as etcd 3.4.23 reads them (checked
 * live; etcd 3.5 defaults): Go `flag` syntax (`--name x`, `--name=x`, `-name x`, booleans as
 * `--flag` or `--flag=false`, `--` ends the flags), every flag also from ETCD_<FLAG>, the
 * derived defaults etcd computes (data dir from the name, initial cluster from name and
 * advertised peer URLs), and etcd's checks with etcd's messages. Anything wrong is a ConfigError;
 * unknown ETCD_* variables are warnings, as in etcd.
 *
 * Where etcd differs from a naive reading (all observed on etcd 3.4.23):
 * - A flag given both on the command line and in the environment is refused ("conflicting
 *   environment variable ... is shadowed"), not silently overridden.
 * - An ETCD_* variable set to "" is not used, and is reported as unrecognized.
 * - `-h`/`-help` in any form (even `-help=false`) prints the usage.
 * - `--version` and `--help` count only on the command line.
 */
import { quotaBackendBytesDefault } from '../base/limits.js';
import type { LogLevel } from '../base/logger.js';
import { ConfigError } from './config-error.js';
import { applyEnvironment, parseCommandLine } from './command-line.js';
import { flagSpecs, flagsByName, type FlagKind } from './flag-table.js';
import { alsoAccepted, implemented } from './flag-support.js';
import { readConfigFile } from './config-file.js';
import { parseGoBool, parseGoDurationMs, parseGoDurationNs, parseGoInt, parseGoUint, ValueError } from './go-values.js';
import { bindUrlProblem, isLoopbackUrl, parseEtcdUrl, parseEtcdUrls, whatwgUrl, type EtcdUrl } from './urls.js';

export { ConfigError } from './config-error.js';
export { bootstrapMembers, initialClusterString, type Bootstrap, type BootstrapMember } from './bootstrap.js';

/** etcd's largest election timeout (embed maxElectionMs). */
export const electionTimeoutMsMax = 50_000;

/** The --initial-cluster default; with another --name etcd rewrites it to that name (see below). */
export const initialClusterDefault = 'default=http://localhost:2380';

const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'];

export interface InitialMember {
  name: string;
  /** Sorted, in Go's url.String() form (the text the member id hashes). */
  peerUrls: string[];
}

export interface TlsSettings {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  clientCertAuth: boolean;
  autoTls: boolean;
  crlFile: string;
  allowedHostname: string;
  /** Peer only (--peer-cert-allowed-cn); "" for clients. */
  allowedCn: string;
  /** The certificate this member presents when it is itself the client. */
  clientCertFile: string;
  clientKeyFile: string;
}

export interface ServerConfig {
  name: string;
  /** --data-dir, or "<name>.etcd" when unset, as etcd. */
  dataDir: string;
  walDir: string;
  /** Bind addresses (checked: IP literal, "localhost" or unix socket). */
  listenClientUrls: URL[];
  listenClientHttpUrls: URL[];
  listenPeerUrls: URL[];
  listenMetricsUrls: URL[];
  /** Advertised URLs as etcd prints and stores them (Go url.String()), sorted. */
  advertiseClientUrls: string[];
  initialAdvertisePeerUrls: string[];
  initialCluster: InitialMember[];
  initialClusterToken: string;
  initialClusterState: 'new' | 'existing';
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  /** electionTimeoutMs / heartbeatIntervalMs, integer division (etcd's ElectionTicks). */
  electionTicks: number;
  /** Always 1: etcd's Raft tick is one heartbeat interval. */
  heartbeatTicks: number;
  initialElectionTickAdvance: boolean;
  snapshotCount: number;
  snapshotCatchupEntries: number;
  maxSnapshots: number;
  maxWals: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  /** --backend-batch-interval (ms; 0: etcd's default) and --backend-batch-limit (0: default). */
  backendBatchIntervalMs: number;
  backendBatchLimit: number;
  /** 0 on the command line becomes etcd's 2 GiB default; a negative value means no quota. */
  quotaBackendBytes: number;
  maxConcurrentStreams: number;
  grpcKeepaliveMinTimeMs: number;
  grpcKeepaliveIntervalMs: number;
  grpcKeepaliveTimeoutMs: number;
  enableGrpcGateway: boolean;
  /** --ui: the web console under /ui/; unset, on exactly when every client listener is loopback. */
  ui: boolean;
  preVote: boolean;
  strictReconfigCheck: boolean;
  autoCompactionMode: 'periodic' | 'revision';
  /** The flag's text ("0", "1h", "1000"). */
  autoCompactionRetention: string;
  /** periodic mode: the retention window (a bare number is hours); 0 = off. 0 in revision mode. */
  autoCompactionPeriodMs: number;
  /** revision mode: revisions to keep; 0n = off. 0n in periodic mode. */
  autoCompactionRevisions: bigint;
  compactionBatchLimit: number;
  watchProgressNotifyIntervalMs: number;
  /** --experimental-corrupt-check-time: period of the leader's HashKV comparison (0: off). */
  corruptCheckTimeMs: number;
  warningApplyDurationMs: number;
  enableLeaseCheckpoint: boolean;
  enableLeaseCheckpointPersist: boolean;
  maxLearners: number;
  forceNewCluster: boolean;
  unsafeNoFsync: boolean;
  logLevel: LogLevel;
  logger: 'zap' | 'capnslog';
  /** "default" | "stderr" | "stdout" | file paths. */
  logOutputs: string[];
  authToken: string;
  bcryptCost: number;
  authTokenTtlSeconds: number;
  enablePprof: boolean;
  metrics: string;
  corsOrigins: string[];
  hostWhitelist: string[];
  clientTls: TlsSettings;
  peerTls: TlsSettings;
  enableV2: boolean;
  /** --version on the command line. */
  version: boolean;
  /** -h/--help on the command line. */
  help: boolean;
  /** Every flag's final text, by flag name (defaults included). */
  raw: Record<string, string>;
  /** Flags set on the command line or through ETCD_*. */
  explicit: string[];
}

export interface ParsedConfig {
  config: ServerConfig;
  /** What etcd logs at warn level while reading its flags (unknown ETCD_* variables, ...). */
  warnings: string[];
  /** What etcd logs at info level ("recognized and used environment variable ..."). */
  notices: string[];
}

/** "name=url,name=url" (types.NewURLsMap): members by name, each name's URLs sorted. */
export function parseInitialCluster(value: string): InitialMember[] {
  const byName = new Map<string, string[]>();
  if (value !== '') {
    for (const part of value.split(',')) {
      const eq = part.indexOf('=');
      const name = eq >= 0 ? part.slice(0, eq) : part;
      const url = eq >= 0 ? part.slice(eq + 1) : '';
      let parsed: EtcdUrl;
      try {
        parsed = parseEtcdUrl(url);
      } catch (e) {
        if (e instanceof ValueError) {
          throw new ConfigError(`error setting up initial cluster: ${e.message}`, 'initial-cluster', value);
        }
        throw e;
      }
      const list = byName.get(name) ?? [];
      list.push(parsed.text);
      byName.set(name, list);
    }
  }
  return [...byName.keys()].sort().map((name) => ({ name, peerUrls: [...(byName.get(name) ?? [])].sort() }));
}

function tlsRequested(t: TlsSettings): boolean {
  return t.certFile !== '' || t.keyFile !== '' || t.trustedCaFile !== '' || t.clientCertAuth || t.autoTls || t.crlFile !== '';
}

function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseConfig(argv: readonly string[], env: Record<string, string | undefined>): ParsedConfig {
  const warnings: string[] = [];
  const notices: string[] = [];
  const cli = parseCommandLine(argv);
  let values = cli.values;
  let fromCli = new Set(values.keys());
  let fromEnv = applyEnvironment(values, env, warnings, notices);
  // etcd: with a configuration file, every other flag and variable is ignored.
  const configFile = values.get('config-file') ?? '';
  if (configFile !== '') {
    values = readConfigFile(configFile);
    values.set('config-file', configFile);
    fromCli = new Set(values.keys());
    fromEnv = new Set();
  }
  const explicit = (flag: string): boolean => fromCli.has(flag) || fromEnv.has(flag);
  const get = (flag: string): string => {
    const v = values.get(flag);
    if (v !== undefined) return v;
    const spec = flagsByName.get(flag);
    if (spec === undefined) throw new Error(`no such flag in the table: ${flag}`);
    return spec.def;
  };
  // Every value was checked as it was set; these re-reads cannot fail.
  const bool = (flag: string): boolean => parseGoBool(get(flag));
  const num = (flag: string): number => Number(flagsByName.get(flag)?.kind === 'int' ? parseGoInt(get(flag)) : parseGoUint(get(flag)));
  const ms = (flag: string): number => parseGoDurationMs(get(flag));
  const urls = (flag: string): EtcdUrl[] => parseEtcdUrls(get(flag));
  const fail = (msg: string, flag?: string): never => {
    throw new ConfigError(msg, flag, flag === undefined ? undefined : get(flag));
  };

  // Logging first, as etcd sets up its logger before checking anything else.
  const logLevelText = bool('debug') ? 'debug' : get('log-level');
  if (!(logLevels as readonly string[]).includes(logLevelText)) {
    fail(`invalid value ${JSON.stringify(logLevelText)} for flag -log-level: unknown level ${JSON.stringify(logLevelText)} (valid: debug, info, warn, error, panic, fatal)`, 'log-level');
  }
  const loggerKind = get('logger');
  if (loggerKind !== 'zap' && loggerKind !== 'capnslog') fail(`unknown logger option ${JSON.stringify(loggerKind)}`, 'logger');
  const logOutputs = get('log-outputs').split(',');
  if (logOutputs.some((o) => o === '')) {
    fail(`invalid value ${JSON.stringify(get('log-outputs'))} for flag -log-outputs: empty output (use default, stderr, stdout or a file path)`, 'log-outputs');
  }

  const clientTls: TlsSettings = {
    certFile: get('cert-file'),
    keyFile: get('key-file'),
    trustedCaFile: get('trusted-ca-file'),
    clientCertAuth: bool('client-cert-auth'),
    autoTls: bool('auto-tls'),
    crlFile: get('client-crl-file'),
    allowedHostname: get('client-cert-allowed-hostname'),
    allowedCn: '',
    clientCertFile: get('client-cert-file'),
    clientKeyFile: get('client-key-file'),
  };
  const peerTls: TlsSettings = {
    certFile: get('peer-cert-file'),
    keyFile: get('peer-key-file'),
    trustedCaFile: get('peer-trusted-ca-file'),
    clientCertAuth: bool('peer-client-cert-auth'),
    autoTls: bool('peer-auto-tls'),
    crlFile: get('peer-crl-file'),
    allowedHostname: get('peer-cert-allowed-hostname'),
    allowedCn: get('peer-cert-allowed-cn'),
    clientCertFile: get('peer-client-cert-file'),
    clientKeyFile: get('peer-client-key-file'),
  };

  const lpUrls = urls('listen-peer-urls');
  const lcUrls = urls('listen-client-urls');
  const lchUrls = urls('listen-client-http-urls');
  const metricsUrls = urls('listen-metrics-urls');
  const apUrls = urls('initial-advertise-peer-urls');
  const acUrls = urls('advertise-client-urls');

  // TLS: accepted and stored, refused while etcdts serves plain text only.
  const tlsFlags = [
    ...(['cert-file', 'key-file', 'trusted-ca-file', 'client-crl-file'] as const).filter((k) => get(k) !== ''),
    ...(['client-cert-auth', 'auto-tls'] as const).filter((k) => bool(k)),
    ...(['peer-cert-file', 'peer-key-file', 'peer-trusted-ca-file', 'peer-crl-file'] as const).filter((k) => get(k) !== ''),
    ...(['peer-client-cert-auth', 'peer-auto-tls'] as const).filter((k) => bool(k)),
  ];
  if (tlsRequested(clientTls) || tlsRequested(peerTls)) {
    const first = tlsFlags[0] ?? 'cert-file';
    fail(`TLS is not supported by etcdts yet (--${first}=${get(first)}); serve plain http URLs`, first);
  }
  const urlFlags = [
    'listen-peer-urls',
    'listen-client-urls',
    'listen-client-http-urls',
    'listen-metrics-urls',
    'initial-advertise-peer-urls',
    'advertise-client-urls',
  ];
  for (const flag of urlFlags) {
    const secure = urls(flag).find((u) => u.scheme === 'https' || u.scheme === 'unixs');
    if (secure) fail(`TLS is not supported by etcdts yet (--${flag}=${get(flag)} asks for ${secure.scheme}); use http URLs`, flag);
  }

  // embed.Config.Validate, in etcd's order.
  for (const [flag, list] of [
    ['listen-peer-urls', lpUrls],
    ['listen-client-urls', lcUrls],
    ['listen-client-http-urls', lchUrls],
    ['listen-metrics-urls', metricsUrls],
  ] as const) {
    for (const u of list) {
      const problem = bindUrlProblem(u);
      if (problem !== undefined) fail(problem, flag);
    }
  }
  for (const [flag, list] of [
    ['initial-advertise-peer-urls', apUrls],
    ['advertise-client-urls', acUrls],
  ] as const) {
    const empty = list.find((u) => u.hostname === '' && u.scheme !== 'unix' && u.scheme !== 'unixs');
    if (empty) {
      fail(`--${flag} ${JSON.stringify(list.map((u) => u.text).join(','))} must be "host:port" (unexpected empty host (${empty.text}))`, flag);
    }
  }
  const bootstrapFlags = ['discovery', 'initial-cluster', 'discovery-srv'].filter((k) => explicit(k) && get(k) !== '');
  if (bootstrapFlags.length > 1) {
    fail('multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"');
  }
  const heartbeatIntervalMs = num('heartbeat-interval');
  const electionTimeoutMs = num('election-timeout');
  if (heartbeatIntervalMs <= 0) fail(`--heartbeat-interval must be >0 (set to ${heartbeatIntervalMs}ms)`, 'heartbeat-interval');
  if (electionTimeoutMs <= 0) fail(`--election-timeout must be >0 (set to ${electionTimeoutMs}ms)`, 'election-timeout');
  if (5 * heartbeatIntervalMs > electionTimeoutMs) {
    fail(`--election-timeout[${electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatIntervalMs}ms]`, 'election-timeout');
  }
  if (electionTimeoutMs > electionTimeoutMsMax) {
    fail(`--election-timeout[${electionTimeoutMs}ms] is too long, and should be set less than ${electionTimeoutMsMax}ms`, 'election-timeout');
  }
  if (explicit('listen-client-urls') && !explicit('advertise-client-urls')) {
    fail('--advertise-client-urls is required when --listen-client-urls is set explicitly', 'advertise-client-urls');
  }
  const compactionMode = get('auto-compaction-mode');
  if (compactionMode !== 'periodic' && compactionMode !== 'revision') {
    fail(`unknown auto-compaction-mode ${JSON.stringify(compactionMode)}`, 'auto-compaction-mode');
  }
  if (bool('experimental-enable-lease-checkpoint-persist') && !bool('experimental-enable-lease-checkpoint')) {
    fail('setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint', 'experimental-enable-lease-checkpoint-persist');
  }

  // What etcd checks when it starts the server.
  const retention = get('auto-compaction-retention');
  let autoCompactionPeriodMs = 0;
  let autoCompactionRevisions = 0n;
  if (/^[0-9]+$/.test(retention)) {
    // A bare number: hours in periodic mode, revisions in revision mode.
    if (compactionMode === 'periodic') autoCompactionPeriodMs = Number(retention) * 3_600_000;
    else autoCompactionRevisions = BigInt(retention);
  } else {
    let ns = 0;
    try {
      ns = parseGoDurationNs(retention);
    } catch (e) {
      if (e instanceof ValueError) fail(`error parsing CompactionRetention: ${e.message}`, 'auto-compaction-retention');
      throw e;
    }
    // etcd keeps a duration even in revision mode, and then reads its nanoseconds as a count.
    if (compactionMode === 'periodic') autoCompactionPeriodMs = ns / 1e6;
    else autoCompactionRevisions = BigInt(Math.trunc(ns));
  }
  if (get('discovery') !== '' || get('discovery-srv') !== '') {
    const flag = get('discovery') !== '' ? 'discovery' : 'discovery-srv';
    fail(`--${flag}=${get(flag)}: discovery is not supported by etcdts yet; bootstrap with --initial-cluster`, flag);
  }
  if (get('proxy') !== 'off') fail(`--proxy=${get('proxy')}: the v2 proxy is not supported by etcdts`, 'proxy');
  const authToken = get('auth-token');
  const tokenKind = authToken.split(',')[0];
  if (tokenKind !== 'simple' && tokenKind !== 'jwt') fail(`--auth-token=${authToken}: auth: invalid auth options`, 'auth-token');

  // Flags etcdts does not act on: accepted at their default only (flag-support.ts).
  for (const spec of flagSpecs) {
    if (implemented.has(spec.name) || !explicit(spec.name)) continue;
    const v = get(spec.name);
    if (sameFlagValue(spec.kind, v, spec.def) || (alsoAccepted.get(spec.name) ?? []).some((ok) => sameFlagValue(spec.kind, v, ok))) continue;
    fail(`--${spec.name}=${v} is not supported by etcdts (it runs as with --${spec.name}=${spec.def}); remove the flag`, spec.name);
  }

  const name = get('name');
  // etcd: a renamed member with the default --initial-cluster bootstraps alone, as
  // "<name>=<each --initial-advertise-peer-urls>" (even when that default was typed out).
  const initialClusterText =
    name !== 'default' && get('initial-cluster') === initialClusterDefault
      ? apUrls.map((u) => `${name}=${u.text}`).join(',')
      : get('initial-cluster');
  const initialCluster = parseInitialCluster(initialClusterText);
  values.set('initial-cluster', initialClusterText);

  const quota = Number(parseGoInt(get('quota-backend-bytes')));
  const toBind = (flag: string, list: EtcdUrl[]): URL[] =>
    list.map((u) => {
      try {
        return whatwgUrl(u);
      } catch (e) {
        if (e instanceof ValueError) return fail(`invalid value ${JSON.stringify(get(flag))} for flag -${flag}: ${e.message}`, flag);
        throw e;
      }
    });

  const config: ServerConfig = {
    name,
    dataDir: get('data-dir') !== '' ? get('data-dir') : `${name}.etcd`,
    walDir: get('wal-dir'),
    listenClientUrls: toBind('listen-client-urls', lcUrls),
    listenClientHttpUrls: toBind('listen-client-http-urls', lchUrls),
    listenPeerUrls: toBind('listen-peer-urls', lpUrls),
    listenMetricsUrls: toBind('listen-metrics-urls', metricsUrls),
    advertiseClientUrls: acUrls.map((u) => u.text),
    initialAdvertisePeerUrls: apUrls.map((u) => u.text),
    initialCluster,
    initialClusterToken: get('initial-cluster-token'),
    initialClusterState: get('initial-cluster-state') === 'existing' ? 'existing' : 'new',
    heartbeatIntervalMs,
    electionTimeoutMs,
    electionTicks: Math.floor(electionTimeoutMs / heartbeatIntervalMs),
    heartbeatTicks: 1,
    initialElectionTickAdvance: bool('initial-election-tick-advance'),
    snapshotCount: num('snapshot-count'),
    snapshotCatchupEntries: num('experimental-snapshot-catchup-entries'),
    maxSnapshots: num('max-snapshots'),
    maxWals: num('max-wals'),
    maxTxnOps: num('max-txn-ops'),
    maxRequestBytes: num('max-request-bytes'),
    backendBatchIntervalMs: ms('backend-batch-interval'),
    backendBatchLimit: num('backend-batch-limit'),
    quotaBackendBytes: quota === 0 ? quotaBackendBytesDefault : quota,
    maxConcurrentStreams: Number(get('max-concurrent-streams')),
    grpcKeepaliveMinTimeMs: ms('grpc-keepalive-min-time'),
    grpcKeepaliveIntervalMs: ms('grpc-keepalive-interval'),
    grpcKeepaliveTimeoutMs: ms('grpc-keepalive-timeout'),
    enableGrpcGateway: bool('enable-grpc-gateway'),
    // A console that can delete keys is for the machine's own user unless asked for elsewhere.
    ui: explicit('ui') ? bool('ui') : lcUrls.every(isLoopbackUrl),
    preVote: bool('pre-vote'),
    strictReconfigCheck: bool('strict-reconfig-check'),
    autoCompactionMode: compactionMode === 'revision' ? 'revision' : 'periodic',
    autoCompactionRetention: retention,
    autoCompactionPeriodMs,
    autoCompactionRevisions,
    compactionBatchLimit: num('experimental-compaction-batch-limit'),
    watchProgressNotifyIntervalMs: ms('experimental-watch-progress-notify-interval'),
    corruptCheckTimeMs: ms('experimental-corrupt-check-time'),
    warningApplyDurationMs: ms('experimental-warning-apply-duration'),
    enableLeaseCheckpoint: bool('experimental-enable-lease-checkpoint'),
    enableLeaseCheckpointPersist: bool('experimental-enable-lease-checkpoint-persist'),
    maxLearners: num('experimental-max-learners'),
    forceNewCluster: bool('force-new-cluster'),
    unsafeNoFsync: bool('unsafe-no-fsync'),
    logLevel: logLevelText as LogLevel,
    logger: loggerKind === 'capnslog' ? 'capnslog' : 'zap',
    logOutputs,
    authToken,
    bcryptCost: num('bcrypt-cost'),
    authTokenTtlSeconds: num('auth-token-ttl'),
    enablePprof: bool('enable-pprof'),
    metrics: get('metrics'),
    corsOrigins: list(get('cors')),
    hostWhitelist: list(get('host-whitelist')),
    clientTls,
    peerTls,
    enableV2: bool('enable-v2'),
    version: fromCli.has('version') && bool('version'),
    help: cli.help,
    raw: Object.fromEntries(flagSpecs.map((s) => [s.name, get(s.name)])),
    explicit: flagSpecs.map((s) => s.name).filter(explicit),
  };
  return { config, warnings, notices };
}

/** `etcdts --help`: etcd's flags by group, with their defaults. */
export function usage(): string {
  const out = [
    'Usage:',
    '',
    '  etcdts [flags]',
    '    Start an etcd-compatible member.',
    '',
    '  etcdts --version',
    '    Print the version and exit.',
    '',
    '  etcdts -h | --help',
    '    Print this help.',
    '',
    'Every flag can also be given as an environment variable ETCD_<FLAG_NAME>',
    '(upper case, dashes as underscores), e.g. ETCD_DATA_DIR; a flag may not be given both ways.',
  ];
  let group = '';
  for (const s of flagSpecs) {
    if (s.listed === false) continue;
    if (s.group !== group) {
      group = s.group;
      out.push('', `${group}:`);
    }
    const def = s.name === 'data-dir' ? '${name}.etcd' : s.name === 'max-concurrent-streams' ? 'math.MaxUint32' : s.def;
    out.push(`  --${s.name} '${def}'`, `    ${s.help}`);
  }
  return out.join('\n') + '\n';
}


/** Two texts of one flag mean the same value (Go's parse of the flag's type). */
function sameFlagValue(kind: FlagKind, a: string, b: string): boolean {
  if (a === b) return true;
  try {
    if (kind === 'bool') return parseGoBool(a) === parseGoBool(b);
    if (kind === 'duration') return parseGoDurationNs(a) === parseGoDurationNs(b);
    if (kind === 'uint' || kind === 'uint32' || kind === 'int') return BigInt(a) === BigInt(b);
  } catch {
    return false;
  }
  return false;
}
