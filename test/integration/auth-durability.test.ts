/**
 * Auth state is replicated state: it survives kill -9 and restart, `snapshot save` (root only) +
 * `ctl snapshot restore` into a new data dir, and reaches every member of a three-member cluster,
 * including a member that catches up through a snapshot install (tokens of a user minted through
 * one member work on the others; a follower refuses a denied write at apply).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster } from '../helpers/cluster.js';
import { ctl, killAll, startMember, tempDir, waitFor } from '../helpers/procs.js';
import { EtcdClient } from '../../src/client/client.js';
import { ClientError } from '../../src/client/errors.js';

const root = ['--user', 'root:rootpw'];
const alice = ['--user', 'alice:apw'];

async function setUp(endpoint: string): Promise<void> {
  for (const args of [
    ['user', 'add', 'root:rootpw'],
    ['user', 'add', 'alice:apw'],
    ['role', 'add', 'ra'],
    ['role', 'grant-permission', 'ra', 'readwrite', 'a', '--prefix'],
    ['user', 'grant-role', 'alice', 'ra'],
    ['auth', 'enable'],
  ]) {
    const r = await ctl(endpoint, args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
}

async function expectAuthState(endpoint: string): Promise<void> {
  expect((await ctl(endpoint, ['get', 'a1'])).stderr).toContain('etcdserver: user name is empty');
  expect((await ctl(endpoint, [...alice, 'put', 'a1', 'v'])).stdout).toBe('OK\n');
  expect((await ctl(endpoint, [...alice, 'put', 'b1', 'v'])).stderr).toContain('etcdserver: permission denied');
  expect((await ctl(endpoint, [...root, 'user', 'list'])).stdout).toBe('alice\nroot\n');
  expect((await ctl(endpoint, [...root, 'role', 'get', 'ra'])).stdout).toBe('Role ra\nKV Read:\n\t[a, b) (prefix a)\nKV Write:\n\t[a, b) (prefix a)\n');
}

describe('auth state is durable and replicated', () => {
  afterAll(() => killAll());

  it('survives kill -9 and restart, and snapshot save + restore into a new data dir', async () => {
    const dir = tempDir();
    const m = await startMember({ kind: 'etcdts', dataDir: path.join(dir, 'a.etcd') });
    await setUp(m.endpoint);
    await expectAuthState(m.endpoint);
    const snap = path.join(dir, 'snap.db');
    expect((await ctl(m.endpoint, [...alice, 'snapshot', 'save', snap])).code).not.toBe(0);
    expect((await ctl(m.endpoint, [...root, 'snapshot', 'save', snap])).stdout).toBe(`Snapshot saved at ${snap}\n`);
    await m.kill('SIGKILL');
    const again = await startMember({ kind: 'etcdts', dataDir: m.dataDir });
    await expectAuthState(again.endpoint);
    await again.kill('SIGKILL');
    const restored = path.join(dir, 'restored.etcd');
    const r = await ctl(m.endpoint, ['snapshot', 'restore', snap, '--data-dir', restored]);
    expect(r.code, r.stderr).toBe(0);
    const fromSnap = await startMember({ kind: 'etcdts', dataDir: restored });
    await expectAuthState(fromSnap.endpoint);
    await fromSnap.kill('SIGKILL');
  }, 90_000);

  it('reaches every member, a lagging one through a snapshot install; tokens work on every member', async () => {
    const c = await startCluster('etcdts', { size: 3, args: ['--snapshot-count', '20', '--experimental-snapshot-catchup-entries', '5', '--heartbeat-interval', '50', '--election-timeout', '500'] });
    const lead = await c.leader();
    const lagging = (lead + 1) % 3;
    await c.kill(lagging);
    await setUp(c.endpoint(lead));
    const rootClient = new EtcdClient({ endpoints: [c.endpoint(lead)] });
    await rootClient.authenticate('root', 'rootpw');
    for (let i = 0; i < 40; i++) await rootClient.put({ key: Buffer.from(`k${i}`), value: Buffer.from('v') });
    rootClient.close();
    await c.restart(lagging);
    await waitFor('the lagging member to install the snapshot', async () => c.members[lagging]?.logs.join('').includes('applied incoming snapshot'));
    await expectAuthState(c.endpoint(lagging));
    // A token minted through the leader works on a follower (each member assigns it at apply).
    const viaLeader = new EtcdClient({ endpoints: [c.endpoint(lead)] });
    const token = (await viaLeader.authenticate('alice', 'apw')).resp.token;
    viaLeader.close();
    const other = (lead + 2) % 3;
    const onFollower = new EtcdClient({ endpoints: [c.endpoint(other)], token });
    await waitFor('alice\'s token on a follower', async () => (await onFollower.range({ key: Buffer.from('a1') })).resp.kvs.length === 1);
    const denied = await onFollower.put({ key: Buffer.from('b2'), value: Buffer.from('x') }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ClientError);
    expect((denied as ClientError).details).toBe('etcdserver: permission denied');
    onFollower.close();
    await c.stop();
  }, 120_000);
});
