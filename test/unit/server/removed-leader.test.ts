/**
 * A leader removing itself hands leadership over (TimeoutNow to the most caught-up voter) and
 * steps down; it stopped 10 heartbeats later. When the TimeoutNow was lost, and the survivor of a
 * two-voter cluster had not learnt that the removal committed, the survivor still counted the
 * old leader among the voters: it campaigned, but the old leader had stopped and could never
 * give it the vote it needed — no leader ever again (found by the whole-member simulator, seed
 * 50449). A removed member now stays (answering votes) until it sees another member lead, up to
 * removedLeaderGraceFactor election timeouts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBatch } from '../../../src/peer/codec.js';
import { createMemoryHub } from '../../../src/peer/memory-transport.js';
import { MessageType } from '../../../src/raft/types.js';
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

describe('a leader that removes itself from a two-voter cluster', () => {
  it('stays until the survivor leads, even when its TimeoutNow and the commit of its removal are lost', async () => {
    let dropFrom = 0n;
    let commitAbove = -1n;
    const hub = createMemoryHub({
      route: (from, _to, kind, deliver, frame) => {
        if (kind === 'frame' && from === dropFrom && frame !== undefined) {
          const msgs = decodeBatch(frame);
          if (msgs.some((m) => m.type === MessageType.TimeoutNow || ((m.type === MessageType.App || m.type === MessageType.Heartbeat) && m.commit > commitAbove))) return;
        }
        deliver();
      },
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-removed-leader-'));
    dirs.push(dir);
    const urls = ['http://127.0.0.1:24001', 'http://127.0.0.1:24002'];
    const withHub = (o: ServerOptions, url: string): ServerOptions => ({
      ...o,
      listenPeerUrls: undefined,
      transport: ({ memberId, clusterId, handler }) => hub.transport({ memberId, clusterId, handler, logger: o.logger, listenPeerUrls: [url] }),
    });
    const base = inprocOptions(new MemHub(), dir, 0);
    let removed1 = false;
    const m1 = await EtcdServer.start(withHub({ ...base, members: [{ id: base.memberId, name: '', peerURLs: [urls[0] as string], clientURLs: [], isLearner: false }], strictReconfigCheck: false, onRemoved: () => void (removed1 = true) }, urls[0] as string));
    servers.push(m1);
    await until(() => m1.isLeader());
    const added = await m1.memberAdd([urls[1] as string], false);
    const o2 = inprocOptions(new MemHub(), dir, 1);
    const m2 = await EtcdServer.start(withHub({ ...o2, memberId: added.member.id, members: added.members, join: true, initialClusterState: 'existing' }, urls[1] as string));
    servers.push(m2);
    await m1.put({ key: Buffer.from('a'), value: Buffer.from('1'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });
    await until(() => m2.kv.rev() === m1.kv.rev() && m2.applied() === m1.applied());
    // From now on m2 hears neither the TimeoutNow nor any commit index covering the removal.
    dropFrom = m1.memberId;
    commitAbove = m1.raftIndex();
    // Under a loaded machine the answer may miss its request timeout; what matters is below:
    // the removal commits (m2's member list) and m2 leads.
    await m1.memberRemove(m1.memberId).catch((e: unknown) => {
      if (!/request timed out/.test(String(e))) throw e;
    });
    await until(() => m2.isLeader(), 10_000);
    await until(() => removed1, 10_000);
    expect(m2.members.map((m) => m.id)).toEqual([m2.memberId]);
  });
});
