/**
 * Test certificates, made with openssl at test time in a temp dir (never committed): a CA, a
 * second CA nobody trusts, and leaf certificates signed by either, each with a CN and subject
 * alternative names, good for both TLS server and client authentication (EC P-256).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, which } from './procs.js';

export const hasOpenssl = which('openssl') !== null;

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA every member and client trusts. */
  ca: string;
  /** Another CA, trusted by nobody. */
  otherCa: string;
  /** A leaf signed by `ca` (default) or by the other CA. */
  leaf(name: string, cn: string, opts?: { sans?: string; byOtherCa?: boolean }): CertFiles;
  /** A CRL of `ca` revoking the given leaves (by the files leaf() returned). */
  crl(revoked: CertFiles[]): string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makePki(): TestPki {
  const dir = tempDir('etcdts-pki-');
  const ca = (name: string, cn: string): void =>
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`], dir);
  ca('ca', 'etcdts-test-ca');
  ca('other-ca', 'etcdts-other-ca');
  // A minimal CA database for `openssl ca -gencrl`.
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    path.join(dir, 'ca.cnf'),
    ['[ca]', 'default_ca = test', '[test]', `database = ${path.join(dir, 'index.txt')}`, `crlnumber = ${path.join(dir, 'crlnumber')}`,
      `certificate = ${path.join(dir, 'ca.crt')}`, `private_key = ${path.join(dir, 'ca.key')}`, 'default_md = sha256', 'default_crl_days = 2', ''].join('\n'),
  );
  const leaf = (name: string, cn: string, opts: { sans?: string; byOtherCa?: boolean } = {}): CertFiles => {
    const signer = opts.byOtherCa ? 'other-ca' : 'ca';
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${opts.sans ?? 'IP:127.0.0.1,DNS:localhost'}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
    return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  };
  const crl = (revoked: CertFiles[]): string => {
    for (const r of revoked) openssl(['ca', '-config', 'ca.cnf', '-revoke', r.cert], dir);
    openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl'], dir);
    return path.join(dir, 'ca.crl');
  };
  return { dir, ca: path.join(dir, 'ca.crt'), otherCa: path.join(dir, 'other-ca.crt'), leaf, crl };
}
