/**
 * Prints the README's flag table (every etcd flag, its default, and what etcdts does with it)
 * from config/flag-table.ts and config/flag-support.ts; the README keeps it between the
 * <!-- flags --> markers. Usage: node --import tsx scripts/flag-table-md.ts --write
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { flagSpecs } from '../src/config/flag-table.js';
import { alsoAccepted, implemented } from '../src/config/flag-support.js';
const notes: Record<string, string> = {
  'config-file': 'YAML, keys = flag names, TLS sections; other flags and ETCD_* ignored',
  'auto-compaction-mode': 'periodic | revision, leader only, through Raft',
  'listen-metrics-urls': '/metrics and /health',
  metrics: 'extensive adds grpc_server_handling_seconds',
  'enable-grpc-gateway': 'JSON gateway on /v3/ and /v3beta/',
  ui: "etcdts's own (etcd has none): the web console under /ui/; unset (auto), on when every client listener is loopback",
  'max-concurrent-streams': 'HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS',
  logger: 'zap only (capnslog refused)',
  'log-outputs': 'default, stderr, stdout or files',
  'experimental-enable-lease-checkpoint': 'true accepted: etcdts always checkpoints (as etcd 3.6)',
  'experimental-enable-lease-checkpoint-persist': 'true accepted (with the flag above)',
  'cert-file': 'https:// client URLs (with --key-file)',
  'trusted-ca-file': 'also requires client certificates, as etcd',
  'auth-token': 'simple, or jwt,pub-key=,priv-key=,sign-method=,ttl=',
  'peer-crl-file': 'serial check on accept (as etcd) and on dial; re-read per connection',
};
const rows = flagSpecs.map((s) => {
  const status = implemented.has(s.name) ? 'acts on it' : alsoAccepted.has(s.name) ? 'default, or ' + (alsoAccepted.get(s.name) ?? []).join('/') : 'default only; other values refused';
  return `| \`--${s.name}\` | \`${s.def === '' ? '""' : s.def}\` | ${status} | ${notes[s.name] ?? ''} |`;
});
const table = ['| flag | etcd default | etcdts | note |', '| --- | --- | --- | --- |', ...rows].join('\n');
if (process.argv.includes('--write')) {
  const readme = new URL('../README.md', import.meta.url);
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf('<!-- flags -->');
  const end = text.indexOf('<!-- /flags -->');
  writeFileSync(readme, `${text.slice(0, start)}<!-- flags -->\n${table}\n${text.slice(end)}`);
} else console.log(table);
