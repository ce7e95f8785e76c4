/**
 * etcd's server flags with etcd's names and defaults (server/embed/config.go, etcdmain/help.go,
 * v3.5), each also read from ETCD_<NAME> (upper case, '-' → '_'); a flag on the command line wins
 * over the environment. Syntax as Go's flag package: --name value, --name=value, -name value;
 * booleans as --flag or --flag=false. Unknown flags and bad values fail with a ConfigError
 * naming the flag and the value.
 */
import { computeClusterId, computeMemberId } from './ids.js';
import {
  electionTimeoutMsDefault,
  heartbeatIntervalMsDefault,
  maxRequestBytesDefault,
  maxTxnOpsDefault,
  quotaBackendBytesDefault,
  snapshotCountDefault,
} from '../base/limits.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Kind = 'string' | 'bool' | 'uint' | 'int' | 'urls' | 'duration' | 'enum';

interface FlagSpec {
  kind: Kind;
  def: string;
  help: string;
  values?: string[];
}

/** etcd's maximum election timeout (embed/config.go maxElectionMs). */
export const electionTimeoutMsMax = 50_000;

const flagSpecs: Record<string, FlagSpec> = {
  name: { kind: 'string', def: 'default', help: 'Human-readable name for this member.' },
  'data-dir': { kind: 'string', def: '', help: 'Path to the data directory (default "${name}.etcd").' },
  'wal-dir': { kind: 'string', def: '', help: 'Path to the dedicated wal directory (not separate in etcdts).' },
  'listen-client-urls': { kind: 'urls', def: 'http://localhost:2379', help: 'List of URLs to listen on for client traffic.' },
  'advertise-client-urls': { kind: 'urls', def: 'http://localhost:2379', help: 'List of this member\'s client URLs to advertise to the public.' },
  'listen-peer-urls': { kind: 'urls', def: 'http://localhost:2380', help: 'List of URLs to listen on for peer traffic.' },
  'initial-advertise-peer-urls': { kind: 'urls', def: 'http://localhost:2380', help: 'List of this member\'s peer URLs to advertise to the rest of the cluster.' },
  'initial-cluster': { kind: 'string', def: '', help: 'Initial cluster configuration for bootstrapping (default "default=http://localhost:2380").' },
  'initial-cluster-token': { kind: 'string', def: 'etcd-cluster', help: 'Initial cluster token for the etcd cluster during bootstrap.' },
  'initial-cluster-state': { kind: 'enum', def: 'new', values: ['new', 'existing'], help: 'Initial cluster state (\'new\' or \'existing\').' },
  'heartbeat-interval': { kind: 'uint', def: String(heartbeatIntervalMsDefault), help: 'Time (in milliseconds) of a heartbeat interval.' },
  'election-timeout': { kind: 'uint', def: String(electionTimeoutMsDefault), help: 'Time (in milliseconds) for an election to timeout.' },
  'snapshot-count': { kind: 'uint', def: String(snapshotCountDefault), help: 'Number of committed transactions to trigger a snapshot to disk.' },
  'max-txn-ops': { kind: 'uint', def: String(maxTxnOpsDefault), help: 'Maximum number of operations permitted in a transaction.' },
  'max-request-bytes': { kind: 'uint', def: String(maxRequestBytesDefault), help: 'Maximum client request size in bytes the server will accept.' },
  'quota-backend-bytes': { kind: 'int', def: '0', help: 'Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).' },
  'log-level': { kind: 'enum', def: 'info', values: ['debug', 'info', 'warn', 'error', 'panic', 'fatal'], help: 'Configures log level.' },
  logger: { kind: 'enum', def: 'zap', values: ['zap', 'capnslog'], help: 'Specify \'zap\' for structured logging.' },
  'log-outputs': { kind: 'string', def: 'default', help: 'Specify \'stdout\' or \'stderr\' to skip journald logging.' },
  'auto-compaction-mode': { kind: 'enum', def: 'periodic', values: ['periodic', 'revision'], help: 'Interpret \'auto-compaction-retention\' one of: periodic|revision.' },
  'auto-compaction-retention': { kind: 'string', def: '0', help: 'Auto compaction retention length. 0 means disable auto compaction.' },
  'pre-vote': { kind: 'bool', def: 'true', help: 'Enable to run an additional Raft election phase.' },
  'strict-reconfig-check': { kind: 'bool', def: 'true', help: 'Reject reconfiguration requests that would cause quorum loss.' },
  'enable-grpc-gateway': { kind: 'bool', def: 'true', help: 'Enable GRPC gateway.' },
  'enable-v2': { kind: 'bool', def: 'false', help: 'Accept etcd V2 client requests (not supported by etcdts).' },
  'max-concurrent-streams': { kind: 'uint', def: '4294967295', help: 'Maximum concurrent streams that each client can open at a time.' },
  'experimental-watch-progress-notify-interval': { kind: 'duration', def: '10m', help: 'Duration of periodic watch progress notifications.' },
  'experimental-enable-lease-checkpoint': { kind: 'bool', def: 'false', help: 'Enable leader to send regular checkpoints to other members to prevent reset of remaining TTL on leader change.' },
  'experimental-compaction-batch-limit': { kind: 'uint', def: '1000', help: 'Sets the maximum revisions deleted in each compaction batch.' },
  'force-new-cluster': { kind: 'bool', def: 'false', help: 'Force to create a new one member cluster.' },
  'unsafe-no-fsync': { kind: 'bool', def: 'false', help: 'Disables fsync, unsafe, will cause data loss.' },
  'listen-metrics-urls': { kind: 'string', def: '', help: 'List of URLs to listen on for the metrics and health endpoints.' },
  'grpc-keepalive-min-time': { kind: 'duration', def: '5s', help: 'Minimum interval duration that a client should wait before pinging server.' },
  'grpc-keepalive-interval': { kind: 'duration', def: '2h', help: 'Frequency duration of server-to-client ping to check if a connection is alive.' },
  'grpc-keepalive-timeout': { kind: 'duration', def: '20s', help: 'Additional duration of wait before closing a non-responsive connection.' },
  'cert-file': { kind: 'string', def: '', help: 'Path to the client server TLS cert file.' },
  'key-file': { kind: 'string', def: '', help: 'Path to the client server TLS key file.' },
  'client-cert-auth': { kind: 'bool', def: 'false', help: 'Enable client cert authentication.' },
  'trusted-ca-file': { kind: 'string', def: '', help: 'Path to the client server TLS trusted CA cert file.' },
  'auto-tls': { kind: 'bool', def: 'false', help: 'Client TLS using generated certificates.' },
  'peer-cert-file': { kind: 'string', def: '', help: 'Path to the peer server TLS cert file.' },
  'peer-key-file': { kind: 'string', def: '', help: 'Path to the peer server TLS key file.' },
  'peer-client-cert-auth': { kind: 'bool', def: 'false', help: 'Enable peer client cert authentication.' },
  'peer-trusted-ca-file': { kind: 'string', def: '', help: 'Path to the peer server TLS trusted CA file.' },
  'peer-auto-tls': { kind: 'bool', def: 'false', help: 'Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided.' },
  'config-file': { kind: 'string', def: '', help: 'Path to the server configuration file (not supported by etcdts yet).' },
  version: { kind: 'bool', def: 'false', help: 'Print the version and exit.' },
  help: { kind: 'bool', def: 'false', help: 'Show this help.' },
};

