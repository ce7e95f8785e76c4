/**
 * Certificate revocation as etcd's peer listener checks it (etcd 3.4 pkg/transport/listener_tls.go
 * checkCRL): the CRL file is read again for every connection (so a new CRL acts without a
 * restart), and a connection is refused when the serial number of any certificate the other side
 * presented is listed in it. Like etcd, only serial numbers count: the CRL's signature, issuer and
 * next-update time are not checked (OpenSSL's own CRL check, which --client-crl-file uses, would
 * refuse every certificate for a CRL of another issuer or one past its next update).
 *
 * Node has no CRL parser, so the DER of RFC 5280 §5.1 is walked here, just far enough to reach
 * the serial numbers of tbsCertList.revokedCertificates.
 */
import { readFileSync } from 'node:fs';
import type tls from 'node:tls';

export class CrlError extends Error {
  override name = 'CrlError';
}

interface Tlv {
  tag: number;
  /** Offset of the content. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

/** One DER TLV at `at` (definite lengths only, as DER requires). */
function readTlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new CrlError('x509: malformed crl (truncated)');
  const tag = der[at] as number;
  let len = der[at + 1] as number;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new CrlError('x509: malformed crl (bad length)');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] as number);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new CrlError('x509: malformed crl (truncated)');
  return { tag, start, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

const tagInteger = 0x02;
const tagSequence = 0x30;
const tagUtcTime = 0x17;
const tagGeneralizedTime = 0x18;

/**
 * A serial number as Go's big.Int Bytes() gives it, in lowercase hex: the magnitude, big-endian,
 * without leading zero bytes (what etcd's message prints with %x).
 */
export function normalizeSerial(hex: string): string {
  const s = hex.toLowerCase().replace(/^-/, '').replace(/^0+/, '');
  return s.length % 2 === 1 ? `0${s}` : s;
}

/** The DER of a CRL file: the first "X509 CRL" PEM block, or the bytes themselves (DER), as Go's x509.ParseCRL. */
function crlDer(file: Uint8Array): Uint8Array {
  const text = Buffer.from(file.buffer, file.byteOffset, file.byteLength).toString('latin1');
  const m = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
  return m ? Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64') : file;
}

/** The revoked serial numbers of a CRL (PEM or DER), normalized as normalizeSerial. */
export function revokedSerials(file: Uint8Array): Set<string> {
  const der = crlDer(file);
  const list = readTlv(der, 0, der.length);
  if (list.tag !== tagSequence) throw new CrlError('x509: malformed crl');
  const tbs = children(der, list)[0];
  if (tbs === undefined || tbs.tag !== tagSequence) throw new CrlError('x509: malformed crl (no tbsCertList)');
  const fields = children(der, tbs);
  let i = 0;
  if (fields[i]?.tag === tagInteger) i++; // version
  if (fields[i]?.tag !== tagSequence) throw new CrlError('x509: malformed crl (no signature algorithm)');
  i++;
  if (fields[i]?.tag !== tagSequence) throw new CrlError('x509: malformed crl (no issuer)');
  i++;
  const isTime = (t: Tlv | undefined): boolean => t !== undefined && (t.tag === tagUtcTime || t.tag === tagGeneralizedTime);
  if (!isTime(fields[i])) throw new CrlError('x509: malformed crl (no thisUpdate)');
  i++;
  if (isTime(fields[i])) i++; // nextUpdate
  const out = new Set<string>();
  const revoked = fields[i];
  if (revoked === undefined || revoked.tag !== tagSequence) return out; // none revoked
  for (const entry of children(der, revoked)) {
    if (entry.tag !== tagSequence) throw new CrlError('x509: malformed crl (revoked entry)');
    const serial = children(der, entry)[0];
    if (serial === undefined || serial.tag !== tagInteger) throw new CrlError('x509: malformed crl (revoked serial)');
    out.add(normalizeSerial(Buffer.from(der.subarray(serial.start, serial.end)).toString('hex')));
  }
  return out;
}

/** Reads and parses a CRL file; a read or parse failure is a CrlError naming the file. */
export function readRevokedSerials(crlFile: string): Set<string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(crlFile);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CrlError(`open ${crlFile}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : String(e)}`);
  }
  try {
    return revokedSerials(bytes);
  } catch (e) {
    if (e instanceof CrlError) throw new CrlError(`${e.message} (${crlFile})`);
    throw e;
  }
}

/**
 * The check of one connection: undefined when no certificate the other side presented is
 * revoked, else the reason in etcd's words ("transport: certificate serial <hex> revoked"), or
 * why the CRL could not be read (the connection is refused then too, as etcd does).
 */
export function crlRefusal(crlFile: string, cert: tls.PeerCertificate | tls.DetailedPeerCertificate | undefined): string | undefined {
  if (cert === undefined || cert === null || Object.keys(cert).length === 0) return undefined;
  let revoked: Set<string>;
  try {
    revoked = readRevokedSerials(crlFile);
  } catch (e) {
    if (e instanceof CrlError) return e.message;
    throw e;
  }
  // The leaf, then the issuers node knows of (the chain the other side sent, completed from our CAs).
  const seen = new Set<object>();
  for (let c: tls.PeerCertificate | undefined = cert; c !== undefined && !seen.has(c); c = (c as tls.DetailedPeerCertificate).issuerCertificate) {
    seen.add(c);
    if (typeof c.serialNumber !== 'string') break;
    const serial = normalizeSerial(c.serialNumber);
    if (revoked.has(serial)) return `transport: certificate serial ${serial} revoked`;
  }
  return undefined;
}
