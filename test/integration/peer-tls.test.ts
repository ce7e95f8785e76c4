/**
 * Peer TLS with real etcdts processes: a three-member cluster over https:// peer URLs with
 * client certificates required (--peer-client-cert-auth, --peer-trusted-ca-file,
 * --peer-cert-allowed-cn) replicates, survives kill -9 of its leader and takes the restarted
 * member back; a member whose certificate comes from another CA, or carries another CN, cannot
 * talk to the others, and both sides say why in their logs; a member whose certificate the
 * --peer-crl-file revokes is refused at the handshake with the reason logged as a real etcd logs
 * it, and cannot join (a real etcd 3.4.23 lets it in over the streams the others dial);
 * --peer-auto-tls clusters replicate.
 * Certificates are made with openssl at test time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../../src/client/client.js';
import { hasOpenssl, makePki, type TestPki } from '../helpers/certs.js';
import { memberStatus, startCluster, type Cluster } from '../helpers/cluster.js';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hasEtcd, inCI, killAll, waitFor } from '../helpers/procs.js';

if (!hasOpenssl && inCI) throw new Error('peer TLS tests need openssl under CI');

const fast = ['--heartbeat-interval', '50', '--election-timeout', '500'];

async function put(c: Cluster, i: number, key: string, value: string): Promise<void> {
  const client = new EtcdClient({ endpoints: [c.endpoint(i)], commandTimeoutMs: 5000 });
  try {
    await client.put({ key: Buffer.from(key), value: Buffer.from(value) });
  } finally {
    client.close();
  }
}

async function get(c: Cluster, i: number, key: string): Promise<string | undefined> {
  const client = new EtcdClient({ endpoints: [c.endpoint(i)], commandTimeoutMs: 3000 });
  try {
    const r = await client.range({ key: Buffer.from(key), serializable: true });
    return r.resp.kvs[0]?.value.toString();
  } finally {
    client.close();
  }
}

describe.skipIf(!hasOpenssl)('peer TLS between etcdts members', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makePki();
  });
  afterAll(() => killAll());

  const peerArgs = (pki: TestPki, cert: { cert: string; key: string }, extra: string[] = []): string[] => [
    '--peer-cert-file', cert.cert, '--peer-key-file', cert.key, '--peer-trusted-ca-file', pki.ca, '--peer-client-cert-auth', ...extra,
  ];

  it('replicates over https peer URLs with client certificates, survives kill -9 of the leader, and takes it back', async () => {
    const certs = [0, 1, 2].map((i) => pki.leaf(`peer${i}`, 'etcd-peer'));
    const c = await startCluster('etcdts', {
      size: 3,
      peerScheme: 'https',
      args: fast,
      memberArgs: (i) => peerArgs(pki, certs[i] as { cert: string; key: string }, ['--peer-cert-allowed-cn', 'etcd-peer']),
    });
    const lead = await c.leader();
    await put(c, lead, 'k1', 'v1');
    for (let i = 0; i < 3; i++) await waitFor(`k1 on member ${i}`, async () => (await get(c, i, 'k1')) === 'v1');
    await c.kill(lead);
    const next = await c.leader();
    expect(next).not.toBe(lead);
    await put(c, next, 'k2', 'v2');
    await c.restart(lead);
    await waitFor('k2 on the restarted member', async () => (await get(c, lead, 'k2')) === 'v2');
    expect(c.members[lead]?.logs.join('')).toContain('starting with peer TLS');
    await c.stop();
  });

  it('refuses a member whose certificate another CA signed, or whose CN is not the allowed one; both sides log why', async () => {
    const good = [pki.leaf('g0', 'etcd-peer'), pki.leaf('g1', 'etcd-peer')];
    const foreign = pki.leaf('foreign', 'etcd-peer', { byOtherCa: true });
    const wrongCn = pki.leaf('wrongcn', 'intruder');
    for (const [bad, theirReason, ourReason] of [
      [foreign, 'x509: certificate signed by unknown authority', 'remote error: tls: bad certificate'],
      [wrongCn, 'client certificate authentication failed', 'remote error: tls: bad certificate'],
    ] as const) {
      const certs = [good[0], good[1], bad];
      const c = await startCluster('etcdts', {
        size: 3,
        peerScheme: 'https',
        args: fast,
        memberArgs: (i) => peerArgs(pki, certs[i] as { cert: string; key: string }, ['--peer-cert-allowed-cn', 'etcd-peer']),
        waitHealthy: (i) => i !== 2,
      });
      // Members 0 and 1 are a quorum of their own; member 2 never gets a leader.
      await waitFor('a write through member 0', async () => {
        await put(c, 0, 'k', 'v');
        return true;
      });
      await waitFor('the good members to log the refusal', async () => c.members[0]?.logs.join('').includes(theirReason) && c.members[1]?.logs.join('').includes(theirReason));
      await waitFor('the refused member to log why', async () => c.members[2]?.logs.join('').includes(ourReason));
      expect(await get(c, 2, 'k').catch(() => undefined)).toBeUndefined();
      await c.stop();
    }
  });

  it.each([['etcdts'], ...(hasEtcd ? [['etcd']] : [])] as ['etcdts' | 'etcd'][])(
    '%s: --peer-crl-file refuses a member whose certificate is revoked at the handshake and logs why (etcdts: it cannot join)',
    async (kind) => {
      const good = [pki.leaf(`crl-${kind}-0`, 'etcd-peer'), pki.leaf(`crl-${kind}-1`, 'etcd-peer')];
      const revoked = pki.leaf(`crl-${kind}-revoked`, 'etcd-peer');
      const crl = pki.crl([revoked]);
      const serial = new X509Certificate(readFileSync(revoked.cert)).serialNumber.toLowerCase().replace(/^(00)+/, '');
      const certs = [good[0], good[1], revoked];
      const c = await startCluster(kind, {
        size: 3,
        peerScheme: 'https',
        args: fast,
        // Every member has the CRL, the revoked one too (as a fleet's configuration management would).
        memberArgs: (i) => peerArgs(pki, certs[i] as { cert: string; key: string }, ['--peer-crl-file', crl]),
        waitHealthy: (i) => i !== 2,
      });
      // Members 0 and 1 are a quorum of their own; the revoked member never joins them.
      await waitFor('a write through member 0', async () => {
        await put(c, 0, 'k', 'v');
        return true;
      });
      const refusal = `transport: certificate serial ${serial} revoked`;
      const logs = (i: number): string => c.members[i]?.logs.join('') ?? '';
      await waitFor('both good members to log the refusal', async () => [0, 1].every((i) => logs(i).includes('rejected connection') && logs(i).includes(refusal)));
      expect(await get(c, 1, 'k')).toBe('v');
      // Seen on etcd 3.4.23: the refusal above is logged, yet the revoked member joins all the same
      // (it has a leader and applies the write): etcd checks the CRL only when accepting, and the
      // streams the good members dial to it carry raft messages both ways. etcdts checks when
      // dialing too, so the revoked member stays out.
      if (kind === 'etcdts') {
        expect(await get(c, 2, 'k').catch(() => undefined)).toBeUndefined();
        expect(await memberStatus(c.endpoint(2)).then((s) => s?.leader ?? '0')).toBe('0');
        // etcdts also refuses to dial the revoked member, and says so.
        await waitFor('a good member to refuse dialing the revoked one', async () => logs(0).includes('failed to reach peer') && logs(0).split('\n').some((l) => l.includes('failed to reach peer') && l.includes(refusal)));
        await waitFor('the revoked member to log that the others drop it', async () => logs(2).includes('remote error: tls: bad certificate'));
      }
      await c.stop();
    },
  );

  it('--peer-auto-tls: members encrypt with self-signed certificates and replicate', async () => {
    const c = await startCluster('etcdts', { size: 3, peerScheme: 'https', args: [...fast, '--peer-auto-tls'] });
    const lead = await c.leader();
    await put(c, lead, 'auto', 'tls');
    for (let i = 0; i < 3; i++) await waitFor(`auto on member ${i}`, async () => (await get(c, i, 'auto')) === 'tls');
    await c.stop();
  });
});
