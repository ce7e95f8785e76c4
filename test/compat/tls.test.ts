/**
 * Client TLS against a real etcd 3.4.23 with the same certificates (made with openssl in a temp
 * dir): the real etcdctl (Go clientv3) and ctl talk to an etcdts member and to an etcd member
 * started with the same TLS flags, and every command must give the same stdout, stderr and exit
 * code — a put/get over TLS, a client without a certificate (or with one from another CA, or a
 * revoked one) refused at the handshake when the server requires certificates, --cacert vs
 * --insecure-skip-tls-verify, auto-TLS, http and https on one port; /health and /version over
 * TLS; a plain-text client on a TLS port, and garbage instead of a handshake, leave the member
 * serving.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpenssl, makePki, type CertFiles, type TestPki } from '../helpers/certs.js';
import { ctlBin, freePort, hasEtcd, hasEtcdctl, httpGet, inCI, killAll, run, startMember, type MemberProc, type RunResult } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl || !hasOpenssl;
if (missing && inCI) throw new Error('TLS compat tests need etcd, etcdctl and openssl under CI');

function mask(r: RunResult, port: string): RunResult {
  const clean = (s: string): string =>
    s
      .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:<port>')
      .replace(/"ts":"[^"]*"/g, '"ts":<ts>')
      .replace(/client-[0-9a-f-]{36}/g, 'client-<uuid>')
      .replace(/"caller":"[^"]*"/g, '"caller":<c>');
  return { stdout: clean(r.stdout), stderr: clean(r.stderr), code: r.code };
}

const portOf = (m: MemberProc): string => m.endpoint.split(':')[1] as string;

function etcdctlAt(m: MemberProc, args: string[], scheme = 'https'): Promise<RunResult> {
  return run('etcdctl', [`--endpoints=${scheme}://${m.endpoint}`, '--command-timeout=2s', ...args]);
}

function ctlAt(m: MemberProc, args: string[], scheme = 'https'): Promise<RunResult> {
  return run(process.execPath, [ctlBin, `--endpoints=${scheme}://${m.endpoint}`, '--command-timeout=2s', ...args]);
}

/** Sends bytes that are not TLS (or a truncated handshake) and waits for the member to close. */
async function garbage(port: number, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    setTimeout(() => {
      s.destroy();
      resolve();
    }, 1500);
  });
}

