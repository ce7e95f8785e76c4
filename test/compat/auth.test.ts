/**
 * Auth against a real etcd 3.4.23: the same command sequence goes to three members started with
 * the same ids (so headers match) — the real etcdctl against etcd (the reference), the real
 * etcdctl against etcdts, and ctl against another etcdts — and stdout, stderr and the exit code
 * must be identical: user/role CRUD in every output format, `auth enable` (which adds role root
 * itself), permitted and denied put/get/del/txn/watch/lease revoke/maintenance/membership calls,
 * `--user` with a wrong password or an unknown user, every refusal's exact text. Then tokens
 * (expiry with a short --auth-token-ttl, a garbage token, a password change) through the client
 * library against both servers, and the certificate CN as the user with --client-cert-auth.
 * Masked: timestamps, clientv3's client uuid, ports.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../../src/client/client.js';
import { ClientError } from '../../src/client/errors.js';
import { hasOpenssl, makePki, type CertFiles, type TestPki } from '../helpers/certs.js';
import { ctlBin, hasEtcd, hasEtcdctl, inCI, killAll, run, startMember, tempDir, type MemberProc, type RunResult } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('auth compat tests need etcd and etcdctl under CI');

const sameIds = [
  '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
  '--initial-cluster', 'default=http://127.0.0.1:2380',
  '--advertise-client-urls', 'http://127.0.0.1:2379',
];

function mask(r: RunResult, m: MemberProc): RunResult {
  const port = m.endpoint.split(':')[1] as string;
  const clean = (s: string): string =>
    s
      .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:<port>')
      .replace(/"ts":"[^"]*"/g, '"ts":<ts>')
      .replace(/"ts":[0-9.e+]+/g, '"ts":<ts>')
      .replace(/client-[0-9a-f-]{36}/g, 'client-<uuid>')
      .replace(/took = [0-9.]+[µnm]?s/g, 'took = <t>');
  return { stdout: clean(r.stdout), stderr: clean(r.stderr), code: r.code };
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    if (e instanceof ClientError) return `${e.code} ${e.details}`;
    throw e;
  }
}

describe.skipIf(missing)(`auth: etcdctl and ctl against etcdts print what etcdctl prints against etcd${missing ? ' (SKIPPED: etcd and/or etcdctl not installed)' : ''}`, () => {
  let etcd: MemberProc;
  let forEtcdctl: MemberProc;
  let forCtl: MemberProc;
  const dir = tempDir();

  beforeAll(async () => {
    const args = [...sameIds, '--auth-token-ttl', '3'];
    [etcd, forEtcdctl, forCtl] = await Promise.all([
      startMember({ kind: 'etcd', args }),
      startMember({ kind: 'etcdts', args }),
      startMember({ kind: 'etcdts', args }),
    ]);
  });
  afterAll(() => killAll());

  /** ctlLastLine: compare only ctl's last stderr line (ctl's snapshot save does not print clientv3's zap lines). */
  async function same(args: string[], input?: string, ctlLastLine = false): Promise<RunResult> {
    const opts = { input, timeoutMs: 15_000 };
    // A long command timeout: bcrypt on a loaded machine can make etcd's own answers slow.
    const t = '--command-timeout=20s';
    const [want, got, gotCtl] = await Promise.all([
      run('etcdctl', [`--endpoints=${etcd.endpoint}`, t, ...args], { ...opts, timeoutMs: 30_000 }),
      run('etcdctl', [`--endpoints=${forEtcdctl.endpoint}`, t, ...args], { ...opts, timeoutMs: 30_000 }),
      run(process.execPath, [ctlBin, `--endpoints=${forCtl.endpoint}`, t, ...args], { ...opts, timeoutMs: 30_000 }),
    ]);
    const w = mask(want, etcd);
    expect({ args, ...mask(got, forEtcdctl) }).toEqual({ args, ...w });
    const last = (r: RunResult): RunResult => (ctlLastLine ? { ...r, stderr: r.stderr.trimEnd().split('\n').pop() ?? '' } : r);
    expect({ ctl: args, ...last(mask(gotCtl, forCtl)) }).toEqual({ ctl: args, ...last(w) });
    return w;
  }

  const formats = ['simple', 'json', 'fields', 'protobuf', 'table'];
  const root = ['--user', 'root:rootpw'];
  const alice = ['--user', 'alice:apw'];

  it('manages users and roles in every output format, with etcd\'s errors', async () => {
    expect((await same(['auth', 'enable'])).stderr).toContain('etcdserver: root user does not exist');
    expect((await same(['user', 'add', 'root', '--new-user-password=rootpw'])).stdout).toBe('User root created\n');
    await same(['user', 'add', 'root', '--new-user-password=rootpw']);
    await same(['user', 'add', ':pw']);
    await same(['user', 'add']);
    await same(['user', 'get', 'root']);
    await same(['user', 'get', 'nobody']);
    await same(['role', 'add', '']);
    // Every output format for each kind of answer; the other variants in the simple format.
    for (const [i, f] of formats.entries()) {
      await same(['user', 'add', `u${i}:pw`, '-w', f]);
      await same(['role', 'add', `r${i}`, '-w', f]);
      await same(['role', 'grant-permission', `r${i}`, 'readwrite', 'foo/', '--prefix', '-w', f]);
      await same(['role', 'grant-permission', `r${i}`, 'read', 'k', '--from-key']);
      await same(['role', 'grant-permission', `r${i}`, 'WRITE', 'a', 'z']);
      await same(['role', 'get', `r${i}`, '-w', f]);
      await same(['user', 'grant-role', `u${i}`, `r${i}`, '-w', f]);
      await same(['user', 'get', `u${i}`, '-w', f]);
      await same(['user', 'get', `u${i}`, '--detail', '-w', f]);
      await same(['user', 'list', '-w', f]);
      await same(['role', 'list', '-w', f]);
      await same(['role', 'revoke-permission', `r${i}`, 'foo/', '--prefix', '-w', f]);
      await same(['role', 'delete', `r${i}`, '-w', f]);
      await same(['user', 'delete', `u${i}`, '-w', f]);
    }
    await same(['user', 'add', 'v:pw']);
    await same(['role', 'add', 'rv']);
    for (const grant of [['read', 'foo'], ['write', 'foo'], ['read', '', '--prefix'], ['readwrite', '', '--from-key'], ['read', 'k', '--from-key'], ['write', 'a', 'z']]) {
      await same(['role', 'grant-permission', 'rv', ...grant]);
    }
    await same(['role', 'get', 'rv']);
    await same(['user', 'grant-role', 'v', 'rv']);
    await same(['user', 'grant-role', 'v', 'rv']);
    await same(['user', 'passwd', 'v', '--interactive=false'], 'newpw\n');
    for (const revoke of [['k', '--from-key'], ['a', 'z'], ['foo'], ['', '--prefix']]) await same(['role', 'revoke-permission', 'rv', ...revoke]);
    await same(['role', 'get', 'rv']);
    await same(['user', 'revoke-role', 'v', 'rv']);
    for (const bad of [
      ['role', 'grant-permission', 'nobody', 'read', 'x'],
      ['role', 'grant-permission', 'r', 'rw', 'x'],
      ['role', 'grant-permission', 'r', 'read'],
      ['role', 'grant-permission', 'r', 'read', 'k', '--from-key', '--prefix'],
      ['role', 'grant-permission', 'r', 'read', 'k', 'z', '--prefix'],
      ['role', 'revoke-permission', 'nobody', 'k'],
      ['role', 'delete', 'nobody'],
      ['role', 'get', 'nobody'],
      ['user', 'grant-role', 'nobody', 'r'],
      ['user', 'revoke-role', 'nobody', 'r'],
      ['user', 'passwd', 'nobody', '--interactive=false'],
      ['user', 'delete', 'nobody'],
      ['user', 'list', 'extra'],
      ['auth', 'disable', 'extra'],
    ]) {
      await same(bad);
    }
    await same(['role', 'add', 'r']);
    await same(['role', 'add', 'r']);
    await same(['role', 'revoke-permission', 'r', 'x']);
    await same(['user', 'add', 'carol', '--interactive=false'], 'carolpw\n');
    await same(['user', 'add', 'bob', '--no-password']);
    await same(['user', 'grant-role', 'carol', 'nobody']);
    await same(['user', 'revoke-role', 'carol', 'r']);
  }, 400_000);

  it('enables auth (adding role root itself) and then refuses and permits as etcd does', async () => {
    expect((await same(['auth', 'enable'])).stdout).toBe('Authentication Enabled\n');
    await same(['auth', 'enable', '-w', 'json']);
    await same(['user', 'get', 'root']);
    await same(['put', 'k', 'v']);
    await same([...root, 'user', 'add', 'alice:apw']);
    await same([...root, 'role', 'add', 'ra']);
    await same([...root, 'role', 'grant-permission', 'ra', 'readwrite', 'a', '--prefix']);
    await same([...root, 'user', 'grant-role', 'alice', 'ra']);
    await same([...root, 'put', 'b1', 'x']);
    await same([...root, 'role', 'get', 'root']);
    await same([...root, 'user', 'list']);
    await same(['--user', 'alice:bad', 'get', 'a1']);
    await same(['--user', 'nobody:x', 'get', 'a1']);
    expect((await same([...alice, 'put', 'a1', 'x'])).stdout).toBe('OK\n');
    expect((await same([...alice, 'put', 'b1', 'x'])).stderr).toContain('Error: etcdserver: permission denied');
    await same([...alice, 'get', 'a1']);
    await same([...alice, 'get', 'b1']);
    await same([...alice, 'get', 'a', '--prefix']);
    await same([...alice, 'get', '', '--prefix']);
    await same([...alice, 'get', 'a', '--from-key']);
    await same([...alice, 'put', 'a2', 'y', '--prev-kv']);
    await same([...alice, 'del', 'b1']);
    await same([...alice, 'del', 'a2', '--prev-kv']);
    await same([...alice, 'txn'], 'value("b1") = "x"\n\nget a1\n\n');
    await same([...alice, 'txn'], 'value("a1") = "x"\n\nput a2 v\n\nget b1\n\n');
    await same([...alice, 'txn'], 'value("a1") = "x"\n\nput a3 v\n\nput b3 v\n\n');
    await same([...alice, 'watch', 'b1']);
    await same([...alice, 'watch', 'c', '--prefix']);
    await same([...alice, 'user', 'get', 'alice']);
    await same([...alice, 'user', 'get', 'root']);
    await same([...alice, 'role', 'get', 'ra']);
    await same([...alice, 'role', 'get', 'root']);
    await same([...alice, 'user', 'list']);
    await same([...alice, 'role', 'list']);
    await same([...alice, 'user', 'passwd', 'alice', '--interactive=false'], 'apw\n');
    await same([...alice, 'auth', 'disable']);
    await same([...alice, 'member', 'add', 'x', '--peer-urls=http://127.0.0.1:1']);
    await same([...alice, 'defrag']);
    await same([...alice, 'endpoint', 'hashkv']);
    await same(['endpoint', 'hashkv']);
    await same([...alice, 'alarm', 'list']);
    await same([...alice, 'compaction', '1']);
    await same([...alice, 'endpoint', 'health']);
    await same(['endpoint', 'health']);
    await same([...alice, 'snapshot', 'save', `${dir}/snap.db`], undefined, true);
  }, 120_000);

  it('refuses revoking a lease with a key the user may not write, and attaching a key to it', async () => {
    const ids: string[] = [];
    for (const [m, tool] of [
      [etcd, 'etcdctl'],
      [forEtcdctl, 'etcdctl'],
      [forCtl, 'ctl'],
    ] as const) {
      const cmd = tool === 'etcdctl' ? 'etcdctl' : process.execPath;
      const pre = tool === 'etcdctl' ? [] : [ctlBin];
      const g = await run(cmd, [...pre, `--endpoints=${m.endpoint}`, ...root, 'lease', 'grant', '100']);
      const id = /lease ([0-9a-f]+) granted/.exec(g.stdout)?.[1] as string;
      ids.push(id);
      expect((await run(cmd, [...pre, `--endpoints=${m.endpoint}`, ...root, 'put', 'b9', 'x', `--lease=${id}`])).stdout).toBe('OK\n');
    }
    const results = await Promise.all(
      [etcd, forEtcdctl, forCtl].map((m, i) =>
        run(i === 2 ? process.execPath : 'etcdctl', [...(i === 2 ? [ctlBin] : []), `--endpoints=${m.endpoint}`, ...alice, 'lease', 'revoke', ids[i] as string]),
      ),
    );
    const texts = results.map((r, i) => mask(r, [etcd, forEtcdctl, forCtl][i] as MemberProc)).map((r) => ({ ...r, stdout: r.stdout.replace(/[0-9a-f]{16}/g, '<id>') }));
    expect(texts[1]).toEqual(texts[0]);
    expect(texts[2]).toEqual(texts[0]);
    expect(texts[0]?.stderr).toContain('failed to revoke lease (etcdserver: permission denied)');
  }, 60_000);

  it('tokens: expire after --auth-token-ttl idle seconds, die with a password change; a garbage token is refused', async () => {
    const outcome = async (m: MemberProc): Promise<string[]> => {
      const out: string[] = [];
      const c = new EtcdClient({ endpoints: [m.endpoint], commandTimeoutMs: 3000 });
      const garbage = new EtcdClient({ endpoints: [m.endpoint], commandTimeoutMs: 3000, token: 'garbage' });
      try {
        out.push(await failure(c.authenticate('alice', 'wrong')));
        out.push(await failure(c.authenticate('nobody', 'x')));
        await c.authenticate('alice', 'apw');
        out.push(await failure(c.range({ key: Buffer.from('a1') })));
        await new Promise((r) => setTimeout(r, 2000));
        out.push(await failure(c.range({ key: Buffer.from('a1') })));
        await new Promise((r) => setTimeout(r, 4500));
        out.push(await failure(c.range({ key: Buffer.from('a1') })));
        out.push(await failure(garbage.range({ key: Buffer.from('a1') })));
        out.push(await failure(garbage.put({ key: Buffer.from('a1'), value: Buffer.from('v') })));
        await c.authenticate('alice', 'apw');
        const r = new EtcdClient({ endpoints: [m.endpoint] });
        await r.authenticate('root', 'rootpw');
        out.push(await failure(r.userChangePassword('alice', 'apw')));
        r.close();
        out.push(await failure(c.range({ key: Buffer.from('a1') })));
      } finally {
        c.close();
        garbage.close();
      }
      return out;
    };
    const [want, got] = await Promise.all([outcome(etcd), outcome(forEtcdctl)]);
    expect(got).toEqual(want);
    expect(want).toEqual([
      '3 etcdserver: authentication failed, invalid user ID or password',
      '3 etcdserver: authentication failed, invalid user ID or password',
      'OK',
      'OK',
      '16 etcdserver: invalid auth token',
      '16 etcdserver: invalid auth token',
      '16 etcdserver: invalid auth token',
      'OK',
      '16 etcdserver: invalid auth token',
    ]);
  }, 30_000);

  it('disables auth (root only) and serves everyone again', async () => {
    await same([...root, 'auth', 'disable']);
    await same(['get', 'a1']);
    await same(['auth', 'disable']);
    await same([...root, 'user', 'delete', 'root']);
  });
});

