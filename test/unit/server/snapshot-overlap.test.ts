/**
 * A follower installing a snapshot slowly may receive the next one meanwhile (the leader
 * compacted its log past the first one's index while it was in flight, and a response from the
 * follower made it send again). Installing the first one dropped the file of every snapshot
 * received so far — the second one's too — so when the core handed the second one out the
 * member failed ("snapshot … handed out without its data") and stopped serving (found by the
 * whole-member simulator, seed 50158). Here the test plays the leader: it hands the member two
 * snapshots through its peer handler, the second while the first is held in the middle of its
 * install.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerHandler, Transport } from '../../../src/peer/transport.js';
import { message, MessageType, type Message } from '../../../src/raft/types.js';
import { EtcdServer } from '../../../src/server/etcd-server.js';
import { dumpState } from '../../../src/server/state-snapshot.js';
import { nodeDisk, type Disk } from '../../../src/storage/disk.js';
import { openLevelEngine } from '../../../src/storage/level-engine.js';
import { inprocOptions } from '../../helpers/inproc-cluster.js';
import { MemHub } from '../../helpers/mem-hub.js';

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const dirs: string[] = [];
const servers: EtcdServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const put = (k: string) => ({ key: Buffer.from(k), value: Buffer.from('v'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}

async function* replay(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

describe('snapshots that overlap on a slow follower', () => {
  it('installs a snapshot received while the previous one was being installed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-snap-overlap-'));
    dirs.push(dir);
    // The leader's side: a member of its own, whose state is dumped twice.
    const leaderUrl = 'http://127.0.0.1:23001';
    const base = inprocOptions(new MemHub(), dir, 0);
    const m1 = await EtcdServer.start({ ...base, members: [{ id: base.memberId, name: '', peerURLs: [leaderUrl], clientURLs: [], isLearner: false }], transport: undefined });
    servers.push(m1);
    await until(() => m1.isLeader());
    const added = await m1.memberAdd(['http://127.0.0.1:23002'], true);
    const dumps: { index: bigint; chunks: Uint8Array[]; rev: bigint }[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10; i++) await m1.put(put(`k${round}.${i}`));
      dumps.push({ index: m1.applied(), chunks: await collect(dumpState(m1.backend)), rev: m1.kv.rev() });
    }
    // The follower: its peer handler in the test's hands, its first install held at a gate.
    let handler: PeerHandler | undefined;
    const transport = (args: { handler: PeerHandler }): Transport => {
      handler = args.handler;
      return { start: async () => undefined, addPeer: () => undefined, updatePeer: () => undefined, removePeer: () => undefined, send: () => undefined, sendSnapshot: () => undefined, request: () => Promise.reject(new Error('no peers')), activeSince: () => undefined, stop: async () => undefined };
    };
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    let held = 0;
    const disk: Disk = {
      ...nodeDisk,
      readFile: async (file) => {
        if (file.endsWith('.state') && held++ === 0) await gate;
        return nodeDisk.readFile(file);
      },
    };
    const fatals: unknown[] = [];
    const o2 = inprocOptions(new MemHub(), dir, 1);
    const m2 = await EtcdServer.start({ ...o2, memberId: added.member.id, members: added.members, join: true, initialClusterState: 'existing', storage: { engine: openLevelEngine, disk }, transport, onFatal: (e) => void fatals.push(e) });
    servers.push(m2);
    const h = handler as PeerHandler;
    const snap = (d: { index: bigint }): Message =>
      message({ type: MessageType.Snap, from: m1.memberId, to: m2.memberId, term: m1.term(), snapshot: { data: new Uint8Array(0), metadata: { index: d.index, term: m1.term(), confState: { voters: [m1.memberId], learners: [m2.memberId] } } } });
    const [a, b] = dumps as [(typeof dumps)[0], (typeof dumps)[0]];
    await h.receiveSnapshot(snap(a), replay(a.chunks));
    h.process(snap(a));
    await until(() => held === 1); // the first install reads its file
    await h.receiveSnapshot(snap(b), replay(b.chunks));
    h.process(snap(b));
    open();
    await until(() => fatals.length > 0 || m2.kv.rev() === b.rev);
    expect(fatals.map(String)).toEqual([]);
    expect(m2.kv.rev()).toBe(b.rev);
  });
});
