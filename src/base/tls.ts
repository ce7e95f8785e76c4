/**
 * TLS as etcd configures it (pkg/transport TLSInfo, 3.4/3.5), for the client port (rpc/), the peer
 * port (peer/) and the peers' own dialing, in one place:
 *
 * - A server requires and verifies a client certificate when --client-cert-auth is set OR a
 *   trusted CA file is given (etcd's TLSInfo.ServerConfig: `TrustedCAFile != "" ||
 *   ClientCertAuth` ⇒ RequireAndVerifyClientCert; checked live on 3.4.23: --trusted-ca-file alone
 *   refuses a client without a certificate).
 * - --peer-cert-allowed-cn / --peer-cert-allowed-hostname (and --client-cert-allowed-hostname)
 *   are checked on the verified certificate of the other side, in both directions (etcd sets
 *   VerifyPeerCertificate in the base config shared by server and client): the CN must equal the
 *   allowed CN; the allowed host name must match the certificate as Go's VerifyHostname does.
 *   They are mutually exclusive, as in etcd.
 * - --cipher-suites takes Go's names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ...); an unknown
 *   name fails with etcd's words. They restrict TLS 1.2; TLS 1.3 keeps its suites, as in Go.
 * - TLS 1.2 is the lowest version (etcd's baseConfig MinVersion), unless --tls-min-version says more.
 * - Auto-TLS material (selfSigned) is not verified by the peers that dial it: etcd's client config
 *   of a self-signed TLSInfo skips verification.
 *
 * Invariant: a TlsMaterial always has both a certificate and its key (loadTls refuses one alone
 * with etcd's "KeyFile and CertFile must both be present").
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { CrlError, crlRefusal, readRevokedSerials } from './crl.js';
import { selfSignedCert } from './self-signed-cert.js';

/** What the flags of one side (client or peer) say. */
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

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** Certificate and key this side presents when dialing (peers); default cert/key. */
  clientCert: Buffer;
  clientKey: Buffer;
  ca: Buffer | undefined;
  /** Client side: the CRL OpenSSL checks during the handshake (--client-crl-file). */
  crl: Buffer | undefined;
  /**
   * Peer side (--peer-crl-file): the CRL checked by serial number after the handshake, in both
   * directions, read again for each connection (crl.ts); "" for none.
   */
  revocationFile: string;
  /** Server side: require and verify a client certificate. */
  requireClientCert: boolean;
  /** OpenSSL cipher list from --cipher-suites, or undefined for the defaults. */
  ciphers: string | undefined;
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion | undefined;
  allowedCn: string;
  allowedHostname: string;
  /** Made by auto-TLS: whoever dials it does not verify it. */
  selfSigned: boolean;
  /** etcd's TLSInfo.String(), for the start-up log line. */
  description: string;
}

export class TlsSetupError extends Error {
  override name = 'TlsSetupError';
}

/** Go's tls cipher suite names → OpenSSL's (the TLS 1.0–1.2 suites Go knows). */
const goCipherSuites: Record<string, string> = {
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  // TLS 1.3 suites: Go accepts the names and ignores them (1.3 suites are not configurable).
  TLS_AES_128_GCM_SHA256: '',
  TLS_AES_256_GCM_SHA384: '',
  TLS_CHACHA20_POLY1305_SHA256: '',
};

/** TLS 1.3 suites stay on whatever --cipher-suites says (Go does not let them be configured). */
const tls13Suites = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

/** --cipher-suites (comma separated Go names) → an OpenSSL cipher list; "" → undefined. */
export function cipherList(goNames: string): string | undefined {
  const names = goNames.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return undefined;
  const out = names.map((n) => {
    const o = goCipherSuites[n];
    if (o === undefined) throw new TlsSetupError(`unexpected TLS cipher suite ${JSON.stringify(n)}`);
    return o;
  });
  return [...out.filter((o) => o !== ''), tls13Suites].join(':');
}

const tlsVersions: Record<string, tls.SecureVersion> = { TLS1_2: 'TLSv1.2', 'TLS1.2': 'TLSv1.2', TLS1_3: 'TLSv1.3', 'TLS1.3': 'TLSv1.3' };

/** --tls-min-version / --tls-max-version ("" = the default). */
export function tlsVersion(flag: string, v: string): tls.SecureVersion | undefined {
  if (v === '') return undefined;
  const out = tlsVersions[v];
  if (out === undefined) throw new TlsSetupError(`unexpected TLS version ${JSON.stringify(v)} (--${flag}; valid: TLS1.2, TLS1.3)`);
  return out;
}