describe.skipIf(missing || !hasOpenssl)('auth by client certificate CN (--client-cert-auth) against a real etcd', () => {
  let pki: TestPki;
  let rootCert: CertFiles;
  let aliceCert: CertFiles;
  let server: CertFiles;
  let etcd: MemberProc;
  let ours: MemberProc;
  let oursForCtl: MemberProc;
  beforeAll(async () => {
    pki = makePki();
    server = pki.leaf('server', 'etcd-server');
    rootCert = pki.leaf('root', 'root');
    aliceCert = pki.leaf('alice', 'alice');
    const args = ['--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', pki.ca, '--client-cert-auth'];
    const health = { ca: pki.ca, cert: rootCert.cert, key: rootCert.key };
    [etcd, ours, oursForCtl] = await Promise.all([
      startMember({ kind: 'etcd', clientScheme: 'https', args, healthTls: health }),
      startMember({ kind: 'etcdts', clientScheme: 'https', args, healthTls: health }),
      startMember({ kind: 'etcdts', clientScheme: 'https', args, healthTls: health }),
    ]);
  });
  afterAll(() => killAll());

  async function same(cert: CertFiles, args: string[]): Promise<RunResult> {
    const tls = ['--cacert', pki.ca, '--cert', cert.cert, '--key', cert.key];
    const [want, got, gotCtl] = await Promise.all([
      run('etcdctl', [`--endpoints=https://${etcd.endpoint}`, ...tls, ...args]),
      run('etcdctl', [`--endpoints=https://${ours.endpoint}`, ...tls, ...args]),
      run(process.execPath, [ctlBin, `--endpoints=https://${oursForCtl.endpoint}`, ...tls, ...args]),
    ]);
    const w = mask(want, etcd);
    expect({ args, ...mask(got, ours) }).toEqual({ args, ...w });
    expect({ ctl: args, ...mask(gotCtl, oursForCtl) }).toEqual({ ctl: args, ...w });
    return w;
  }

  it('takes the CN as the user when no token is sent', async () => {
    await same(rootCert, ['user', 'add', 'root', '--no-password']);
    await same(rootCert, ['user', 'add', 'alice', '--no-password']);
    await same(rootCert, ['role', 'add', 'ra']);
    await same(rootCert, ['role', 'grant-permission', 'ra', 'readwrite', 'a', '--prefix']);
    await same(rootCert, ['user', 'grant-role', 'alice', 'ra']);
    expect((await same(rootCert, ['auth', 'enable'])).stdout).toBe('Authentication Enabled\n');
    expect((await same(aliceCert, ['put', 'a1', 'v'])).stdout).toBe('OK\n');
    await same(aliceCert, ['put', 'b1', 'v']);
    await same(aliceCert, ['get', 'a1']);
    await same(rootCert, ['put', 'b1', 'v']);
    await same(aliceCert, ['user', 'list']);
    await same(rootCert, ['user', 'list']);
    // A no-password user cannot log in with a password.
    await same(aliceCert, ['--user', 'alice:x', 'get', 'a1']);
    await same(rootCert, ['auth', 'disable']);
  });
});

