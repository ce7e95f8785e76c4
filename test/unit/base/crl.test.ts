/**
 * base/crl.ts: the serial numbers of a CRL made by openssl (PEM and DER, empty and not), etcd's
 * refusal text for a revoked certificate, a CRL re-read for each check, and clear errors for a
 * missing or malformed file.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { CrlError, crlRefusal, normalizeSerial, readRevokedSerials, revokedSerials } from '../../../src/base/crl.js';
import { hasOpenssl, makePki } from '../../helpers/certs.js';

const serialOf = (certFile: string): string => normalizeSerial(new X509Certificate(readFileSync(certFile)).serialNumber);

describe('serial numbers as Go prints them', () => {
  it('drops leading zeros and keeps whole bytes, lowercase', () => {
    expect(normalizeSerial('00A1B2')).toBe('a1b2');
    expect(normalizeSerial('0AB')).toBe('ab');
    expect(normalizeSerial('ABC')).toBe('0abc');
    expect(normalizeSerial('7F')).toBe('7f');
  });
});

describe('malformed CRLs', () => {
  it('garbage and truncated DER are CrlErrors; a missing file names itself', () => {
    expect(() => revokedSerials(Buffer.from('not a crl'))).toThrow(CrlError);
    expect(() => revokedSerials(Buffer.from([0x30, 0x82, 0x10, 0x00, 0x30]))).toThrow(CrlError);
    expect(() => readRevokedSerials('/nonexistent/ca.crl')).toThrow('open /nonexistent/ca.crl: no such file or directory');
    expect(crlRefusal('/nonexistent/ca.crl', { serialNumber: '01' } as tls.PeerCertificate)).toBe('open /nonexistent/ca.crl: no such file or directory');
  });
});

describe.skipIf(!hasOpenssl)('CRLs made by openssl', () => {
  const pki = makePki();
  const good = pki.leaf('good', 'etcd-peer');
  const bad = pki.leaf('bad', 'etcd-peer');

  it('an empty CRL lists nothing; a CRL revoking one leaf lists exactly its serial, in PEM and in DER', () => {
    const emptyCrl = path.join(pki.dir, 'empty.crl');
    copyFileSync(pki.crl([]), emptyCrl);
    expect(readRevokedSerials(emptyCrl).size).toBe(0);
    const crl = pki.crl([bad]);
    const pem = readRevokedSerials(crl);
    expect([...pem]).toEqual([serialOf(bad.cert)]);
    expect(pem.has(serialOf(good.cert))).toBe(false);
    const der = path.join(pki.dir, 'ca.crl.der');
    execFileSync('openssl', ['crl', '-in', crl, '-outform', 'DER', '-out', der]);
    expect(readRevokedSerials(der)).toEqual(pem);
  });

  it('refuses a revoked certificate (or one whose issuer is revoked) in etcd\'s words, passes the others, and re-reads the file each time', () => {
    // Leaves of their own: the CA database of the test above already revokes `bad`.
    const good = pki.leaf('good2', 'etcd-peer');
    const bad = pki.leaf('bad2', 'etcd-peer');
    const crlFile = path.join(pki.dir, 'live.crl');
    copyFileSync(pki.crl([]), crlFile);
    const cert = (f: string): tls.DetailedPeerCertificate => {
      const x = new X509Certificate(readFileSync(f));
      const c = { serialNumber: x.serialNumber, subject: { CN: 'x' } } as unknown as tls.DetailedPeerCertificate;
      c.issuerCertificate = c; // a self-issued end of chain, as node reports the root
      return c;
    };
    expect(crlRefusal(crlFile, cert(bad.cert))).toBeUndefined();
    writeFileSync(crlFile, readFileSync(pki.crl([bad])));
    expect(crlRefusal(crlFile, cert(bad.cert))).toBe(`transport: certificate serial ${serialOf(bad.cert)} revoked`);
    expect(crlRefusal(crlFile, cert(good.cert))).toBeUndefined();
    // A chain whose intermediate is revoked is refused too (etcd checks every presented certificate).
    const leaf = cert(good.cert);
    leaf.issuerCertificate = cert(bad.cert);
    expect(crlRefusal(crlFile, leaf)).toContain('revoked');
    // No certificate presented: nothing to check (etcd: len(PeerCertificates) == 0).
    expect(crlRefusal(crlFile, {} as tls.PeerCertificate)).toBeUndefined();
  });
});
