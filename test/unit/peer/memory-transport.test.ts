/**
 * The in-process transport keeps the gRPC transport's contract: ordered batched delivery through
 * the wire codec, identity refusals, a bounded queue, broken links reported, snapshots and
 * requests with the same outcomes, and partitions through the hub.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { logOnceSubjectsMax } from '../../../src/base/log-once.js';
import { createMemoryHub, type MemoryHub, type MemoryTransport } from '../../../src/peer/memory-transport.js';
import { PeerListenError, PeerRequestError, PeerUnavailableError, type TransportLimits } from '../../../src/peer/transport.js';
import { message, MessageType } from '../../../src/raft/types.js';
import { app, fullMessage, heartbeat, logged, testMember, until, type TestMember } from './harness.js';

const cluster = 0x1c45a069f3a1d796n;
let hub: MemoryHub;
const open: MemoryTransport[] = [];
const url = (id: bigint): string[] => [`http://127.0.0.1:${20000 + Number(id % 1000n)}`];

async function node(m: TestMember, opts: TransportLimits & { clusterId?: bigint } = {}): Promise<MemoryTransport> {
  const t = hub.transport({ ...opts, memberId: m.id, clusterId: opts.clusterId ?? cluster, listenPeerUrls: url(m.id), logger: m.log.logger, handler: m.handler });
  open.push(t);
  await t.start();
  return t;
}

async function pair(aOpts: TransportLimits & { clusterId?: bigint } = {}, bOpts: TransportLimits & { clusterId?: bigint } = {}): Promise<[TestMember, TestMember, MemoryTransport, MemoryTransport]> {
  const a = testMember(1n);
  const b = testMember(2n);
  const ta = await node(a, aOpts);
  const tb = await node(b, bOpts);
  ta.addPeer(2n, url(2n));
  tb.addPeer(1n, url(1n));
  return [a, b, ta, tb];
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.stop()));
});

describe('memory transport', () => {
  hub = createMemoryHub();
  afterEach(() => {
    hub = createMemoryHub();
  });

  it('logs a send to an unknown member once per streak, remembering a bounded number of such members', async () => {
    const a = testMember(1n);
    const ta = await node(a);
    const warn = 'ignored message send request; unknown remote peer target';
    ta.send([heartbeat(1n, 99n, 1n)]);
    ta.send([heartbeat(1n, 99n, 2n)]);
    expect(logged(a, warn)).toBe(1);
    // A stream of distinct bogus targets: each logs once, and the memory of them is bounded
    // (it was an ever-growing Set), so member 99 has been forgotten and logs again.
    for (let i = 0; i < logOnceSubjectsMax; i++) ta.send([heartbeat(1n, 1000n + BigInt(i), 1n)]);
    expect(logged(a, warn)).toBe(1 + logOnceSubjectsMax);
    ta.send([heartbeat(1n, 99n, 3n)]);
    expect(logged(a, warn)).toBe(2 + logOnceSubjectsMax);
  });

  it('delivers in order, later than send(), with every field through the codec', async () => {
    const [a, b, ta] = await pair();
    const msgs = Array.from({ length: 500 }, (_, i) => app(1n, 2n, BigInt(i + 1)));
    ta.send(msgs);
    expect(b.handler.received).toEqual([]); // never inside send()
    await until('delivered', () => b.handler.received.length === 500);
    expect(b.handler.received).toEqual(msgs);
    expect(b.handler.received[0]).not.toBe(msgs[0]); // a copy
    expect(ta.activeSince(2n)).toBeInstanceOf(Date);
    expect(a.handler.unreachable).toEqual([]);
  });

  it('relays a proposal, a ReadIndex and a TransferLeader with their first sender kept, and nothing else', async () => {
    // Member 3 sent these to 1 (which it took for the leader); 1 relays them to 2, as etcd's
    // stepFollower does. Regression: send() asserted that every message was 1's own, which
    // killed the raft loop of a former leader (issue 14).
    const [, b, ta, tb] = await pair();
    await node(testMember(3n));
    ta.addPeer(3n, url(3n));
    tb.addPeer(3n, url(3n));
    const relayed = [
      message({ type: MessageType.Prop, from: 3n, to: 2n, entries: [{ term: 0n, index: 0n, type: 0, data: new Uint8Array([7]) }] }),
      message({ type: MessageType.ReadIndex, from: 3n, to: 2n, entries: [{ term: 0n, index: 0n, type: 0, data: new Uint8Array([1, 2]) }] }),
      message({ type: MessageType.TransferLeader, from: 3n, to: 2n }),
    ];
    ta.send(relayed);
    await until('relayed', () => b.handler.received.length === 3);
    expect(b.handler.received).toEqual(relayed);
    // Any other type must be the sender's own; and a relay on behalf of an unknown member is dropped.
    expect(() => ta.send([heartbeat(3n, 2n, 1n)])).toThrow(/neither ours nor relayable/);
    ta.send([message({ type: MessageType.Prop, from: 9n, to: 2n }), heartbeat(1n, 2n, 5n)]);
    await until('heartbeat', () => b.handler.received.length === 4);
    expect(b.handler.received[3]?.type).toBe(MessageType.Heartbeat);
  });

  it('round-trips 64-bit ids and full messages', async () => {
    const a = testMember(0xfedcba9876543210n);
    const b = testMember(0xffffffffffffffffn);
    const ta = await node(a);
    const tb = await node(b);
    ta.addPeer(b.id, url(b.id));
    tb.addPeer(a.id, url(a.id));
    const full = fullMessage();
    ta.send([full]);
    await until('delivered', () => b.handler.received.length === 1);
    expect(b.handler.received).toEqual([full]);
  });

  it('three members: each sender\'s order kept', async () => {
    const ms = [testMember(11n), testMember(12n), testMember(13n)];
    const ts = await Promise.all(ms.map((m) => node(m)));
    ms.forEach((_, i) => ms.forEach((o, j) => i !== j && ts[i]?.addPeer(o.id, url(o.id))));
    for (let k = 1n; k <= 100n; k++) ms.forEach((m, i) => ts[i]?.send(ms.filter((o) => o !== m).map((o) => heartbeat(m.id, o.id, k))));
    await until('delivered', () => ms.every((m) => m.handler.received.length === 200));
    for (const m of ms) for (const o of ms) if (o !== m) expect(m.handler.received.filter((x) => x.from === o.id).map((x) => x.commit)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));
  });

  it('reports a stopped peer unreachable without traffic, and reconnects when it restarts', async () => {
    const [a, , ta, tb] = await pair();
    ta.send([heartbeat(1n, 2n, 1n)]);
    await until('active', () => ta.activeSince(2n) !== undefined);
    await tb.stop();
    await until('unreachable', () => a.handler.unreachable.includes(2n));
    expect(ta.activeSince(2n)).toBeUndefined();
    const b2 = testMember(2n);
    const tb2 = await node(b2);
    tb2.addPeer(1n, url(1n));
    expect(ta.activeSince(2n)).toBeInstanceOf(Date);
    ta.send([heartbeat(1n, 2n, 2n)]);
    await until('delivered', () => b2.handler.received.length === 1);
  });

  it('refuses another cluster, an unknown member and a removed one; logs once per streak', async () => {
    const [a, b, ta, tb] = await pair({}, { clusterId: 0xbbbbn });
    for (let i = 0; i < 5; i++) {
      ta.send([heartbeat(1n, 2n, BigInt(i))]);
      await new Promise((r) => setImmediate(r));
    }
    await until('flushed', () => ta.queuedMessages(2n) === 0);
    expect(b.handler.received).toEqual([]);
    expect(logged(a, 'peer refused our stream')).toBe(1);
    expect(logged(b, 'refused a peer call')).toBe(1);
    expect(b.log.lines.join()).toContain('request cluster ID mismatch');
    const err = await ta.request(2n, 'x', new Uint8Array(0), 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerUnavailableError);
    expect((err as PeerUnavailableError).refused).toBe(true);
    await tb.stop();

    const c = testMember(3n);
    const tc = await node(c);
    ta.addPeer(3n, url(3n)); // c does not know a
    ta.send([heartbeat(1n, 3n, 1n)]);
    await until('flushed', () => ta.queuedMessages(3n) === 0);
    expect(c.handler.received).toEqual([]);
    expect(c.log.lines.join()).toContain('error sender not found');
    // The server is told who it refused as unknown (it looks for a member it has not applied yet).
    expect(c.handler.unknownPeers).toContain(1n);
    expect(b.handler.unknownPeers).toEqual([]); // a cluster mismatch is not an unknown member
    tc.addPeer(1n, url(1n));
    ta.send([heartbeat(1n, 3n, 2n)]);
    await until('accepted', () => c.handler.received.length === 1);
    tc.removePeer(1n);
    await until('removal reported without traffic', () => a.handler.unreachable.includes(3n));
    expect(ta.activeSince(3n)).toBeUndefined();
    ta.send([heartbeat(1n, 3n, 3n)]);
    await until('flushed', () => ta.queuedMessages(3n) === 0);
    expect(c.handler.received.map((m) => m.commit)).toEqual([2n]);
    expect(c.log.lines.join()).toContain('the member has been permanently removed from the cluster');
  });

  it('refuses a message addressed to another member (a URL that leads elsewhere)', async () => {
    const [a, b, ta] = await pair();
    ta.addPeer(3n, url(2n));
    ta.send([heartbeat(1n, 3n, 1n)]);
    await until('flushed', () => ta.queuedMessages(3n) === 0);
    expect(b.handler.received).toEqual([]);
    expect(b.log.lines.join()).toContain('to field mismatch');
    expect(logged(a, 'peer refused our stream')).toBe(1);
  });

  it('bounds the queue: the newest messages are dropped and the peer reported unreachable', async () => {
    const [a, b, ta] = await pair({ queueMessagesMax: 10 });
    ta.send(Array.from({ length: 25 }, (_, i) => heartbeat(1n, 2n, BigInt(i + 1))));
    expect(ta.queuedMessages(2n)).toBe(10);
    await until('delivered', () => b.handler.received.length === 10);
    await until('reported', () => a.handler.unreachable.includes(2n));
    expect(b.handler.received.map((m) => m.commit)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i + 1)));
  });

  it('partitions through the hub: a blocked link drops and reports, heal restores it', async () => {
    const [a, b, ta] = await pair();
    ta.send([heartbeat(1n, 2n, 1n)]);
    await until('delivered', () => b.handler.received.length === 1);
    hub.isolate(2n, [1n]);
    await until('unreachable', () => a.handler.unreachable.includes(2n));
    ta.send([heartbeat(1n, 2n, 2n)]);
    await until('flushed', () => ta.queuedMessages(2n) === 0);
    await expect(ta.request(2n, 'x', new Uint8Array(0), 1000)).rejects.toBeInstanceOf(PeerUnavailableError);
    hub.heal();
    ta.send([heartbeat(1n, 2n, 3n)]);
    await until('delivered after heal', () => b.handler.received.length === 2);
    expect(b.handler.received.map((m) => m.commit)).toEqual([1n, 3n]);
  });

  it('streams a snapshot in chunks, acknowledged after receiveSnapshot and process; failures report false', async () => {
    const [a, b, ta] = await pair({ snapshotChunkBytes: 1 << 20 });
    const size = 3 * 1024 * 1024 + 5;
    const blob = Buffer.alloc(size, 7);
    const sizes: number[] = [];
    b.handler.receiveSnapshotImpl = async (_m, data) => {
      for await (const c of data) sizes.push(c.length);
    };
    const snap = message({ type: MessageType.Snap, from: 1n, to: 2n, term: 3n, snapshot: { data: new Uint8Array(0), metadata: { index: 9n, term: 3n, confState: { voters: [1n, 2n], learners: [] } } } });
    ta.sendSnapshot(snap, async function* () {
      yield blob;
    });
    await until('reported', () => a.handler.snapshots.length === 1);
    expect(a.handler.snapshots).toEqual([[2n, true]]);
    expect(sizes).toEqual([1 << 20, 1 << 20, 1 << 20, 5]);
    expect(b.handler.events).toEqual(['receiveSnapshot:start', 'receiveSnapshot:done', `process:${MessageType.Snap}`]);
    b.handler.receiveSnapshotImpl = () => Promise.reject(new Error('disk full'));
    ta.sendSnapshot(snap, async function* () {
      yield blob;
    });
    await until('reported false', () => a.handler.snapshots.length === 2);
    expect(a.handler.snapshots[1]).toEqual([2n, false]);
    expect(b.handler.received).toHaveLength(1);
  });

  it('answers requests, carries errors back, times out', async () => {
    const [, b, ta] = await pair();
    b.handler.onRequestImpl = async (from, kind, body) => {
      if (kind === 'fail') throw new Error('etcdserver: not leader');
      if (kind === 'hang') return new Promise<Uint8Array>(() => undefined);
      return new Uint8Array([Number(from), ...body]);
    };
    expect(await ta.request(2n, 'echo', new Uint8Array([5]), 1000)).toEqual(new Uint8Array([1, 5]));
    const err = await ta.request(2n, 'fail', new Uint8Array(0), 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerRequestError);
    expect((err as Error).message).toBe('etcdserver: not leader');
    await expect(ta.request(2n, 'hang', new Uint8Array(0), 50)).rejects.toBeInstanceOf(PeerUnavailableError);
  });

  it('claims URLs like ports; stop() is idempotent and reports cut snapshots false once', async () => {
    const [a, b, ta] = await pair();
    await expect(node(testMember(1n))).rejects.toBeInstanceOf(PeerListenError);
    b.handler.receiveSnapshotImpl = () => new Promise<void>(() => undefined);
    const snap = message({ type: MessageType.Snap, from: 1n, to: 2n, snapshot: { data: new Uint8Array(0), metadata: { index: 1n, term: 1n, confState: { voters: [1n], learners: [] } } } });
    ta.sendSnapshot(snap, async function* () {
      yield new Uint8Array(1);
    });
    await until('receiving', () => b.handler.events.includes('receiveSnapshot:start'));
    await Promise.all([ta.stop(), ta.stop()]);
    await ta.stop();
    expect(a.handler.snapshots).toEqual([[2n, false]]);
    ta.send([heartbeat(1n, 2n, 1n)]);
    expect(ta.activeSince(2n)).toBeUndefined();
  });

  it('a snapshot stream breaks on both sides when either transport stops, even while a read of the sender\'s store waits', async () => {
    // The receiver stops mid-stream: the sender reports false (its reportSnapshot is never lost).
    const [a, b, ta, tb] = await pair();
    b.handler.receiveSnapshotImpl = () => new Promise<void>(() => undefined);
    const snap = message({ type: MessageType.Snap, from: 1n, to: 2n, snapshot: { data: new Uint8Array(0), metadata: { index: 1n, term: 1n, confState: { voters: [1n], learners: [] } } } });
    ta.sendSnapshot(snap, async function* () {
      yield new Uint8Array(1);
    });
    await until('receiving', () => b.handler.events.includes('receiveSnapshot:start'));
    await tb.stop();
    await until('reported false', () => a.handler.snapshots.length === 1);
    expect(a.handler.snapshots).toEqual([[2n, false]]);
    await ta.stop();

    // The sender stops while the receiver waits for a chunk that its store never yields.
    const [c, d, tc] = await pair();
    let failed: unknown;
    d.handler.receiveSnapshotImpl = async (_m, data) => {
      try {
        for await (const _ of data) void _;
      } catch (e) {
        failed = e;
        throw e;
      }
    };
    tc.sendSnapshot(snap, async function* () {
      yield new Uint8Array(1);
      await new Promise<void>(() => undefined);
    });
    await until('receiving', () => d.handler.events.includes('receiveSnapshot:start'));
    await tc.stop();
    await until('receiver failed', () => failed !== undefined);
    expect((failed as Error).message).toMatch(/ended before its last chunk/);
    expect(d.handler.received).toEqual([]);
    expect(c.handler.snapshots).toEqual([[2n, false]]);
  });

  it('routes every frame, request, answer and snapshot call through the hub\'s route (the simulator\'s network)', async () => {
    const routed: string[] = [];
    hub = createMemoryHub({ route: (from, to, kind, deliver) => {
      routed.push(`${from}>${to}:${kind}`);
      deliver();
      if (kind === 'frame') deliver(); // duplicated
    } });
    const [, b, ta] = await pair();
    b.handler.onRequestImpl = async () => new Uint8Array([1]);
    ta.send([app(1n, 2n, 1n)]);
    await until('delivered twice', () => b.handler.received.length === 2);
    expect(await ta.request(2n, 'x', new Uint8Array(0), 1000)).toEqual(new Uint8Array([1]));
    expect(routed).toEqual(['1>2:frame', '1>2:request', '2>1:answer']);
  });

  it('answers the peer Members call through the hub, without a socket (the removed-member check uses it)', async () => {
    const [, b, ta] = await pair();
    Object.assign(b.handler, { clusterInfo: () => new Uint8Array([7, 7]) });
    expect(await ta.fetchMembers(url(2n)[0] as string, 1000)).toEqual(new Uint8Array([7, 7]));
    await expect(ta.fetchMembers('http://127.0.0.1:1', 1000)).rejects.toBeInstanceOf(PeerUnavailableError);
    hub.block(1n, 2n);
    await expect(ta.fetchMembers(url(2n)[0] as string, 1000)).rejects.toBeInstanceOf(PeerUnavailableError);
  });
});
