/**
 * --config-file: etcd's YAML configuration (etcd.conf.yml): top-level keys are flag names, with
 * YAML values (strings, numbers, booleans; a list is read as the comma-joined flag text), and
 * the TLS settings under `client-transport-security:` / `peer-transport-security:` (cert-file,
 * key-file, client-cert-auth, trusted-ca-file, auto-tls, crl-file, allowed-cn,
 * allowed-hostname), which map to the flags --cert-file ... and --peer-cert-file .... As in
 * etcd, when a configuration file is given every other flag and ETCD_* variable is ignored.
 * Keys that name no flag are ignored (etcd's YAML decoding is not strict). Parsed with the
 * `yaml` package.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError } from './config-error.js';
import { checkValue } from './command-line.js';
import { flagsByName } from './flag-table.js';
import { ValueError } from './go-values.js';

const tlsKeys: Record<string, string> = {
  'cert-file': 'cert-file',
  'key-file': 'key-file',
  'client-cert-auth': 'client-cert-auth',
  'trusted-ca-file': 'trusted-ca-file',
  'auto-tls': 'auto-tls',
  'crl-file': 'client-crl-file',
  'allowed-hostname': 'client-cert-allowed-hostname',
};

const peerTlsKeys: Record<string, string> = {
  'cert-file': 'peer-cert-file',
  'key-file': 'peer-key-file',
  'client-cert-auth': 'peer-client-cert-auth',
  'trusted-ca-file': 'peer-trusted-ca-file',
  'auto-tls': 'peer-auto-tls',
  'crl-file': 'peer-crl-file',
  'allowed-cn': 'peer-cert-allowed-cn',
  'allowed-hostname': 'peer-cert-allowed-hostname',
};

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => String(x)).join(',');
  if (typeof v === 'object') return null;
  return String(v);
}

/** The flag values a configuration file sets (flag name → text), or a ConfigError. */
export function readConfigFile(file: string): Map<string, string> {
  let body: string;
  try {
    body = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ConfigError(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : String(e)}`, 'config-file', file);
  }
  let doc: unknown;
  try {
    // Loaded only when a file is given (ctl bundles config/ and must not carry a YAML parser).
    const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = yaml.parse(body);
  } catch (e) {
    throw new ConfigError(`error unmarshaling YAML in ${file}: ${e instanceof Error ? e.message : String(e)}`, 'config-file', file);
  }
  const out = new Map<string, string>();
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`error unmarshaling YAML in ${file}: not a mapping`, 'config-file', file);
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === 'client-transport-security' || k === 'peer-transport-security') {
      const keys = k === 'client-transport-security' ? tlsKeys : peerTlsKeys;
      for (const [tk, tv] of Object.entries((v ?? {}) as Record<string, unknown>)) {
        const flag = keys[tk];
        const t = text(tv);
        if (flag !== undefined && t !== null && t !== '' && t !== 'false') out.set(flag, t);
      }
      continue;
    }
    const spec = flagsByName.get(k);
    if (spec === undefined || k === 'config-file') continue;
    // Go's time.Duration in YAML is an integer of nanoseconds.
    const t = spec.kind === 'duration' && typeof v === 'number' ? `${v}ns` : text(v);
    if (t === null) continue;
    try {
      checkValue(spec, t);
    } catch (e) {
      if (e instanceof ValueError) throw new ConfigError(`error unmarshaling YAML in ${file}: invalid value ${JSON.stringify(t)} for ${k}: ${e.message}`, k, t);
      throw e;
    }
    out.set(k, t);
  }
  return out;
}
