/**
 * etcdctl's client TLS set-up (ctlv3 secureCfgFromCmd, then clientv3's TLSInfo.ClientConfig),
 * with etcdctl's error texts; any failure ends the command with ExitBadArgs (128) before it
 * dials, as etcdctl's clientConfigFromCmd does:
 * - TLS is on when --cert, --key or --cacert is given, or --insecure-transport=false;
 * - a certificate needs its key and the other way round: `KeyFile and CertFile must both be
 *   present[key: K, cert: C]`; files are read with Go's `open <path>: <reason>`;
 * - --insecure-skip-tls-verify applies only when TLS is on.
 * (An https:// endpoint without any of these still uses TLS with the system's roots: client.ts.)
 */
import { readFileSync } from 'node:fs';
import type { ClientTls } from '../client/client.js';
import { nodeTls } from './builtins.js';
import { bin } from './go-format.js';
import { CliExit, ExitCode } from './output.js';

export interface TlsFlags {
  cert: string;
  key: string;
  cacert: string;
  insecureTransport: boolean;
  skipVerify: boolean;
}

function fail(msg: string): never {
  throw new CliExit(ExitCode.BadArgs, bin(msg));
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(e);
    return fail(`open ${file}: ${why}`);
  }
}

/** PEM blocks of a file: [type, base64 body]. */
function pemBlocks(pem: Buffer): { type: string }[] {
  return [...pem.toString('latin1').matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => ({ type: m[1] as string }));
}

export function clientTls(f: TlsFlags): ClientTls | undefined {
  const out: ClientTls = {};
  let on = false;
  if (f.cert !== '' || f.key !== '') {
    on = true;
    if (f.cert === '' || f.key === '') fail(`KeyFile and CertFile must both be present[key: ${f.key}, cert: ${f.cert}]`);
    out.cert = read(f.cert);
    out.key = read(f.key);
    if (!pemBlocks(out.cert).some((b) => b.type === 'CERTIFICATE')) fail('tls: failed to find any PEM data in certificate input');
    if (pemBlocks(out.key).length === 0) fail('tls: failed to find any PEM data in key input');
    try {
      nodeTls().createSecureContext({ cert: out.cert, key: out.key });
    } catch {
      fail('tls: private key does not match public key');
    }
  }
  if (f.cacert !== '') {
    on = true;
    out.ca = read(f.cacert);
    // Go's x509.CertPool takes every PEM block; one that is not a certificate fails to parse.
    if (pemBlocks(out.ca).some((b) => b.type !== 'CERTIFICATE')) fail('x509: malformed tbs certificate');
  }
  if (!on && f.insecureTransport) return undefined;
  if (f.skipVerify) out.skipVerify = true;
  return out;
}