describe.skipIf(missing)(`client TLS: etcdctl and ctl against etcdts and a real etcd${missing ? ' (SKIPPED: etcd, etcdctl or openssl missing)' : ''}`, () => {
  let pki: TestPki;
  let server: CertFiles;
  let alice: CertFiles;
  let stranger: CertFiles;
  let revoked: CertFiles;
  beforeAll(() => {
    pki = makePki();
    server = pki.leaf('server', 'etcd-server');
    alice = pki.leaf('alice', 'alice');
    stranger = pki.leaf('stranger', 'alice', { byOtherCa: true });
    revoked = pki.leaf('revoked', 'alice');
  });
  afterAll(() => killAll());

  async function pair(tlsArgs: string[], opts: { scheme?: 'https' | 'mixed'; health?: { ca?: string; cert?: string; key?: string } } = {}): Promise<[MemberProc, MemberProc]> {
    const start = async (kind: 'etcd' | 'etcdts'): Promise<MemberProc> => {
      if (opts.scheme === 'mixed') {
        const port = await freePort();
        const urls = `http://127.0.0.1:${port},https://127.0.0.1:${port}`;
        return startMember({ kind, clientPort: port, clientUrls: urls, args: tlsArgs });
      }
      return startMember({ kind, clientScheme: 'https', args: tlsArgs, healthTls: opts.health ?? { ca: pki.ca } });
    };
    return Promise.all([start('etcd'), start('etcdts')]);
  }

  async function same(members: [MemberProc, MemberProc], args: string[], scheme = 'https'): Promise<RunResult> {
    const [etcd, ours] = members;
    const [want, got, gotCtl] = await Promise.all([etcdctlAt(etcd, args, scheme), etcdctlAt(ours, args, scheme), ctlAt(ours, args, scheme)]);
    const w = mask(want, portOf(etcd));
    expect({ args, ...mask(got, portOf(ours)) }).toEqual({ args, ...w });
    expect({ ctl: args, ...mask(gotCtl, portOf(ours)) }).toEqual({ ctl: args, ...w });
    return w;
  }

  it('serves TLS with a server certificate: --cacert verifies it, a client without the CA fails, --insecure-skip-tls-verify skips it', async () => {
    const m = await pair(['--cert-file', server.cert, '--key-file', server.key]);
    expect((await same(m, ['--cacert', pki.ca, 'put', 'k', 'v'])).stdout).toBe('OK\n');
    expect((await same(m, ['--cacert', pki.ca, 'get', 'k'])).stdout).toBe('k\nv\n');
    expect((await same(m, ['get', 'k'])).code).toBe(1);
    expect((await same(m, ['--insecure-transport=false', '--insecure-skip-tls-verify', 'get', 'k'])).stdout).toBe('k\nv\n');
    expect((await same(m, ['--cacert', pki.otherCa, 'get', 'k'])).code).toBe(1);
    // A plain-text gRPC client on the TLS port gets nowhere, and the member keeps serving.
    expect((await same(m, ['get', 'k'], 'http')).code).toBe(1);
    for (const x of m) {
      await garbage(Number(portOf(x)), Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
      await garbage(Number(portOf(x)), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3]));
      expect(await httpGet(`https://${x.endpoint}/health`, { ca: pki.ca })).toMatchObject({ status: 200 });
      expect(JSON.parse((await httpGet(`https://${x.endpoint}/version`, { ca: pki.ca })).body)).toHaveProperty('etcdserver');
    }
    expect((await same(m, ['--cacert', pki.ca, 'get', 'k'])).stdout).toBe('k\nv\n');
    const ours = m[1];
    expect(ours.logs.join('')).toContain('"msg":"rejected connection"');
  });

  it('--client-cert-auth: a certificate of the trusted CA is served; none, another CA\'s, or a revoked one is refused at the handshake', async () => {
    const crl = pki.crl([revoked]);
    const m = await pair(['--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', pki.ca, '--client-cert-auth', '--client-crl-file', crl], {
      health: { ca: pki.ca, cert: alice.cert, key: alice.key },
    });
    const withAlice = ['--cacert', pki.ca, '--cert', alice.cert, '--key', alice.key];
    expect((await same(m, [...withAlice, 'put', 'k', 'v'])).stdout).toBe('OK\n');
    expect((await same(m, [...withAlice, 'get', 'k'])).stdout).toBe('k\nv\n');
    expect((await same(m, ['--cacert', pki.ca, 'get', 'k'])).code).toBe(1);
    expect((await same(m, ['--cacert', pki.ca, '--cert', stranger.cert, '--key', stranger.key, 'get', 'k'])).code).toBe(1);
    expect((await same(m, ['--cacert', pki.ca, '--cert', revoked.cert, '--key', revoked.key, 'get', 'k'])).code).toBe(1);
    for (const x of m) {
      await expect(httpGet(`https://${x.endpoint}/health`, { ca: pki.ca })).rejects.toThrow();
      expect(await httpGet(`https://${x.endpoint}/health`, { ca: pki.ca, cert: alice.cert, key: alice.key })).toMatchObject({ status: 200 });
    }
    const log = m[1].logs.join('');
    expect(log).toContain("tls: client didn't provide a certificate");
    expect(log).toContain('tls: failed to verify client certificate: x509: certificate signed by unknown authority');
    expect(log).toContain('tls: failed to verify client certificate: x509: certificate revoked');
  });

  it('--trusted-ca-file alone requires client certificates too (etcd TLSInfo.ServerConfig)', async () => {
    const m = await pair(['--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', pki.ca], { health: { ca: pki.ca, cert: alice.cert, key: alice.key } });
    expect((await same(m, ['--cacert', pki.ca, 'get', 'k'])).code).toBe(1);
    expect((await same(m, ['--cacert', pki.ca, '--cert', alice.cert, '--key', alice.key, 'put', 'k', 'v'])).stdout).toBe('OK\n');
  });

  it('serves http and https on one port when --listen-client-urls names both', async () => {
    const m = await pair(['--cert-file', server.cert, '--key-file', server.key], { scheme: 'mixed' });
    // etcd 3.4.23's own plain-text gRPC on a port it shares with https answers only now and then
    // (its cmux matcher; seen failing one run in two here), so the plain side is held to etcdts alone.
    const ours = m[1];
    expect((await etcdctlAt(ours, ['put', 'k', 'v'], 'http')).stdout).toBe('OK\n');
    expect((await ctlAt(ours, ['get', 'k'], 'http')).stdout).toBe('k\nv\n');
    await etcdctlAt(m[0], ['--cacert', pki.ca, 'put', 'k', 'v']);
    expect((await same(m, ['--cacert', pki.ca, 'get', 'k'], 'https')).stdout).toBe('k\nv\n');
    for (const x of m) {
      expect(await httpGet(`http://${x.endpoint}/health`)).toMatchObject({ status: 200 });
      expect(await httpGet(`https://${x.endpoint}/health`, { ca: pki.ca })).toMatchObject({ status: 200 });
    }
  });

  it('--auto-tls makes a self-signed certificate that clients reach with --insecure-skip-tls-verify', async () => {
    const m = await pair(['--auto-tls'], { health: {} });
    expect((await same(m, ['--insecure-transport=false', '--insecure-skip-tls-verify', 'put', 'k', 'v'])).stdout).toBe('OK\n');
    expect((await same(m, ['--cacert', pki.ca, 'get', 'k'])).code).toBe(1);
  });

  it('refuses to start as etcd does: an https client URL without a certificate, an unknown cipher suite', async () => {
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    for (const [args, text] of [
      [[], `TLS key/cert (--cert-file, --key-file) must be provided for client url ${url} with HTTPS scheme`],
      [['--cert-file', server.cert, '--key-file', server.key, '--cipher-suites', 'TLS_NOPE'], 'unexpected TLS cipher suite "TLS_NOPE"'],
    ] as const) {
      const clientUrls = args.length === 0 ? url : undefined;
      const [etcd, ours] = await Promise.all([
        startMember({ kind: 'etcd', args: [...args], clientUrls, waitHealthy: false }),
        startMember({ kind: 'etcdts', args: [...args], clientUrls, waitHealthy: false }),
      ]);
      expect(await etcd.exited).not.toBe(0);
      expect(await ours.exited).not.toBe(0);
      expect(etcd.logs.join('')).toContain(text);
      expect(ours.logs.join('')).toContain(text);
    }
  });
});
