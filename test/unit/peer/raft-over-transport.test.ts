/**
 * Real Raft traffic over each transport: three RawNodes (64-bit ids) elect a leader and
 * replicate; a follower whose transport stops misses entries the leader then compacts away, and
 * on restart catches up through a streamed snapshot (MsgSnap + data, reportSnapshot) and the
 * stream. The driver follows the RawNode contract (persist, send, apply, advance); ticks come
 * from an interval, so waits are conditions with deadlines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/base/logger.js';
import { SeededRand } from '../../../src/base/random.js';
import { SocketTransport } from '../../../src/peer/socket-transport.js';
import { createMemoryHub } from '../../../src/peer/memory-transport.js';
import type { PeerHandler, Transport, TransportOptions } from '../../../src/peer/transport.js';
import { RawNode } from '../../../src/raft/raw-node.js';
import { MemoryStorage } from '../../../src/raft/storage.js';
import { EntryType, MessageType, StateRole, type ConfState, type Message } from '../../../src/raft/types.js';
import { decodeConfChange } from '../../../src/raft/types.js';
import { freePort } from '../../helpers/procs.js';
import { until } from './harness.js';

const text = new TextDecoder();
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

class Member implements PeerHandler {
  raw: RawNode;
  storage = new MemoryStorage();
  applied: string[] = [];
  appliedIndex = 0n;
  confState: ConfState = { voters: [], learners: [] };
  transport!: Transport;
  private scheduled = false;
  snapshotsReceived = 0;
  snapshotReports: boolean[] = [];

  constructor(
    readonly id: bigint,
    peers: bigint[],
    seed: number,
  ) {
    this.raw = new RawNode({ id, peers, storage: this.storage, electionTick: 10, heartbeatTick: 1, rand: new SeededRand(seed), preVote: true });
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.handleReady();
    });
  }

  private handleReady(): void {
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
      const plain: Message[] = [];
      for (const m of rd.messages) {
        if (m.type !== MessageType.Snap || m.snapshot === undefined) {
          plain.push(m);
          continue;
        }
        const data = m.snapshot.data;
        this.transport.sendSnapshot({ ...m, snapshot: { ...m.snapshot, data: new Uint8Array(0) } }, async function* () {
          for (let off = 0; off < data.length; off += 1000) yield data.subarray(off, off + 1000);
        });
      }
      this.transport.send(plain);
      if (rd.snapshot !== undefined) {
        this.appliedIndex = rd.snapshot.metadata.index;
        this.confState = rd.snapshot.metadata.confState;
        this.applied = JSON.parse(text.decode(rd.snapshot.data)) as string[];
      }
      for (const e of rd.committedEntries) {
        this.appliedIndex = e.index;
        if (e.type === EntryType.ConfChange) this.confState = this.raw.applyConfChange(decodeConfChange(e.data));
        else if (e.data.length > 0) this.applied.push(text.decode(e.data));
      }
      this.raw.advance(rd);
    }
  }

  snapshotAndCompact(): void {
    this.storage.createSnapshot(this.appliedIndex, this.confState, utf8(JSON.stringify(this.applied)));
    this.storage.compact(this.appliedIndex);
  }

  process(msg: Message): void {
    this.raw.step(msg);
    this.schedule();
  }
  unreachable = 0;
  reportUnreachable(id: bigint): void {
    this.unreachable++;
    this.raw.reportUnreachable(id);
    this.schedule();
  }
  reportSnapshot(id: bigint, ok: boolean): void {
    this.snapshotReports.push(ok);
    this.raw.reportSnapshot(id, ok);
    this.schedule();
  }
  async receiveSnapshot(msg: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of data) parts.push(Buffer.from(c));
    if (msg.snapshot !== undefined) msg.snapshot.data = new Uint8Array(Buffer.concat(parts));
    this.snapshotsReceived++;
  }
  onRequest(): Promise<Uint8Array> {
    return Promise.reject(new Error('none'));
  }
}

type Factory = (o: TransportOptions) => Promise<Transport>;

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function run(makeTransport: Factory, urls: string[]): Promise<void> {
  const ids = [0xfedcba9876543210n, 2n, 0xffffffffffffffffn];
  const members = ids.map((id, i) => new Member(id, ids, i + 1));
  const start = async (m: Member, i: number): Promise<void> => {
    m.transport = await makeTransport({ memberId: m.id, clusterId: 0x5eedn, listenPeerUrls: [urls[i] as string], logger: silentLogger, handler: m, backoffBaseMs: 20, backoffMaxMs: 200 });
    ids.forEach((o, j) => o !== m.id && m.transport.addPeer(o, [urls[j] as string]));
  };
  for (const [i, m] of members.entries()) await start(m, i);
  const down = new Set<Member>();
  const ticker = setInterval(() => {
    for (const m of members) {
      if (down.has(m)) continue;
      m.raw.tick();
      m.schedule();
    }
  }, 10);
  stops.push(async () => {
    clearInterval(ticker);
    for (const m of members) await m.transport.stop();
  });

  const leader = (): Member | undefined => members.find((m) => !down.has(m) && m.raw.status().role === StateRole.Leader);
  await until('a leader', () => leader() !== undefined);
  const propose = (from: number, to: number): void => {
    const l = leader();
    if (l === undefined) throw new Error('no leader');
    for (let i = from; i <= to; i++) l.raw.propose(utf8(`v${i}`));
    l.schedule();
  };
  const want = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${i + 1}`);

  propose(1, 100);
  await until('all applied 100', () => members.every((m) => m.applied.length >= 100));
  for (const m of members) expect(m.applied).toEqual(want(100));

  const follower = members.find((m) => m !== leader()) as Member;
  down.add(follower);
  await follower.transport.stop();
  propose(101, 200);
  const live = members.filter((m) => m !== follower);
  await until('live members applied 200', () => live.every((m) => m.applied.length >= 200));
  // Whoever leads next, the follower's next entries are gone: it needs a snapshot.
  for (const m of live) m.snapshotAndCompact();
  // Appends queued for the follower before the compaction could still reach it if it came back
  // within one backoff; wait until the leader's link dropped them (a failed dial, reported).
  const reported = live.map((m) => m.unreachable);
  await until('a failed dial after the compaction', () => live.some((m, i) => m.unreachable > (reported[i] as number)));

  await start(follower, members.indexOf(follower));
  down.delete(follower);
  await until('follower caught up', () => follower.applied.length >= 200, 60_000);
  expect(follower.applied).toEqual(want(200));
  expect(follower.snapshotsReceived).toBe(1);
  await until('snapshot reported sent', () => live.some((m) => m.snapshotReports.includes(true)));
  propose(201, 210);
  await until('all applied 210', () => members.every((m) => m.applied.length >= 210));
  for (const m of members) expect(m.applied).toEqual(want(210));
}

describe('Raft over the peer transports', () => {
  it('memory transport: replicate, stop a follower, compact, catch up by snapshot', async () => {
    const hub = createMemoryHub();
    await run(async (o) => {
      const t = hub.transport(o);
      await t.start();
      return t;
    }, ['http://m1:2380', 'http://m2:2380', 'http://m3:2380']);
  });

  it('gRPC transport: replicate, stop a follower, compact, catch up by snapshot', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    await run(async (o) => {
      const t = new SocketTransport(o);
      await t.start();
      return t;
    }, ports.map((p) => `http://127.0.0.1:${p}`));
  });
});
