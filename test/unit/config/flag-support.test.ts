/**
 * Every flag in etcd's table either does something in etcdts or is refused (flag-support.ts):
 * - each flag etcdts does not act on, set to a value other than its default, stops the start
 *   with an error naming it, while its default value given explicitly is accepted;
 * - each flag etcdts acts on has a test that proves what it does: the table below names that
 *   test, and the test's text names the flag (or the config field it sets).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alsoAccepted, implemented } from '../../../src/config/flag-support.js';
import { flagSpecs, type FlagSpec } from '../../../src/config/flag-table.js';
import { ConfigError, parseConfig } from '../../../src/config/flags.js';
import { repoRoot } from '../../helpers/procs.js';

/** The test proving each implemented flag. */
const proofs: Record<string, string> = {
  name: 'test/integration/membership.test.ts',
  'data-dir': 'test/integration/crash-recovery.test.ts',
  'snapshot-count': 'test/integration/cluster.test.ts',
  'heartbeat-interval': 'test/integration/watch-cluster.test.ts',
  'election-timeout': 'test/integration/watch-cluster.test.ts',
  'listen-peer-urls': 'test/helpers/procs.ts',
  'listen-client-urls': 'test/helpers/procs.ts',
  'quota-backend-bytes': 'test/integration/maintenance.test.ts',
  'backend-batch-interval': 'test/integration/flags-real.test.ts',
  'backend-batch-limit': 'test/integration/flags-real.test.ts',
  'max-txn-ops': 'test/integration/flags-real.test.ts',
  'max-request-bytes': 'test/integration/flags-real.test.ts',
  'max-concurrent-streams': 'test/integration/flags-real.test.ts',
  'enable-grpc-gateway': 'test/integration/flags-real.test.ts',
  ui: 'test/integration/ui-flag.test.ts',
  'initial-advertise-peer-urls': 'test/helpers/procs.ts',
  'initial-cluster': 'test/integration/membership.test.ts',
  'initial-cluster-state': 'test/integration/membership.test.ts',
  'initial-cluster-token': 'test/integration/maintenance-cluster.test.ts',
  'advertise-client-urls': 'test/helpers/procs.ts',
  'strict-reconfig-check': 'test/integration/flags-real.test.ts',
  'pre-vote': 'test/unit/raft/prevote-checkquorum.test.ts',
  'auto-compaction-retention': 'test/compat/auto-compaction.test.ts',
  'auto-compaction-mode': 'test/compat/auto-compaction.test.ts',
  metrics: 'test/compat/metrics.test.ts',
  'listen-metrics-urls': 'test/compat/metrics.test.ts',
  'log-level': 'test/integration/flags-real.test.ts',
  'log-outputs': 'test/integration/flags-real.test.ts',
  debug: 'test/integration/flags-real.test.ts',
  'experimental-corrupt-check-time': 'test/integration/flags-real.test.ts',
  'experimental-watch-progress-notify-interval': 'test/integration/flags-real.test.ts',
  'experimental-snapshot-catchup-entries': 'test/integration/cluster.test.ts',
  'config-file': 'test/integration/flags-real.test.ts',
  version: 'test/integration/flags-real.test.ts',
  'cert-file': 'test/compat/tls.test.ts',
  'key-file': 'test/compat/tls.test.ts',
  'trusted-ca-file': 'test/compat/tls.test.ts',
  'client-cert-auth': 'test/compat/tls.test.ts',
  'auto-tls': 'test/compat/tls.test.ts',
  'client-crl-file': 'test/compat/tls.test.ts',
  'client-cert-allowed-hostname': 'test/unit/base/tls.test.ts',
  'cipher-suites': 'test/compat/tls.test.ts',
  'self-signed-cert-validity': 'test/unit/base/tls.test.ts',
  'peer-cert-file': 'test/integration/peer-tls.test.ts',
  'peer-key-file': 'test/integration/peer-tls.test.ts',
  'peer-trusted-ca-file': 'test/integration/peer-tls.test.ts',
  'peer-client-cert-auth': 'test/integration/peer-tls.test.ts',
  'peer-auto-tls': 'test/integration/peer-tls.test.ts',
  'peer-cert-allowed-cn': 'test/integration/peer-tls.test.ts',
  'peer-cert-allowed-hostname': 'test/unit/base/tls.test.ts',
  'peer-crl-file': 'test/integration/peer-tls.test.ts',
  'auth-token': 'test/compat/auth.test.ts',
  'auth-token-ttl': 'test/compat/auth.test.ts',
  'bcrypt-cost': 'test/unit/auth/auth-store.test.ts',
};

const camel = (flag: string): string => flag.replace(/^experimental-/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** A value of the flag's type that is not its default. */
function otherValue(s: FlagSpec): string {
  switch (s.kind) {
    case 'bool':
      return s.def === 'true' ? 'false' : 'true';
    case 'duration':
      return s.def === '7s' ? '8s' : '7s';
    case 'uint':
    case 'uint32':
    case 'int':
      return s.def === '7' ? '8' : '7';
    case 'urls':
      return 'http://127.0.0.1:1';
    case 'select':
      return (s.values ?? []).find((v) => v !== s.def) ?? 'x';
    case 'string':
      return s.name === 'logger' ? 'capnslog' : 'x';
  }
}

function refusal(argv: string[]): ConfigError | null {
  try {
    parseConfig(argv, {});
    return null;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

describe('every flag is real or refused', () => {
  const notActedOn = flagSpecs.filter((s) => !implemented.has(s.name));

  it.each(notActedOn.map((s) => [s.name, s] as const))('--%s at another value than its default is refused, naming it', (name, s) => {
    const v = otherValue(s);
    const e = refusal([`--${name}=${v}`]);
    if ((alsoAccepted.get(name) ?? []).includes(v)) {
      // A value that says what etcdts does anyway (with its prerequisite, if any).
      expect(refusal([`--${name}=${v}`, '--experimental-enable-lease-checkpoint'])).toBeNull();
      return;
    }
    expect(e, `--${name}=${v}`).not.toBeNull();
    expect(e?.message).toContain(`--${name}`);
  });

  it.each(notActedOn.filter((s) => s.def !== '' || s.kind === 'string').map((s) => [s.name, s] as const))('--%s at its default is accepted', (name, s) => {
    expect(refusal([`--${name}=${s.def}`])).toBeNull();
  });

  it.each([...implemented].map((f) => [f] as const))('--%s is proved by a test', (flag) => {
    const file = proofs[flag];
    expect(file, `no proof listed for --${flag}`).toBeDefined();
    const full = path.join(repoRoot, file as string);
    expect(existsSync(full), file).toBe(true);
    const text = readFileSync(full, 'utf8');
    expect(text.includes(flag) || text.includes(camel(flag)), `${file} names --${flag}`).toBe(true);
  });
});

describe('the README flag table', () => {
  it('lists every flag with what etcdts does with it', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    for (const s of flagSpecs) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`--${s.name}\` |`));
      expect(row, `README row for --${s.name}`).toBeDefined();
      expect(row?.includes(implemented.has(s.name) ? 'acts on it' : alsoAccepted.has(s.name) ? 'default, or' : 'default only'), `--${s.name}`).toBe(true);
    }
  });
});
