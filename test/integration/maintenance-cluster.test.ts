/**
 * Maintenance on a real three-member etcdts cluster:
 * - `endpoint hashkv --cluster` gives the same hash on every member at a revision;
 * - a snapshot saved from a follower under a write load restores (ctl snapshot restore, one
 *   data dir per member of a NEW three-member cluster); the new cluster elects a leader and
 *   every member serves every key at the snapshot's revision, with the same HashKV as the
 *   source cluster at that revision.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../../src/client/client.js';
import { clusterPorts, startCluster } from '../helpers/cluster.js';
import { ctl, ctlBin, killAll, run, startMember, tempDir, waitFor, type MemberProc } from '../helpers/procs.js';

afterAll(() => killAll());

function hashes(out: string): Map<string, string> {
  return new Map(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(', ') as [string, string]),
  );
}

describe('maintenance on a three-member cluster', () => {
  it('same HashKV on every member; a follower snapshot restores into a new cluster with every key', async () => {
    const src = await startCluster('etcdts', { size: 3 });
    const leader = await src.leader();
    const follower = [0, 1, 2].find((i) => i !== leader) as number;
    const clients = [0, 1, 2].map((i) => new EtcdClient({ endpoints: [src.endpoint(i)] }));
    let stop = false;
    let written = 0;
    const load = Promise.all(
      clients.map(async (c, w) => {
        for (let i = 0; !stop; i++) {
          await c.put({ key: Buffer.from(`load/${w}/${i % 40}`), value: Buffer.from(`v${i}`) });
          written++;
        }
      }),
    );
    await waitFor('writes under way', async () => written > 200, 60_000);
    const dir = tempDir();
    const file = path.join(dir, 'snap.db');
    const saved = await ctl(src.endpoint(follower), ['snapshot', 'save', file]);
    expect(saved.stdout).toBe(`Snapshot saved at ${file}\n`);
    await waitFor('more writes', async () => written > 400, 60_000);
    stop = true;
    await load;

    const st = JSON.parse((await run(process.execPath, [ctlBin, 'snapshot', 'status', file, '-w', 'json'])).stdout) as { revision: number };
    // Every member at the same revision hashes the same.
    const rev = String(st.revision);
    const hs = await waitFor('hashkv from every member', async () => {
      const r = await ctl(src.endpoints(), ['endpoint', 'hashkv', '--cluster', '--rev', rev]);
      return r.code === 0 ? hashes(r.stdout) : null;
    });
    expect(hs.size).toBe(3);
    expect(new Set(hs.values()).size).toBe(1);
    const sourceHash = [...hs.values()][0];

    // A new cluster from the snapshot: one restored data dir per member.
    const ports = await clusterPorts(3);
    const names = ['r1', 'r2', 'r3'];
    const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i]?.peer}`).join(',');
    const members: MemberProc[] = [];
    for (const [i, name] of names.entries()) {
      const dataDir = path.join(dir, `${name}.etcd`);
      const r = await run(process.execPath, [
        ctlBin, 'snapshot', 'restore', file, '--name', name, '--data-dir', dataDir, '--initial-cluster', initialCluster,
        '--initial-cluster-token', 'restored-cluster', '--initial-advertise-peer-urls', `http://127.0.0.1:${ports[i]?.peer}`,
      ]);
      expect(r.code).toBe(0);
    }
    members.push(
      ...(await Promise.all(
        names.map((name, i) =>
          startMember({
            kind: 'etcdts',
            name,
            dataDir: path.join(dir, `${name}.etcd`),
            clientPort: ports[i]?.client,
            peerPort: ports[i]?.peer,
            initialCluster,
            args: ['--initial-cluster-token', 'restored-cluster'],
          }),
        ),
      )),
    );
    const want = await clients[leader]?.range({ key: Buffer.from([0]), range_end: Buffer.from([0]), revision: BigInt(st.revision) });
    for (const m of members) {
      const c = new EtcdClient({ endpoints: [m.endpoint] });
      const got = await c.range({ key: Buffer.from([0]), range_end: Buffer.from([0]) });
      expect(got.resp.header.revision).toBe(BigInt(st.revision));
      expect(got.resp.kvs).toEqual(want?.resp.kvs);
      expect((await c.memberList()).resp.members.length).toBe(3);
      c.close();
    }
    const restoredHashes = hashes((await ctl(members.map((m) => m.endpoint).join(','), ['endpoint', 'hashkv'])).stdout);
    expect(new Set(restoredHashes.values())).toEqual(new Set([sourceHash]));
    for (const c of clients) c.close();
  }, 180_000);
});