export interface InitialMember {
  name: string;
  peerUrls: string[];
}

export interface ServerConfig {
  name: string;
  dataDir: string;
  listenClientUrls: URL[];
  advertiseClientUrls: string[];
  listenPeerUrls: URL[];
  initialAdvertisePeerUrls: string[];
  initialCluster: InitialMember[];
  initialClusterToken: string;
  initialClusterState: 'new' | 'existing';
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  snapshotCount: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  quotaBackendBytes: number;
  logLevel: string;
  preVote: boolean;
  strictReconfigCheck: boolean;
  unsafeNoFsync: boolean;
  version: boolean;
  help: boolean;
  /** Every flag's final string value, by flag name. */
  raw: Record<string, string>;
}

export interface ParsedConfig {
  config: ServerConfig;
  warnings: string[];
}

function envName(flag: string): string {
  return 'ETCD_' + flag.toUpperCase().replace(/-/g, '_');
}

function parseBool(flag: string, v: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new ConfigError(`invalid value "${v}" for flag -${flag}: parse error`);
}

function parseUint(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new ConfigError(`invalid value "${v}" for flag -${flag}: parse error`);
  return Number(v);
}

export function parseUrls(flag: string, v: string): URL[] {
  return v.split(',').map((s) => {
    const t = s.trim();
    let u: URL;
    try {
      u = new URL(t);
    } catch {
      throw new ConfigError(`invalid value "${v}" for flag -${flag}: parse "${t}": invalid URI for request`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'unix:' && u.protocol !== 'unixs:') {
      throw new ConfigError(`invalid value "${v}" for flag -${flag}: URL scheme must be http, https, unix, or unixs: ${t}`);
    }
    if (u.pathname !== '/' && u.pathname !== '') {
      throw new ConfigError(`invalid value "${v}" for flag -${flag}: URL must not contain a path: ${t}`);
    }
    if (u.protocol === 'https:' || u.protocol === 'unixs:') {
      throw new ConfigError(`--${flag}=${t}: TLS (https) is not supported by etcdts yet`);
    }
    return u;
  });
}

function urlString(u: URL): string {
  // Go's url.String() of "http://host:port" has no trailing slash.
  return `${u.protocol}//${u.host}`;
}

function parseDuration(flag: string, v: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (v === '0') return 0;
  let total = 0;
  let consumed = 0;
  for (const m of v.matchAll(re)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    consumed += m[0].length;
  }
  if (consumed !== v.length || consumed === 0) throw new ConfigError(`invalid value "${v}" for flag -${flag}: parse error`);
  return total;
}

export function parseInitialCluster(v: string): InitialMember[] {
  const byName = new Map<string, string[]>();
  for (const part of v.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new ConfigError(`invalid value "${v}" for flag -initial-cluster: missing '=' in "${t}"`);
    const name = t.slice(0, eq);
    const url = t.slice(eq + 1);
    parseUrls('initial-cluster', url);
    const list = byName.get(name) ?? [];
    list.push(url);
    byName.set(name, list);
  }
  return [...byName.entries()].map(([name, peerUrls]) => ({ name, peerUrls }));
}

export function usage(): string {
  const lines = ['Usage:', '', '  etcdts [flags]', '', 'Flags (each also settable as ETCD_<FLAG_NAME>):'];
  for (const [name, s] of Object.entries(flagSpecs)) {
    lines.push(`  --${name}${s.def !== '' && s.kind !== 'bool' ? ` '${s.def}'` : ''}`, `      ${s.help}`);
  }
  return lines.join('\n') + '\n';
}

export function parseConfig(argv: string[], env: Record<string, string | undefined>): ParsedConfig {
  const values = new Map<string, string>();
  const explicit = new Set<string>();
  const warnings: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new ConfigError(`'${arg}' is not a valid flag`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = flagSpecs[name === 'h' ? 'help' : name];
    if (!spec) throw new ConfigError(`flag provided but not defined: -${name}`);
    const key = name === 'h' ? 'help' : name;
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`flag needs an argument: -${name}`);
      value = next;
      i++;
    }
    values.set(key, value);
    explicit.add(key);
  }
  const known = new Set(Object.keys(flagSpecs).map(envName));
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('ETCD_') || v === undefined) continue;
    if (!known.has(k)) {
      // etcdctl's variables and a few others are common in the same environment.
      if (!k.startsWith('ETCDCTL_')) warnings.push(`unrecognized environment variable ${k}=${v}`);
      continue;
    }
    const flag = Object.keys(flagSpecs).find((f) => envName(f) === k) as string;
    if (explicit.has(flag)) {
      warnings.push(`flag "${flag}" is set on the command line; ignoring environment variable ${k}`);
      continue;
    }
    values.set(flag, v);
    explicit.add(flag);
  }
  const get = (f: string): string => values.get(f) ?? (flagSpecs[f] as FlagSpec).def;
  for (const [f, s] of Object.entries(flagSpecs)) {
    const v = get(f);
    if (s.kind === 'bool') parseBool(f, v);
    else if (s.kind === 'uint') parseUint(f, v);
    else if (s.kind === 'int' && !/^-?\d+$/.test(v)) throw new ConfigError(`invalid value "${v}" for flag -${f}: parse error`);
    else if (s.kind === 'duration') parseDuration(f, v);
    else if (s.kind === 'enum' && !(s.values ?? []).includes(v)) {
      throw new ConfigError(`invalid value "${v}" for flag -${f}: valid values are ${(s.values ?? []).join(', ')}`);
    }
  }
  for (const tlsFlag of ['cert-file', 'key-file', 'trusted-ca-file', 'peer-cert-file', 'peer-key-file', 'peer-trusted-ca-file']) {
    if (get(tlsFlag) !== '') throw new ConfigError(`--${tlsFlag}: TLS is not supported by etcdts yet`);
  }
  for (const b of ['client-cert-auth', 'auto-tls', 'peer-client-cert-auth', 'peer-auto-tls', 'enable-v2']) {
    if (parseBool(b, get(b))) throw new ConfigError(`--${b}: not supported by etcdts yet`);
  }
  if (get('config-file') !== '') throw new ConfigError('--config-file: configuration files are not supported by etcdts yet; use flags or ETCD_* variables');

  const name = get('name');
  const heartbeatIntervalMs = parseUint('heartbeat-interval', get('heartbeat-interval'));
  const electionTimeoutMs = parseUint('election-timeout', get('election-timeout'));
  if (heartbeatIntervalMs === 0) throw new ConfigError('--heartbeat-interval must be greater than 0');
  if (5 * heartbeatIntervalMs > electionTimeoutMs) {
    throw new ConfigError(
      `--election-timeout[${electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatIntervalMs}ms]`,
    );
  }
  if (electionTimeoutMs > electionTimeoutMsMax) {
    throw new ConfigError(`--election-timeout[${electionTimeoutMs}ms] is too long, and should be set less than ${electionTimeoutMsMax}ms`);
  }
  const initialAdvertisePeerUrls = parseUrls('initial-advertise-peer-urls', get('initial-advertise-peer-urls')).map(urlString);
  // etcd: without --initial-cluster, this member alone, named --name, at its advertised peer URLs.
  const initialCluster = explicit.has('initial-cluster')
    ? parseInitialCluster(get('initial-cluster'))
    : [{ name, peerUrls: initialAdvertisePeerUrls }];
  const quota = Number(get('quota-backend-bytes'));
  const config: ServerConfig = {
    name,
    dataDir: get('data-dir') || `${name}.etcd`,
    listenClientUrls: parseUrls('listen-client-urls', get('listen-client-urls')),
    advertiseClientUrls: parseUrls('advertise-client-urls', get('advertise-client-urls')).map(urlString),
    listenPeerUrls: parseUrls('listen-peer-urls', get('listen-peer-urls')),
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterToken: get('initial-cluster-token'),
    initialClusterState: get('initial-cluster-state') as 'new' | 'existing',
    heartbeatIntervalMs,
    electionTimeoutMs,
    electionTicks: Math.floor(electionTimeoutMs / heartbeatIntervalMs),
    heartbeatTicks: 1,
    snapshotCount: parseUint('snapshot-count', get('snapshot-count')),
    maxTxnOps: parseUint('max-txn-ops', get('max-txn-ops')),
    maxRequestBytes: parseUint('max-request-bytes', get('max-request-bytes')),
    quotaBackendBytes: quota <= 0 ? quotaBackendBytesDefault : quota,
    logLevel: get('log-level'),
    preVote: parseBool('pre-vote', get('pre-vote')),
    strictReconfigCheck: parseBool('strict-reconfig-check', get('strict-reconfig-check')),
    unsafeNoFsync: parseBool('unsafe-no-fsync', get('unsafe-no-fsync')),
    version: parseBool('version', get('version')),
    help: parseBool('help', get('help')),
    raw: Object.fromEntries(Object.keys(flagSpecs).map((f) => [f, get(f)])),
  };
  return { config, warnings };
}

