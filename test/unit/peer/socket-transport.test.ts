/**
 * The gRPC peer transport on loopback ports: ordered batched delivery, exact message fields,
 * reconnect after a restart, refusal of foreign clusters and unknown/removed members, the
 * bounded queue under a stalled peer, snapshots, requests, and a clean stop.
 * Waits are conditions with deadlines; nothing sleeps for a fixed time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { logOnceSubjectsMax } from '../../../src/base/log-once.js';
import { SocketTransport } from '../../../src/peer/socket-transport.js';
import { PeerListenError, PeerRequestError, PeerUnavailableError, type TransportLimits } from '../../../src/peer/transport.js';
import { message, MessageType, type Message } from '../../../src/raft/types.js';
import { freePort } from '../../helpers/procs.js';
import { app, fullMessage, heartbeat, logged, stallingProxy, testMember, until, type TestMember } from './harness.js';

const fast: TransportLimits = { backoffBaseMs: 20, backoffMaxMs: 200, dialTimeoutMs: 2000 };
const cluster = 0x1c45a069f3a1d796n;
const open: SocketTransport[] = [];

async function node(m: TestMember, port: number, opts: TransportLimits & { clusterId?: bigint } = {}): Promise<SocketTransport> {
  const t = new SocketTransport({
    ...fast,
    ...opts,
    memberId: m.id,
    clusterId: opts.clusterId ?? cluster,
    listenPeerUrls: [`http://127.0.0.1:${port}`],
    logger: m.log.logger,
    handler: m.handler,
    random: m.rand,
  });
  open.push(t);
  await t.start();
  return t;
}

const url = (port: number): string[] => [`http://127.0.0.1:${port}`];

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.stop()));
});

describe('gRPC peer transport', () => {
  it('logs a send to an unknown member once per streak, remembering a bounded number of such members', async () => {
    const a = testMember(1n);
    const ta = await node(a, await freePort());
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

  it('delivers messages in order, batched on one stream, and counts the stream active', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = await node(b, pb);
    ta.addPeer(2n, url(pb));
    tb.addPeer(1n, url(pa));
    await until('stream active', () => ta.activeSince(2n) !== undefined);
    expect(ta.activeSince(2n)).toBeInstanceOf(Date);
    const total = 2000;
    for (let i = 1; i <= total; i += 100) ta.send(Array.from({ length: 100 }, (_, k) => app(1n, 2n, BigInt(i + k))));
    await until('all delivered', () => b.handler.received.length === total);
    expect(b.handler.received.map((m) => m.entries[0]?.index)).toEqual(Array.from({ length: total }, (_, i) => BigInt(i + 1)));
    const st = ta.stats(2n);
    expect(st.messagesSent).toBe(total);
    expect(st.framesSent).toBeLessThan(total); // batched: fewer frames than messages
    expect(tb.stats(1n).framesReceived).toBe(st.framesSent);
    expect(a.handler.unreachable).toEqual([]);
  });

  it('round-trips every message field exactly, 64-bit ids included', async () => {
    const big = 0xfedcba9876543210n;
    const a = testMember(big);
    const b = testMember(0xffffffffffffffffn);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = await node(b, pb);
    ta.addPeer(b.id, url(pb));
    tb.addPeer(a.id, url(pa));
    const full = fullMessage(); // from 0xfedcba9876543210, to 0xffffffffffffffff, entries, snapshot metadata, context
    expect(full.from).toBe(a.id);
    const plain = message({ type: MessageType.Heartbeat, from: big, to: b.id, context: new Uint8Array([1, 2, 3]) });
    ta.send([full, plain]);
    await until('delivered', () => b.handler.received.length === 2);
    expect(b.handler.received).toEqual([full, plain]);
  });

  it('connects three members pairwise and keeps each sender\'s order', async () => {
    const ms = [testMember(11n), testMember(12n), testMember(13n)];
    const ports = [await freePort(), await freePort(), await freePort()];
    const ts = await Promise.all(ms.map((m, i) => node(m, ports[i] as number)));
    ms.forEach((_, i) => ms.forEach((o, j) => i !== j && ts[i]?.addPeer(o.id, url(ports[j] as number))));
    for (let k = 1n; k <= 300n; k++) ms.forEach((m, i) => ts[i]?.send(ms.filter((o) => o !== m).map((o) => heartbeat(m.id, o.id, k))));
    await until('all delivered', () => ms.every((m) => m.handler.received.length === 600));
    for (const m of ms) {
      for (const o of ms) {
        if (o === m) continue;
        const fromO = m.handler.received.filter((x) => x.from === o.id).map((x) => x.commit);
        expect(fromO).toEqual(Array.from({ length: 300 }, (_, i) => BigInt(i + 1)));
      }
    }
  });

  it('relays a proposal, a ReadIndex and a TransferLeader with their first sender kept (issue 14 regression)', async () => {
    // Member 13 sent these to 11 (which it took for the leader); 11 relays them to 12, as etcd's
    // stepFollower does. Before the fix send() asserted that every message was 11's own, and the
    // raft loop of a former leader died on it.
    const ms = [testMember(11n), testMember(12n), testMember(13n)];
    const ports = [await freePort(), await freePort(), await freePort()];
    const ts = await Promise.all(ms.map((m, i) => node(m, ports[i] as number)));
    ms.forEach((_, i) => ms.forEach((o, j) => i !== j && ts[i]?.addPeer(o.id, url(ports[j] as number))));
    const [ta] = ts as [SocketTransport];
    const b = ms[1] as TestMember;
    const entry = { term: 0n, index: 0n, type: 0, data: new Uint8Array([7]) };
    const relayed = [
      message({ type: MessageType.Prop, from: 13n, to: 12n, entries: [entry] }),
      message({ type: MessageType.ReadIndex, from: 13n, to: 12n, entries: [entry] }),
      message({ type: MessageType.TransferLeader, from: 13n, to: 12n }),
    ];
    ta.send(relayed);
    await until('relayed', () => b.handler.received.length === 3);
    expect(b.handler.received).toEqual(relayed);
    expect(() => ta.send([heartbeat(13n, 12n, 1n)])).toThrow(/neither ours nor relayable/);
    // A relay on behalf of a member the receiver does not know is dropped (and logged).
    ta.send([message({ type: MessageType.Prop, from: 99n, to: 12n }), heartbeat(11n, 12n, 5n)]);
    await until('heartbeat', () => b.handler.received.length === 4);
    expect(b.handler.received[3]?.type).toBe(MessageType.Heartbeat);
  });

  it('reports a broken stream, reconnects with backoff when the peer restarts on the same port', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = await node(b, pb);
    ta.addPeer(2n, url(pb));
    tb.addPeer(1n, url(pa));
    ta.send([heartbeat(1n, 2n, 1n)]);
    await until('first delivered', () => b.handler.received.length === 1);
    await tb.stop();
    await until('unreachable reported', () => a.handler.unreachable.includes(2n));
    await until('inactive', () => ta.activeSince(2n) === undefined);
    const retriesBefore = a.rand.calls;
    await until('retrying', () => a.rand.calls >= retriesBefore + 2);
    const b2 = testMember(2n);
    const tb2 = await node(b2, pb);
    tb2.addPeer(1n, url(pa));
    await until('active again', () => ta.activeSince(2n) !== undefined);
    ta.send([heartbeat(1n, 2n, 2n), heartbeat(1n, 2n, 3n)]);
    await until('delivered after restart', () => b2.handler.received.length === 2);
    expect(b2.handler.received.map((m) => m.commit)).toEqual([2n, 3n]);
    expect(logged(a, 'peer became inactive (message send to peer failed)')).toBe(1);
  });

  it('reports a peer that cannot be dialled only while messages wait for it, logging the failure once', async () => {
    const a = testMember(1n);
    const ta = await node(a, await freePort());
    ta.addPeer(3n, url(await freePort())); // nobody listens there
    await until('several failed dials', () => a.rand.calls >= 3);
    expect(a.handler.unreachable).toEqual([]); // nothing waited: no report
    ta.send([heartbeat(1n, 3n, 1n), heartbeat(1n, 3n, 2n)]);
    await until('reported', () => a.handler.unreachable.includes(3n));
    await until('queue dropped', () => ta.queuedMessages(3n) === 0);
    expect(a.handler.unreachable).toEqual([3n]); // once for the two messages
    expect(logged(a, 'failed to reach peer')).toBe(1);
    expect(ta.activeSince(3n)).toBeUndefined();
  });

  it('drops a single message larger than the frame limit and reports the peer', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const limits: TransportLimits = { frameBytesMax: 64 * 1024, batchBytesMax: 32 * 1024, snapshotChunkBytes: 16 * 1024 };
    const ta = await node(a, pa, limits);
    const tb = await node(b, pb, limits);
    ta.addPeer(2n, url(pb));
    tb.addPeer(1n, url(pa));
    ta.send([app(1n, 2n, 1n, 100), app(1n, 2n, 2n, 100 * 1024), app(1n, 2n, 3n, 40 * 1024)]);
    await until('two delivered', () => b.handler.received.length === 2);
    expect(b.handler.received.map((m) => m.entries[0]?.index)).toEqual([1n, 3n]);
    await until('reported', () => a.handler.unreachable.includes(2n));
    expect(logged(a, 'dropped a Raft message larger than the peer frame limit')).toBe(1);
  });

  it('listens on every peer URL, and dials a peer\'s next URL when one is dead', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb1, pb2, dead] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = new SocketTransport({ ...fast, memberId: 2n, clusterId: cluster, listenPeerUrls: [`http://127.0.0.1:${pb1}`, `http://127.0.0.1:${pb2}`], logger: b.log.logger, handler: b.handler });
    open.push(tb);
    await tb.start();
    expect(tb.ports()).toEqual([pb1, pb2]);
    tb.addPeer(1n, url(pa));
    ta.addPeer(2n, [`http://127.0.0.1:${dead}`, `http://127.0.0.1:${pb2}`]);
    await until('active through the second URL', () => ta.activeSince(2n) !== undefined);
    ta.send([heartbeat(1n, 2n, 1n)]);
    await until('delivered', () => b.handler.received.length === 1);
    ta.updatePeer(2n, url(pb1));
    await until('active again after the update', () => ta.activeSince(2n) !== undefined);
    ta.send([heartbeat(1n, 2n, 2n)]);
    await until('delivered through the new URL', () => b.handler.received.length === 2);
  });

  it('refuses a member of another cluster: nothing delivered, refusal logged once per streak', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa, { clusterId: 0xaaaan });
    const tb = await node(b, pb, { clusterId: 0xbbbbn });
    ta.addPeer(2n, url(pb));
    tb.addPeer(1n, url(pa));
    await until('several refused attempts', () => a.rand.calls >= 4);
    ta.send([heartbeat(1n, 2n, 1n)]);
    await until('more refused attempts', () => a.rand.calls >= 6);
    expect(b.handler.received).toEqual([]);
    expect(ta.activeSince(2n)).toBeUndefined();
    expect(logged(a, 'peer refused our stream')).toBe(1);
    expect(a.log.lines.find((l) => l.includes('peer refused our stream'))).toContain('request cluster ID mismatch');
    expect(logged(b, 'refused a peer call')).toBe(1);
    const err = await ta.request(2n, 'x', new Uint8Array(0), 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerUnavailableError);
    expect((err as PeerUnavailableError).refused).toBe(true);
    expect((err as Error).message).toContain('request cluster ID mismatch');
  });

  it('refuses an unknown member, and a member after removePeer', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = await node(b, pb);
    ta.addPeer(2n, url(pb)); // b does not know a
    await until('refused attempts', () => a.rand.calls >= 3);
    ta.send([heartbeat(1n, 2n, 1n)]);
    await until('more refused attempts', () => a.rand.calls >= 5);
    expect(b.handler.received).toEqual([]);
    expect(b.log.lines.some((l) => l.includes('error sender not found'))).toBe(true);
    expect(b.handler.unknownPeers).toContain(1n); // told, to look for a member it has not applied yet
    tb.addPeer(1n, url(pa));
    await until('accepted once known', () => ta.activeSince(2n) !== undefined);
    ta.send([heartbeat(1n, 2n, 2n)]);
    await until('delivered', () => b.handler.received.length === 1);
    tb.removePeer(1n);
    await until('stream closed by removal', () => ta.activeSince(2n) === undefined);
    await until('broken stream reported', () => a.handler.unreachable.includes(2n));
    const calls = a.rand.calls;
    await until('refused again', () => a.rand.calls >= calls + 2);
    ta.send([heartbeat(1n, 2n, 3n)]);
    await until('still refused', () => a.rand.calls >= calls + 4);
    expect(b.handler.received.map((m) => m.commit)).toEqual([2n]);
    expect(b.log.lines.some((l) => l.includes('the member has been permanently removed from the cluster'))).toBe(true);
  });

  it('refuses a call addressed to another member (a peer URL that leads elsewhere)', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = await node(b, pb);
    tb.addPeer(1n, url(pa));
    ta.addPeer(3n, url(pb)); // member 3's URL is wrong: b answers there
    ta.send([heartbeat(1n, 3n, 1n)]);
    await until('refused', () => b.log.lines.some((l) => l.includes('to field mismatch')) && a.rand.calls >= 2);
    expect(b.handler.received).toEqual([]);
    expect(ta.activeSince(3n)).toBeUndefined();
  });

  it('bounds the queue under a stalled peer: drops new messages, reports unreachable, then recovers', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const limits: TransportLimits = { queueMessagesMax: 50, queueBytesMax: 1 << 20, batchBytesMax: 64 * 1024, keepaliveMs: 600_000 };
    const ta = await node(a, pa, limits);
    await node(b, pb, limits).then((tb) => tb.addPeer(1n, url(pa)));
    const proxy = await stallingProxy(pb);
    try {
      ta.addPeer(2n, url(proxy.port));
      await until('active', () => ta.activeSince(2n) !== undefined);
      proxy.stall();
      let sent = 0;
      for (let i = 1; i <= 5000 && a.handler.unreachable.length === 0; i++) {
        ta.send([app(1n, 2n, BigInt(i), 16 * 1024)]);
        sent = i;
        await new Promise((r) => setImmediate(r));
      }
      await until('overflow reported', () => a.handler.unreachable.includes(2n));
      // The stall holds: HTTP/2 flow control stops the writes, nothing more leaves the queue.
      const sentBefore = ta.stats(2n).messagesSent;
      for (let i = 0; i < 300; i++) await new Promise((r) => setImmediate(r));
      expect(ta.stats(2n).messagesSent).toBe(sentBefore);
      expect(ta.stats(2n).messagesSent).toBeLessThan(sent);
      expect(ta.queuedMessages(2n)).toBeLessThanOrEqual(50);
      // Heartbeats do not pile up: still bounded.
      for (let i = 0; i < 500; i++) ta.send([heartbeat(1n, 2n, BigInt(i))]);
      expect(ta.queuedMessages(2n)).toBeLessThanOrEqual(50);
      expect(ta.stats(2n).dropped).toBeGreaterThan(0);
      expect(logged(a, 'dropped internal Raft message since sending buffer is full (overloaded network)')).toBe(1);
      proxy.resume();
      await until('queue drained', () => ta.queuedMessages(2n) === 0 && b.handler.received.length > 0);
      const got = b.handler.received.filter((m) => m.type === MessageType.App).map((m) => Number(m.entries[0]?.index));
      // What arrives is in send order, a prefix of what was sent (new messages were dropped).
      expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
      expect(got.length).toBeLessThan(sent);
    } finally {
      await proxy.close();
    }
  });

  it('notices a hung peer through keepalive, reports it unreachable, and recovers when it answers again', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const limits: TransportLimits = { keepaliveMs: 300, keepaliveTimeoutMs: 300 };
    const ta = await node(a, pa, limits);
    const tb = await node(b, pb, limits);
    tb.addPeer(1n, url(pa));
    const proxy = await stallingProxy(pb);
    try {
      ta.addPeer(2n, url(proxy.port));
      await until('active', () => ta.activeSince(2n) !== undefined);
      proxy.stall(); // no traffic at all: only keepalive can tell
      await until('unreachable reported', () => a.handler.unreachable.includes(2n));
      expect(ta.activeSince(2n)).toBeUndefined();
      proxy.resume();
      await until('active again', () => ta.activeSince(2n) !== undefined);
      ta.send([heartbeat(1n, 2n, 9n)]);
      await until('delivered', () => b.handler.received.some((m) => m.commit === 9n));
    } finally {
      await proxy.close();
    }
  });

  it('streams a snapshot of several MiB, acknowledged after receiveSnapshot and process', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa, { snapshotChunkBytes: 256 * 1024 });
    const tb = await node(b, pb);
    ta.addPeer(2n, url(pb));
    tb.addPeer(1n, url(pa));
    const size = 5 * 1024 * 1024 + 123;
    const blob = new Uint8Array(size);
    for (let i = 0; i < size; i++) blob[i] = (i * 7) & 0xff;
    let gotBytes: Buffer | undefined;
    let chunks = 0;
    b.handler.receiveSnapshotImpl = async (_m, data) => {
      const parts: Buffer[] = [];
      for await (const c of data) {
        parts.push(Buffer.from(c));
        chunks++;
      }
      gotBytes = Buffer.concat(parts);
    };
    const snap = message({
      type: MessageType.Snap,
      from: 1n,
      to: 2n,
      term: 3n,
      snapshot: { data: new Uint8Array(0), metadata: { index: 1000n, term: 3n, confState: { voters: [1n, 2n, 0xfedcba9876543210n], learners: [4n] } } },
    });
    async function* data(): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < size; off += 3 * 1024 * 1024) yield blob.subarray(off, off + 3 * 1024 * 1024);
    }
    ta.sendSnapshot(snap, data);
    await until('snapshot reported', () => a.handler.snapshots.length === 1, 60_000);
    expect(a.handler.snapshots).toEqual([[2n, true]]);
    expect(gotBytes?.equals(Buffer.from(blob))).toBe(true);
    expect(chunks).toBe(Math.ceil((3 * 1024 * 1024) / (256 * 1024)) + Math.ceil((size - 3 * 1024 * 1024) / (256 * 1024)));
    expect(b.handler.events).toEqual(['receiveSnapshot:start', 'receiveSnapshot:done', `process:${MessageType.Snap}`]);
    expect(b.handler.received).toEqual([snap]);
  });

  it('reports a snapshot false when receiveSnapshot fails, or the data source throws, and never processes it', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = await node(b, pb);
    ta.addPeer(2n, url(pb));
    tb.addPeer(1n, url(pa));
    b.handler.receiveSnapshotImpl = () => Promise.reject(new Error('disk full'));
    const snap = message({ type: MessageType.Snap, from: 1n, to: 2n, term: 3n, snapshot: { data: new Uint8Array(0), metadata: { index: 5n, term: 3n, confState: { voters: [1n, 2n], learners: [] } } } });
    ta.sendSnapshot(snap, async function* () {
      yield new Uint8Array(10);
    });
    await until('reported', () => a.handler.snapshots.length === 1);
    expect(a.handler.snapshots).toEqual([[2n, false]]);
    expect(a.log.lines.some((l) => l.includes('disk full'))).toBe(true);
    b.handler.receiveSnapshotImpl = async (_m, d) => {
      for await (const _ of d) void _;
    };
    ta.sendSnapshot(snap, async function* () {
      yield new Uint8Array(10);
      throw new Error('source broke');
    });
    await until('reported twice', () => a.handler.snapshots.length === 2);
    expect(a.handler.snapshots[1]).toEqual([2n, false]);
    // The receiver saw a call cut short: its data iterable threw, nothing was processed.
    await until('receiver gave up', () => b.log.lines.some((l) => l.includes('failed to receive database snapshot')));
    expect(b.handler.received).toEqual([]);
    ta.sendSnapshot({ ...snap, to: 9n }, async function* () {});
    await until('unknown peer reported', () => a.handler.snapshots.length === 3);
    expect(a.handler.snapshots[2]).toEqual([9n, false]);
  });

  it('answers requests, carries the peer\'s error back, and times out', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = await node(b, pb);
    ta.addPeer(2n, url(pb));
    tb.addPeer(1n, url(pa));
    b.handler.onRequestImpl = async (from, kind, body) => {
      if (kind === 'fail') throw new Error('etcdserver: not leader');
      if (kind === 'hang') return new Promise<Uint8Array>(() => undefined);
      return new Uint8Array([Number(from), ...Buffer.from(kind), ...body.reverse()]);
    };
    expect(await ta.request(2n, 'echo', new Uint8Array([1, 2, 3]), 5000)).toEqual(new Uint8Array([1, ...Buffer.from('echo'), 3, 2, 1]));
    expect(await ta.request(2n, 'echo', new Uint8Array(0), 5000)).toEqual(new Uint8Array([1, ...Buffer.from('echo')]));
    const err = await ta.request(2n, 'fail', new Uint8Array(0), 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerRequestError);
    expect((err as Error).message).toBe('etcdserver: not leader');
    const slow = await ta.request(2n, 'hang', new Uint8Array(0), 300).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(PeerUnavailableError);
    await expect(ta.request(7n, 'echo', new Uint8Array(0), 1000)).rejects.toBeInstanceOf(PeerUnavailableError);
  });

  it('drops messages to unknown peers, logging once', async () => {
    const a = testMember(1n);
    const ta = await node(a, await freePort());
    ta.send([heartbeat(1n, 5n, 1n), heartbeat(1n, 5n, 2n)]);
    expect(logged(a, 'ignored message send request; unknown remote peer target')).toBe(1);
    expect(() => ta.send([message({ type: MessageType.Snap, from: 1n, to: 5n })])).toThrow(/sendSnapshot/);
  });

  it('fails start() clearly on a taken port and on https without peer TLS material', async () => {
    const a = testMember(1n);
    const port = await freePort();
    await node(a, port);
    const b = testMember(2n);
    const err = await node(b, port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerListenError);
    expect((err as Error).message).toBe(`listen tcp 127.0.0.1:${port}: bind: address already in use`);
    const t = new SocketTransport({ memberId: 3n, clusterId: 1n, listenPeerUrls: ['https://127.0.0.1:1'], logger: b.log.logger, handler: b.handler });
    // etcd's words for an https:// peer URL without --peer-cert-file/--peer-key-file.
    await expect(t.start()).rejects.toThrow('cannot listen on TLS for 127.0.0.1:1: KeyFile and CertFile are not presented');
    await t.stop();
  });

  it('stop() is idempotent, cuts snapshots short (reported false) and leaves no sockets or timers', async () => {
    const a = testMember(1n);
    const b = testMember(2n);
    const [pa, pb] = [await freePort(), await freePort()];
    const ta = await node(a, pa);
    const tb = await node(b, pb);
    ta.addPeer(2n, url(pb));
    tb.addPeer(1n, url(pa));
    ta.addPeer(3n, url(await freePort())); // nobody there: a link in backoff
    await until('active', () => ta.activeSince(2n) !== undefined);
    b.handler.receiveSnapshotImpl = () => new Promise<void>(() => undefined); // never stores
    const snap = message({ type: MessageType.Snap, from: 1n, to: 2n, snapshot: { data: new Uint8Array(0), metadata: { index: 5n, term: 1n, confState: { voters: [1n], learners: [] } } } });
    ta.sendSnapshot(snap, async function* () {
      yield new Uint8Array(100);
    });
    await until('receiver busy', () => b.handler.events.includes('receiveSnapshot:start'));
    await Promise.all([ta.stop(), ta.stop()]);
    await ta.stop();
    expect(a.handler.snapshots).toEqual([[2n, false]]);
    await tb.stop();
    const before = a.handler.unreachable.length;
    ta.send([heartbeat(1n, 2n, 1n)]);
    await until('handles released', () => !process.getActiveResourcesInfo().some((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap'));
    expect(a.handler.unreachable.length).toBe(before);
    expect(a.handler.snapshots).toEqual([[2n, false]]);
  });
});

export type { Message };
