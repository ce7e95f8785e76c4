/**
 * A member that has not applied the conf change adding another member refused it ("error sender
 * not found") for good — and when the new member leads, that entry can only come from it: the
 * lagging member stayed stuck (whole-member simulator, seed 1651: a learner cut off while a voter
 * joined, which later led). Now a call from an unknown sender of our cluster makes the member
 * ask its known peers for the member list and add the members it lacks as transport peers (as
 * etcd's rafthttp adds a remote), bounded in rate, and drop them if they turn out removed.
 */
import { describe, expect, it } from 'vitest';
import { createTestLogger } from '../../../src/base/logger.js';
import type { Runtime } from '../../../src/base/runtime.js';
import { encodeClusterInfo } from '../../../src/membership/cluster-info.js';
import { MemberStore, type Member } from '../../../src/membership/member-store.js';
import type { Transport } from '../../../src/peer/transport.js';
import { RemotePeers, unknownPeerLookupIntervalMs } from '../../../src/server/remote-peers.js';

const cluster = 0xc1n;
const member = (id: bigint, learner = false): Member => ({ id, name: `m${id}`, peerURLs: [`http://m${id}:2380`], clientURLs: [], isLearner: learner });

function setup(known: Member[], theirs: { members: Member[]; removed: bigint[]; clusterId?: bigint }) {
  let now = 0;
  const soon: (() => void)[] = [];
  const rt = { now: () => now, clock: { nowMs: () => now }, soon: (fn: () => void) => void soon.push(fn) } as unknown as Runtime;
  const added: [bigint, string[]][] = [];
  const removed: bigint[] = [];
  const asked: string[] = [];
  const transport = {
    addPeer: (id: bigint, urls: string[]) => void added.push([id, urls]),
    removePeer: (id: bigint) => void removed.push(id),
    fetchMembers: (url: string) => {
      asked.push(url);
      return Promise.resolve(encodeClusterInfo({ clusterId: theirs.clusterId ?? cluster, members: theirs.members, removed: theirs.removed }));
    },
  } as unknown as Transport;
  let store = new MemberStore(known);
  const remotes = new RemotePeers({
    rt,
    memberId: 2n,
    clusterId: cluster,
    logger: createTestLogger('debug').logger,
    peerTls: null,
    transport: () => transport,
    members: () => store,
    stopped: () => false,
  });
  const drain = async (): Promise<void> => {
    while (soon.length > 0) (soon.shift() as () => void)();
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { remotes, added, removed, asked, drain, advance: (ms: number) => void (now += ms), setStore: (s: MemberStore) => void (store = s) };
}

describe('remote peers (members this member has not applied yet)', () => {
  it('adds the unknown sender a known peer lists, so its next call is accepted and answers reach it', async () => {
    // m2 (a learner) knows m1 and itself; m3 joined meanwhile and leads.
    const t = setup([member(1n), member(2n, true)], { members: [member(1n), member(2n, true), member(3n)], removed: [] });
    t.remotes.onUnknownPeer(3n);
    expect(t.added).toEqual([]); // never inside the transport's call
    await t.drain();
    expect(t.asked).toEqual(['http://m1:2380']);
    expect(t.added).toEqual([[3n, ['http://m3:2380']]]);
    expect(t.remotes.isRemote(3n)).toBe(true);
  });

  it('asks at most once per interval, whatever the sender (forged ids cost one member list per interval)', async () => {
    const t = setup([member(1n), member(2n)], { members: [member(1n), member(2n)], removed: [] });
    for (let i = 0; i < 100; i++) t.remotes.onUnknownPeer(BigInt(1000 + i));
    await t.drain();
    expect(t.asked).toHaveLength(1);
    expect(t.added).toEqual([]); // nobody vouches for them
    t.advance(unknownPeerLookupIntervalMs);
    t.remotes.onUnknownPeer(7n);
    await t.drain();
    expect(t.asked).toHaveLength(2);
  });

  it('adds nobody removed, nobody of another cluster', async () => {
    const a = setup([member(1n), member(2n)], { members: [member(1n), member(2n), member(3n)], removed: [3n] });
    a.remotes.onUnknownPeer(3n);
    await a.drain();
    expect(a.added).toEqual([]);
    const b = setup([member(1n), member(2n)], { members: [member(1n), member(2n), member(3n)], removed: [], clusterId: 0xbadn });
    b.remotes.onUnknownPeer(3n);
    await b.drain();
    expect(b.added).toEqual([]);
  });

  it('a remote becomes an ordinary peer once its addition applies, and goes if its removal applies', async () => {
    const t = setup([member(1n), member(2n)], { members: [member(1n), member(2n), member(3n), member(4n)], removed: [] });
    t.remotes.onUnknownPeer(3n);
    await t.drain();
    expect(t.added.map(([id]) => id)).toEqual([3n, 4n]);
    t.setStore(new MemberStore([member(1n), member(2n), member(3n)], [4n]));
    t.remotes.afterMembersChanged();
    expect(t.remotes.isRemote(3n)).toBe(false);
    expect(t.remotes.isRemote(4n)).toBe(false);
    expect(t.removed).toEqual([4n]);
  });
});