export interface BootstrapMember {
  id: bigint;
  name: string;
  peerUrls: string[];
}

export interface Bootstrap {
  memberId: bigint;
  clusterId: bigint;
  members: BootstrapMember[];
}

/** The initial member list with etcd's ids; fails on etcd's misconfigurations. */
export function bootstrapMembers(cfg: ServerConfig): Bootstrap {
  const members = cfg.initialCluster.map((m) => ({
    id: computeMemberId(m.peerUrls, cfg.initialClusterToken),
    name: m.name,
    peerUrls: m.peerUrls,
  }));
  const self = members.find((m) => m.name === cfg.name);
  if (!self) {
    throw new ConfigError(
      `couldn't find local name "${cfg.name}" in the initial cluster configuration`,
    );
  }
  const want = [...cfg.initialAdvertisePeerUrls].sort().join(',');
  const have = [...self.peerUrls].sort().join(',');
  if (want !== have) {
    throw new ConfigError(
      `--initial-cluster has ${cfg.name}=${have} but missing from --initial-advertise-peer-urls=${want} ("${want}"(resolved from "${cfg.initialAdvertisePeerUrls.join(',')}") != "${have}"(resolved from "${self.peerUrls.join(',')}"))`,
    );
  }
  return { memberId: self.id, clusterId: computeClusterId(members.map((m) => m.id)), members };
}
