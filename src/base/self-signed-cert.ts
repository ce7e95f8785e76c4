/**
 * A self-signed X.509 certificate for --auto-tls / --peer-auto-tls, as etcd's transport.SelfCert
 * makes one: subject O=etcd, valid from now for --self-signed-cert-validity years, key usage
 * digital signature + key encipherment, extended key usage server auth (+ client auth for peers,
 * who dial each other with it), not a CA, and a subject alternative name per listen host (an IP
 * address, or a DNS name for anything else). etcd uses an ECDSA P-521 key; this uses P-256 with
 * ecdsa-with-SHA256, which every TLS stack accepts and which changes nothing a peer can observe
 * (auto-TLS peers and clients skip verifying it, as etcd's do).
 *
 * Node has no certificate builder, so the DER is written here: a handful of tag-length-value
 * encoders for exactly the structures RFC 5280 §4.1 needs. The result is checked by parsing it
 * with node:crypto's X509Certificate (tests) and by TLS handshakes.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import net from 'node:net';
import { assert } from './assert.js';

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => tlv(0x31, Buffer.concat(parts));
/** [n] EXPLICIT (constructed, context-specific). */
const explicit = (n: number, body: Buffer): Buffer => tlv(0xa0 | n, body);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [(parts[0] as number) * 40 + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A non-negative INTEGER from big-endian bytes (a leading zero keeps it positive). */
function integer(be: Buffer): Buffer {
  let b = be;
  while (b.length > 1 && b[0] === 0 && ((b[1] as number) & 0x80) === 0) b = b.subarray(1);
  if (((b[0] as number) & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

const bitString = (bytes: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
const octetString = (b: Buffer): Buffer => tlv(0x04, b);
const boolTrue = tlv(0x01, Buffer.from([0xff]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(d: Date): Buffer {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`)) : tlv(0x18, Buffer.from(`${p(y, 4)}${rest}`));
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write 8 groups of 16 bits.
  const [head = '', tail] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  assert(groups.length === 8, `bad IPv6 address ${ip}`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface SelfSignedCert {
  certPem: string;
  keyPem: string;
}

export interface SelfSignedOptions {
  /** Hosts (no ports) to name in the subject alternative names. */
  hosts: string[];
  /** Years from now (etcd --self-signed-cert-validity). */
  validityYears: number;
  /** Also good for TLS client authentication (peers). */
  clientAuth: boolean;
  now?: Date;
}

const oids = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  organization: '2.5.4.10',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

export function selfSignedCert(opts: SelfSignedOptions): SelfSignedCert {
  assert(opts.validityYears > 0, 'a self-signed certificate needs a validity of at least one year');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = opts.now ?? new Date();
  const notAfter = new Date(now.getTime() + opts.validityYears * 365 * 24 * 3600 * 1000);
  const sigAlg = seq(oid(oids.ecdsaWithSha256));
  const name = seq(set(seq(oid(oids.organization), utf8('etcd'))));
  const sans = opts.hosts.map((h) => (net.isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii'))));
  const usages = [oid(oids.serverAuth), ...(opts.clientAuth ? [oid(oids.clientAuth)] : [])];
  const extensions = [
    // digitalSignature (bit 0) and keyEncipherment (bit 2): 0b101 in the top bits, 5 unused.
    seq(oid(oids.keyUsage), boolTrue, octetString(bitString(Buffer.from([0xa0]), 5))),
    seq(oid(oids.extKeyUsage), octetString(seq(...usages))),
    seq(oid(oids.basicConstraints), boolTrue, octetString(seq())),
    ...(sans.length > 0 ? [seq(oid(oids.subjectAltName), octetString(seq(...sans)))] : []),
  ];
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    sigAlg,
    name,
    seq(time(now), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, sigAlg, bitString(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  const certPem = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  const keyPem = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })).export({ type: 'pkcs8', format: 'pem' }).toString();
  // A certificate node cannot read would fail every handshake later, far from here.
  assert(new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem)), 'self-signed certificate does not match its key');
  return { certPem, keyPem };
}
