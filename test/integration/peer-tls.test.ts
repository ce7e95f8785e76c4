/**
 * Peer TLS with real etcdts processes: a three-member cluster over https:// peer URLs with
 * client certificates required (--peer-client-cert-auth, --peer-trusted-ca-file,
 * --peer-cert-allowed-cn) replicates, survives kill -9 of its leader and takes the restarted
 * member back; a member whose certificate comes from another CA, or carries another CN, cannot
 * talk to the others, and both sides say why in their logs; --peer-auto-tls clusters replicate.
 * Certificates are made with openssl at test time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../../src/client/client.js';
import { hasOpenssl, makePki, type TestPki } from '../helpers/certs.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { inCI, killAll, waitFor } from '../helpers/procs.js';

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

  it('--peer-auto-tls: members encrypt with self-signed certificates and replicate', async () => {
    const c = await startCluster('etcdts', { size: 3, peerScheme: 'https', args: [...fast, '--peer-auto-tls'] });
    const lead = await c.leader();
    await put(c, lead, 'auto', 'tls');
    for (let i = 0; i < 3; i++) await waitFor(`auto on member ${i}`, async () => (await get(c, i, 'auto')) === 'tls');
    await c.stop();
  });
});