export function tlsRequested(t: TlsSettings): boolean {
  return t.certFile !== '' || t.keyFile !== '' || t.trustedCaFile !== '' || t.clientCertAuth || t.autoTls || t.crlFile !== '';
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TlsSetupError(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : String(e)} (${what})`);
  }
}

export interface LoadTlsOptions {
  /** Where auto-TLS keeps its certificate (etcd: <data-dir>/fixtures/client or .../peer). */
  autoDir: string;
  /** Hosts of the listen URLs, named in an auto-TLS certificate. */
  hosts: string[];
  selfSignedValidityYears: number;
  cipherSuites: string;
  minVersion: string;
  maxVersion: string;
  /** Peer side: the auto-TLS certificate also authenticates this member as a client. */
  peer: boolean;
  /** Called for etcd's "ignoring ... auto TLS since certs given" warning. */
  warn?: (msg: string) => void;
}

/**
 * The TLS material of one side, or null when its flags ask for none. Reads the files (and makes
 * or reuses the auto-TLS certificate), so a bad path fails at start-up with the file's name.
 */
export function loadTls(s: TlsSettings, o: LoadTlsOptions): TlsMaterial | null {
  if (!tlsRequested(s)) return null;
  let certFile = s.certFile;
  let keyFile = s.keyFile;
  let selfSigned = false;
  if (s.autoTls && (certFile !== '' || keyFile !== '')) {
    o.warn?.(o.peer ? 'ignoring peer auto TLS since certs given' : 'ignoring client auto TLS since certs given');
  } else if (s.autoTls) {
    // etcd's SelfCert: reuse the pair in the fixtures directory when both files are there.
    certFile = path.join(o.autoDir, 'cert.pem');
    keyFile = path.join(o.autoDir, 'key.pem');
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      const c = selfSignedCert({ hosts: o.hosts, validityYears: o.selfSignedValidityYears, clientAuth: o.peer });
      mkdirSync(o.autoDir, { recursive: true, mode: 0o700 });
      writeFileSync(keyFile, c.keyPem, { mode: 0o600 });
      writeFileSync(certFile, c.certPem, { mode: 0o600 });
    }
    selfSigned = true;
  }
  if (certFile === '' || keyFile === '') {
    throw new TlsSetupError(`KeyFile and CertFile must both be present[key: ${keyFile}, cert: ${certFile}]`);
  }
  if (s.allowedCn !== '' && s.allowedHostname !== '') {
    throw new TlsSetupError(`AllowedCN and AllowedHostname are mutually exclusive (cn=${JSON.stringify(s.allowedCn)}, hostname=${JSON.stringify(s.allowedHostname)})`);
  }
  const cert = readPem(certFile, 'cert file');
  const key = readPem(keyFile, 'key file');
  const clientCert = s.clientCertFile !== '' ? readPem(s.clientCertFile, 'client cert file') : cert;
  const clientKey = s.clientKeyFile !== '' ? readPem(s.clientKeyFile, 'client key file') : key;
  const m: TlsMaterial = {
    cert,
    key,
    clientCert,
    clientKey,
    ca: s.trustedCaFile !== '' ? readPem(s.trustedCaFile, 'trusted CA file') : undefined,
    crl: s.crlFile !== '' && !o.peer ? readPem(s.crlFile, 'CRL file') : undefined,
    revocationFile: o.peer ? s.crlFile : '',
    requireClientCert: s.clientCertAuth || s.trustedCaFile !== '',
    ciphers: cipherList(o.cipherSuites),
    minVersion: tlsVersion('tls-min-version', o.minVersion) ?? 'TLSv1.2',
    maxVersion: tlsVersion('tls-max-version', o.maxVersion),
    allowedCn: s.allowedCn,
    allowedHostname: s.allowedHostname,
    selfSigned,
    description: `cert = ${certFile}, key = ${keyFile}, client-cert=${s.clientCertFile}, client-key=${s.clientKeyFile}, trusted-ca = ${s.trustedCaFile}, client-cert-auth = ${s.clientCertAuth}, crl-file = ${s.crlFile}`,
  };
  // A peer CRL that cannot be read or parsed fails the start, naming the file (etcd would
  // instead refuse every peer connection with the parse error).
  if (m.revocationFile !== '') {
    try {
      readRevokedSerials(m.revocationFile);
    } catch (e) {
      if (e instanceof CrlError) throw new TlsSetupError(`${e.message} (peer CRL file)`);
      throw e;
    }
  }
  // A key that does not fit its certificate, or a PEM node cannot read, fails here and not at
  // the first handshake.
  try {
    tls.createSecureContext(secureContextOptions(m));
  } catch (e) {
    throw new TlsSetupError(`tls: ${e instanceof Error ? e.message : String(e)} (cert ${certFile}, key ${keyFile})`);
  }
  return m;
}

function secureContextOptions(m: TlsMaterial): tls.SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    ca: m.ca,
    crl: m.crl,
    ciphers: m.ciphers,
    minVersion: m.minVersion,
    maxVersion: m.maxVersion,
  };
}

/**
 * Options for a TLS server (tls.createServer). ALPN on the client port: a client that offers
 * HTTP/1.1 gets it (curl, browsers: /health, /version and the gateway are served over HTTP/1.1);
 * one that offers only h2 gets h2 — that is every gRPC client (gRPC requires HTTP/2 and offers
 * nothing else). The peer port speaks h2 only.
 */
export function tlsServerOptions(m: TlsMaterial, h2Only = false): tls.TlsOptions {
  const alpn: tls.TlsOptions = h2Only
    ? { ALPNProtocols: ['h2'] }
    : { ALPNCallback: ({ protocols }) => (protocols.includes('http/1.1') ? 'http/1.1' : protocols.includes('h2') ? 'h2' : undefined) };
  return {
    ...alpn,
    ...secureContextOptions(m),
    requestCert: m.requireClientCert,
    // Verified after the handshake (verifyClient), so that a refusal is logged with its reason:
    // node's own rejection closes the socket without saying why.
    rejectUnauthorized: false,
  };
}

/**
 * Go's Certificate.VerifyHostname, enough of it for allowed host names: an IP literal must be
 * one of the IP SANs; a name must match a DNS SAN (a leading "*." matches one label), or the CN
 * when the certificate has no SAN at all.
 */
function certMatchesHost(cert: tls.PeerCertificate, host: string): boolean {
  return tls.checkServerIdentity(host, cert) === undefined;
}

/** OpenSSL verify codes → Go's x509 texts (what etcd logs and clients show). */
const x509Texts: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'x509: certificate signed by unknown authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'x509: certificate signed by unknown authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'x509: certificate signed by unknown authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'x509: certificate signed by unknown authority',
  CERT_HAS_EXPIRED: 'x509: certificate has expired or is not yet valid',
  CERT_NOT_YET_VALID: 'x509: certificate has expired or is not yet valid',
  CERT_REVOKED: 'x509: certificate revoked',
  UNABLE_TO_GET_CRL: 'x509: unable to get certificate CRL',
};

export function x509Text(code: string): string {
  return x509Texts[code] ?? `x509: ${code.toLowerCase().replace(/_/g, ' ')}`;
}

/**
 * The server side's check of a finished handshake: undefined when the connection may be served,
 * else the reason (etcd's "rejected connection" error texts where Go has one).
 */
export function verifyClient(m: TlsMaterial, s: tls.TLSSocket): string | undefined {
  if (!m.requireClientCert) return undefined;
  const cert = s.getPeerCertificate();
  if (cert === null || cert === undefined || Object.keys(cert).length === 0) return "tls: client didn't provide a certificate";
  if (!s.authorized) return `tls: failed to verify client certificate: ${x509Text(String(s.authorizationError ?? 'UNKNOWN'))}`;
  const notAllowed = checkAllowedPeer(m, cert);
  if (notAllowed !== undefined || m.revocationFile === '') return notAllowed;
  return crlRefusal(m.revocationFile, s.getPeerCertificate(true));
}

/** A TLS error as a log line says it: OpenSSL's reason without its location prefix. */
export function tlsErrorText(e: Error & { code?: string; reason?: string }): string {
  if (e.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') return "tls: client didn't provide a certificate";
  // The other side gave up inside the handshake: Go's server sees EOF (a client that does not
  // trust our certificate closes right there).
  if (e.code === 'ECONNRESET') return 'EOF (the remote side closed the connection during the TLS handshake)';
  if (typeof e.reason === 'string' && e.reason !== '') return `tls: ${e.reason}`;
  return e.message;
}

/**
 * The allowed-CN / allowed-hostname check on the other side's verified certificate: undefined
 * when it passes (or nothing is required), else etcd's error text.
 */
export function checkAllowedPeer(m: Pick<TlsMaterial, 'allowedCn' | 'allowedHostname'>, cert: tls.PeerCertificate | undefined): string | undefined {
  if (m.allowedCn === '' && m.allowedHostname === '') return undefined;
  const ok = cert !== undefined && cert.subject !== undefined &&
    (m.allowedCn !== '' ? cert.subject.CN === m.allowedCn : certMatchesHost(cert, m.allowedHostname));
  return ok ? undefined : 'client certificate authentication failed';
}

/**
 * The remote address of TLS connections, noted when the raw socket arrives: a handshake that
 * fails after the raw socket closed no longer knows it, and the log line should.
 */
export class RemoteAddresses {
  private readonly byRaw = new WeakMap<object, string>();
  note(raw: { remoteAddress?: string; remotePort?: number }): void {
    this.byRaw.set(raw, `${raw.remoteAddress ?? ''}:${raw.remotePort ?? ''}`);
  }
  of(s: tls.TLSSocket): string {
    // node keeps the wrapped raw socket as `_parent`.
    const raw = (s as unknown as { _parent?: object })._parent;
    return (raw !== undefined ? this.byRaw.get(raw) : undefined) ?? `${s.remoteAddress ?? ''}:${s.remotePort ?? ''}`;
  }
}

/**
 * The common name of a verified client certificate (etcd AuthInfoFromTLS: the CN of the first
 * verified chain's leaf), or undefined.
 */
export function verifiedCommonName(socket: tls.TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  if (typeof cn === 'string') return cn;
  // A repeated attribute comes as an array; Go's pkix.Name keeps the last one.
  if (Array.isArray(cn)) return (cn as string[])[(cn as string[]).length - 1];
  return undefined;
}
