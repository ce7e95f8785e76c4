/**
 * The npm `etcd3` client (1.1.2, unchanged) against etcdts over TLS with auth, as an application
 * uses it: it connects with a CA certificate, manages roles and users through its API
 * (`client.role(...).create()`, `.grant(...)`, `client.user(...).create()`, `.addRole(...)`), then a
 * second client logs in with `auth: { username, password }` and is allowed and refused exactly
 * where its role says, with etcd3's own error classes (which it picks by etcd's message texts).
 * Where etcd is installed, the same script runs against it too and the answers must match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { hasOpenssl, makePki, type TestPki } from '../helpers/certs.js';
import { ctl, hasEtcd, killAll, startMember, type MemberProc } from '../helpers/procs.js';

describe.skipIf(!hasOpenssl)('npm etcd3 client over TLS with auth', () => {
  let pki: TestPki;
  const members: { kind: string; m: MemberProc }[] = [];
  beforeAll(async () => {
    pki = makePki();
    const server = pki.leaf('server', 'etcd-server');
    const args = ['--cert-file', server.cert, '--key-file', server.key];
    const kinds: ('etcdts' | 'etcd')[] = hasEtcd ? ['etcdts', 'etcd'] : ['etcdts'];
    for (const kind of kinds) members.push({ kind, m: await startMember({ kind, clientScheme: 'https', args, healthTls: { ca: pki.ca } }) });
  });
  afterAll(() => killAll());

  async function script(m: MemberProc): Promise<unknown[]> {
    const out: unknown[] = [];
    const credentials = { rootCertificate: readFileSync(pki.ca) };
    const hosts = `https://${m.endpoint}`;
    const admin = new Etcd3({ hosts, credentials });
    const err = async (p: PromiseLike<unknown>): Promise<string> => {
      try {
        await p;
        return 'ok';
      } catch (e) {
        return `${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
    };
    try {
      await admin.user('root').create('rootpw');
      await admin.user('root').addRole('root');
      const role = await admin.role('app').create();
      await role.grant({ permission: 'Readwrite', range: admin.range({ prefix: 'app/' }) });
      await role.grant({ permission: 'Read', key: 'shared' });
      out.push((await role.permissions()).map((p) => [p.permission, p.range.start.toString(), p.range.end.toString('hex')]));
      await admin.user('alice').create('apw');
      await admin.user('alice').addRole('app');
      out.push(await admin.user('alice').roles().then((rs) => rs.map((r) => r.name)));
      await admin.put('shared').value('s');
      await ctl(m.endpoint.replace(/^/, 'https://'), ['--cacert', pki.ca, 'auth', 'enable']);
      out.push(await err(admin.get('shared').string()));
      const asRoot = new Etcd3({ hosts, credentials, auth: { username: 'root', password: 'rootpw' } });
      const asAlice = new Etcd3({ hosts, credentials, auth: { username: 'alice', password: 'apw' } });
      const wrong = new Etcd3({ hosts, credentials, auth: { username: 'alice', password: 'nope' } });
      try {
        out.push(await err(asAlice.put('app/x').value('1').exec()));
        out.push(await asAlice.get('app/x').string());
        out.push(await asAlice.get('shared').string());
        out.push(await err(asAlice.put('shared').value('2').exec()));
        out.push(await err(asAlice.get('other').string()));
        out.push(await err(asAlice.getRoles()));
        out.push(await err(wrong.get('app/x').string()));
        out.push((await asRoot.getUsers()).map((u) => u.name));
        out.push(await err(asRoot.user('alice').removeRole('app')));
        out.push(await err(asAlice.get('app/x').string()));
        await asRoot.auth.authDisable();
      } finally {
        asRoot.close();
        asAlice.close();
        wrong.close();
      }
    } finally {
      admin.close();
    }
    return out;
  }

  it('manages roles and users through its API and is allowed and refused as its role says', async () => {
    const results = [];
    for (const { m } of members) results.push(await script(m));
    const ours = results[0] as unknown[];
    expect(ours).toEqual([
      [
        ['Readwrite', 'app/', Buffer.from('app0').toString('hex')],
        ['Read', 'shared', ''],
      ],
      ['app'],
      'GRPCInvalidArgumentError: 3 INVALID_ARGUMENT: etcdserver: user name is empty',
      'ok',
      '1',
      's',
      'EtcdPermissionDeniedError: 7 PERMISSION_DENIED: etcdserver: permission denied',
      'EtcdPermissionDeniedError: 7 PERMISSION_DENIED: etcdserver: permission denied',
      'EtcdPermissionDeniedError: 7 PERMISSION_DENIED: etcdserver: permission denied',
      'EtcdAuthenticationFailedError: 3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password',
      ['alice', 'root'],
      'ok',
      'EtcdPermissionDeniedError: 7 PERMISSION_DENIED: etcdserver: permission denied',
    ]);
    if (results.length > 1) expect(ours).toEqual(results[1]);
  }, 120_000);
});