describe.skipIf(missing || !hasOpenssl)('JWT tokens (--auth-token jwt,...) against a real etcd', () => {
  const keys = tempDir('etcdts-jwt-');
  let etcd: MemberProc;
  let ours: MemberProc;
  beforeAll(async () => {
    execFileSync('openssl', ['genrsa', '-out', `${keys}/rs.key`, '2048'], { stdio: 'ignore' });
    execFileSync('openssl', ['rsa', '-in', `${keys}/rs.key`, '-pubout', '-out', `${keys}/rs.pub`], { stdio: 'ignore' });
    const args = [...sameIds, '--auth-token', `jwt,pub-key=${keys}/rs.pub,priv-key=${keys}/rs.key,sign-method=RS256,ttl=3s`];
    [etcd, ours] = await Promise.all([startMember({ kind: 'etcd', args }), startMember({ kind: 'etcdts', args })]);
  });
  afterAll(() => killAll());

  const decode = (token: string): { header: unknown; claims: Record<string, unknown> } => {
    const [h, p] = token.split('.') as [string, string];
    return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), claims: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown> };
  };

  it('issues etcd\'s claims, refuses expired and old-revision tokens, and works with etcdctl --user', async () => {
    const flow = async (m: MemberProc): Promise<unknown[]> => {
      const out: unknown[] = [];
      const e = (args: string[]) => run('etcdctl', [`--endpoints=${m.endpoint}`, ...args]).then((r) => `${r.code} ${r.stdout}${r.stderr.replace(/.*retry_interceptor.*\n/g, '')}`);
      out.push(await e(['user', 'add', 'root:rootpw']), await e(['auth', 'enable']), await e(['--user', 'root:rootpw', 'user', 'add', 'alice:apw']));
      out.push(await e(['--user', 'root:rootpw', 'put', 'k', 'v']), await e(['--user', 'root:rootpw', 'get', 'k']));
      const c = new EtcdClient({ endpoints: [m.endpoint], commandTimeoutMs: 3000 });
      const r = new EtcdClient({ endpoints: [m.endpoint], commandTimeoutMs: 3000 });
      try {
        const t = (await c.authenticate('root', 'rootpw')).resp.token;
        const { header, claims } = decode(t);
        out.push(header, Object.keys(claims), claims.username, claims.revision, Math.abs(Number(claims.exp) - (Date.now() / 1000 + 3)) < 2);
        out.push(await failure(c.range({ key: Buffer.from('k') })));
        await r.authenticate('root', 'rootpw');
        out.push(await failure(r.userAdd('bob', 'b', false)));
        out.push(await failure(c.range({ key: Buffer.from('k') }))); // its revision is old now
        await c.authenticate('root', 'rootpw');
        await new Promise((res) => setTimeout(res, 4200));
        out.push(await failure(c.range({ key: Buffer.from('k') }))); // expired
      } finally {
        c.close();
        r.close();
      }
      return out;
    };
    const [want, got] = await Promise.all([flow(etcd), flow(ours)]);
    expect(got).toEqual(want);
    expect(want).toContain('3 etcdserver: revision of auth store is old');
    expect(want).toContain('16 etcdserver: invalid auth token');
  }, 60_000);
});
