/**
 * A learner removed from the cluster while it was cut off never applies its own removal: the
 * leader stops replicating to it. A voter in that state loses its leader, campaigns and, with no
 * leader known, asks its peers for the member list, where it finds itself removed and stops (as
 * etcd's member stops when its peers answer "permanently removed"). A learner never campaigns:
 * it kept the last leader it knew, so it never asked, and stayed up for good, out of the cluster
 * (found by the whole-member simulator, seed 50158). It now asks whatever it believes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryHub } from '../../../src/peer/memory-transport.js';
import { EtcdServer, type ServerOptions } from '../../../src/server/etcd-server.js';
import { inprocOptions } from '../../helpers/inproc-cluster.js';
import { MemHub } from '../../helpers/mem-hub.js';

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const dirs: string[] = [];
const servers: EtcdServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a learner removed while cut off', () => {
  it('finds out from its peers that it was removed, and stops', async () => {
    const hub = createMemoryHub();
    const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-removed-learner-'));
    dirs.push(dir);
    const base = inprocOptions(new MemHub(), dir, 0);
    const m1Url = 'http://127.0.0.1:21001';
    const m2Url = 'http://127.0.0.1:21002';
    const withHub = (o: ServerOptions, url: string): ServerOptions => ({
      ...o,
      listenPeerUrls: undefined,
      transport: ({ memberId, clusterId, handler }) => hub.transport({ memberId, clusterId, handler, logger: o.logger, listenPeerUrls: [url] }),
    });
    const m1 = await EtcdServer.start(withHub({ ...base, members: [{ id: base.memberId, name: '', peerURLs: [m1Url], clientURLs: [], isLearner: false }] }, m1Url));
    servers.push(m1);
    await until(() => m1.isLeader());
    await m1.put({ key: Buffer.from('a'), value: Buffer.from('1'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });
    const added = await m1.memberAdd([m2Url], true);
    let removedReason: string | undefined;
    const o2 = inprocOptions(new MemHub(), dir, 1);
    const m2 = await EtcdServer.start(
      withHub({ ...o2, memberId: added.member.id, members: added.members, join: true, initialClusterState: 'existing', onRemoved: (r) => void (removedReason = r) }, m2Url),
    );
    servers.push(m2);
    await until(() => m2.kv.rev() === m1.kv.rev() && m2.leader() === m1.memberId);
    // Cut off, removed, healed: the leader no longer talks to it.
    hub.isolate(m2.memberId, [m1.memberId]);
    await m1.memberRemove(m2.memberId);
    hub.heal();
    await until(() => removedReason !== undefined, 10_000);
    expect(removedReason).toMatch(/removed/);
  });
});
