/**
 * Peer TLS on the dialing side (etcd's peer TLSInfo.ClientConfig): an https:// peer URL is dialed
 * over TLS, presenting --peer-client-cert-file/--peer-client-key-file (default the peer
 * certificate) and verifying the peer's certificate against --peer-trusted-ca-file (default the
 * system roots) and its host name, then --peer-cert-allowed-cn / --peer-cert-allowed-hostname
 * (etcd checks them on both sides), then --peer-crl-file. A certificate made by --peer-auto-tls is not verified (etcd's
 * self-signed TLSInfo sets InsecureSkipVerify). An http:// URL is dialed in plain text.
 */
import net from 'node:net';
import tls from 'node:tls';
import { crlRefusal } from '../base/crl.js';
import { checkAllowedPeer, tlsErrorText, x509Text, type TlsMaterial } from '../base/tls.js';

function tlsOptions(host: string, m: TlsMaterial): tls.ConnectionOptions {
  return {
    servername: net.isIP(host) ? undefined : host,
    ca: m.ca,
    cert: m.clientCert,
    key: m.clientKey,
    ciphers: m.ciphers,
    minVersion: m.minVersion,
    maxVersion: m.maxVersion,
    rejectUnauthorized: !m.selfSigned,
    checkServerIdentity: (_h, cert) => {
      if (m.selfSigned) return undefined;
      const wrongHost = tls.checkServerIdentity(host, cert);
      if (wrongHost) return wrongHost;
      const notAllowed = checkAllowedPeer(m, cert);
      if (notAllowed !== undefined) return new Error(`remote error: ${notAllowed}`);
      // --peer-crl-file on the dialing side too: a member does not send to a peer whose
      // certificate is revoked (etcd 3.4 checks it only when accepting; see crl.ts).
      const revoked = m.revocationFile === '' ? undefined : crlRefusal(m.revocationFile, cert);
      return revoked === undefined ? undefined : new Error(revoked);
    },
  };
}

/**
 * A connection to a peer: TLS for an https:// URL (the handshake runs while the caller's first
 * writes wait in the TLS socket), plain TCP otherwise. Without peer TLS material an https:// peer
 * is dialed with the system's roots and no client certificate.
 */
export function dialPeer(addr: { host: string; port: number; tls: boolean }, m: TlsMaterial | null | undefined): net.Socket {
  if (!addr.tls) return net.connect({ host: addr.host, port: addr.port, noDelay: true });
  const opts: tls.ConnectionOptions = m ? tlsOptions(addr.host, m) : { servername: net.isIP(addr.host) ? undefined : addr.host };
  const sock = tls.connect({ ...opts, host: addr.host, port: addr.port });
  sock.setNoDelay(true);
  return sock;
}

/** A dial error as the log says it: Go's x509 text for a certificate we do not trust. */
export function dialErrorText(e: NodeJS.ErrnoException): string {
  const code = e.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `x509: ${e.message}`;
  if (/^[A-Z_]+$/.test(code) && !code.startsWith('ERR_') && !code.startsWith('E')) return x509Text(code);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return tlsErrorText(e);
  return code !== '' ? code : e.message;
}

/** How long a diagnosis waits for a peer to drop a connection after the handshake. */
const diagnoseSettleMs = 300;
const diagnoseTimeoutMs = 2000;

/**
 * Why an https:// peer cannot be reached, when TLS is the reason: one handshake with the same
 * certificates, watched to its end (a peer that refuses our certificate under TLS 1.3 just closes
 * the connection after the handshake, which the dial itself sees only as "closed"). Go's texts
 * where etcd logs them: "x509: certificate signed by unknown authority" for a peer certificate
 * we do not trust; "remote error: tls: bad certificate" for a peer that drops us right after the
 * handshake because it does not trust ours (TLS 1.3 lets the client finish first). Undefined when
 * the handshake is fine or the failure is not TLS (a refused port, a timeout).
 */
export function diagnosePeerTls(url: string, m: TlsMaterial | null | undefined): Promise<string | undefined> {
  if (!url.startsWith('https:') || !m) return Promise.resolve(undefined);
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    let done = false;
    const finish = (why: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const socket = tls.connect({ ...tlsOptions(host, m), host, port: Number(u.port || 2380), ALPNProtocols: undefined });
    const timer = setTimeout(() => finish(undefined), diagnoseTimeoutMs);
    socket.on('secureConnect', () => setTimeout(() => finish(undefined), diagnoseSettleMs));
    socket.on('close', () => finish(socket.authorized || m.selfSigned ? 'remote error: tls: bad certificate (the peer closed the connection after the TLS handshake: it does not accept our certificate)' : undefined));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? '';
      if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') return finish(undefined);
      if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return finish(`x509: ${e.message}`);
      if (e.message.startsWith('remote error: ')) return finish(e.message);
      if (/^[A-Z_]+$/.test(code) && !code.startsWith('ERR_')) return finish(x509Text(code));
      finish(tlsErrorText(e));
    });
  });
}
