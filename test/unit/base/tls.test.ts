/**
 * base/tls.ts and base/self-signed-cert.ts: etcd's TLS rules (client certificates required by
 * --client-cert-auth or a trusted CA, allowed CN / host name, Go cipher suite names), auto-TLS
 * certificates that node reads and that serve a real handshake, and start-up errors in etcd's words.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../../src/base/self-signed-cert.js';
import { checkAllowedPeer, cipherList, loadTls, tlsServerOptions, TlsSetupError, type TlsSettings } from '../../../src/base/tls.js';
import { tempDir } from '../../helpers/procs.js';

const none: TlsSettings = {
  certFile: '',
  keyFile: '',
  trustedCaFile: '',
  clientCertAuth: false,
  autoTls: false,
  crlFile: '',
  allowedHostname: '',
  allowedCn: '',
  clientCertFile: '',
  clientKeyFile: '',
};

const opts = (dir: string) => ({
  autoDir: path.join(dir, 'fixtures', 'client'),
  hosts: ['127.0.0.1', 'localhost'],
  selfSignedValidityYears: 1,
  cipherSuites: '',
  minVersion: 'TLS1.2',
  maxVersion: '',
  peer: false,
});

describe('self-signed certificates (auto-TLS)', () => {
  it('are X.509 v3 certificates with etcd\'s subject, usages and one SAN per host, valid --self-signed-cert-validity years', () => {
    const now = new Date('2026-01-02T03:04:05Z');
    const c = selfSignedCert({ hosts: ['127.0.0.1', 'example.test', '::1'], validityYears: 2, clientAuth: true, now });
    const x = new X509Certificate(c.certPem);
    expect(x.subject).toBe('O=etcd');
    expect(x.issuer).toBe('O=etcd');
    expect(x.subjectAltName).toBe('IP Address:127.0.0.1, DNS:example.test, IP Address:0:0:0:0:0:0:0:1');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(x.ca).toBe(false);
    expect(new Date(x.validFrom).toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(new Date(x.validTo).getTime() - now.getTime()).toBe(2 * 365 * 24 * 3600 * 1000);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(new X509Certificate(selfSignedCert({ hosts: ['h'], validityYears: 1, clientAuth: false }).certPem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('are written once under the fixtures dir and reused on restart, and serve a TLS handshake', async () => {
    const dir = tempDir();
    const m = loadTls({ ...none, autoTls: true }, opts(dir));
    expect(m?.selfSigned).toBe(true);
    expect(m?.requireClientCert).toBe(false);
    const certFile = path.join(dir, 'fixtures', 'client', 'cert.pem');
    expect(existsSync(certFile)).toBe(true);
    const again = loadTls({ ...none, autoTls: true }, opts(dir));
    expect(again?.cert.equals(readFileSync(certFile))).toBe(true);
    const server = tls.createServer(tlsServerOptions(m!), (s) => s.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const got = await new Promise<string>((resolve, reject) => {
      const c = tls.connect({ port, host: '127.0.0.1', ca: m!.cert, ALPNProtocols: ['h2'] }, () => undefined);
      let data = '';
      c.on('data', (d: Buffer) => (data += d.toString()));
      c.on('end', () => resolve(`${c.alpnProtocol}:${data}`));
      c.on('error', reject);
    });
    server.close();
    expect(got).toBe('h2:hello');
  });
});

describe('TLS material as etcd reads the flags', () => {
  it('is none without TLS flags, and asks for client certificates with --client-cert-auth or a trusted CA', () => {
    const dir = tempDir();
    expect(loadTls(none, opts(dir))).toBeNull();
    const auto = { ...none, autoTls: true };
    expect(loadTls({ ...auto, clientCertAuth: true }, opts(dir))?.requireClientCert).toBe(true);
    const ca = path.join(dir, 'fixtures', 'client', 'cert.pem');
    expect(loadTls({ ...auto, trustedCaFile: ca }, opts(dir))?.requireClientCert).toBe(true);
  });

  it('refuses half a key pair, missing files, and CN together with host name, in etcd\'s words', () => {
    const dir = tempDir();
    const fail = (s: Partial<TlsSettings>): string => {
      try {
        loadTls({ ...none, ...s }, opts(dir));
      } catch (e) {
        expect(e).toBeInstanceOf(TlsSetupError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(fail({ certFile: '/c.pem' })).toBe('KeyFile and CertFile must both be present[key: , cert: /c.pem]');
    expect(fail({ certFile: '/nope.pem', keyFile: '/nope.key' })).toBe('open /nope.pem: no such file or directory (cert file)');
    expect(fail({ autoTls: true, allowedCn: 'a', allowedHostname: 'b' })).toBe('AllowedCN and AllowedHostname are mutually exclusive (cn="a", hostname="b")');
  });

  it('maps Go cipher suite names to OpenSSL\'s, keeps TLS 1.3, and refuses an unknown name', () => {
    expect(cipherList('')).toBeUndefined();
    expect(cipherList('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256')).toBe(
      'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
    );
    expect(() => cipherList('TLS_NOPE')).toThrow('unexpected TLS cipher suite "TLS_NOPE"');
  });

  it('allows a peer by exact CN or by a host name its certificate covers (--peer-cert-allowed-cn, --peer-cert-allowed-hostname, --client-cert-allowed-hostname)', () => {
    const cert = { subject: { CN: 'm1' }, subjectaltname: 'DNS:m1.example, IP Address:127.0.0.1' } as unknown as tls.PeerCertificate;
    expect(checkAllowedPeer({ allowedCn: '', allowedHostname: '' }, undefined)).toBeUndefined();
    expect(checkAllowedPeer({ allowedCn: 'm1', allowedHostname: '' }, cert)).toBeUndefined();
    expect(checkAllowedPeer({ allowedCn: 'm2', allowedHostname: '' }, cert)).toBe('client certificate authentication failed');
    expect(checkAllowedPeer({ allowedCn: '', allowedHostname: 'm1.example' }, cert)).toBeUndefined();
    expect(checkAllowedPeer({ allowedCn: '', allowedHostname: 'other.example' }, cert)).toBe('client certificate authentication failed');
    expect(checkAllowedPeer({ allowedCn: 'm1', allowedHostname: '' }, undefined)).toBe('client certificate authentication failed');
  });
});
