/**
 * Test members for the peer transports: a recording PeerHandler, a node factory on loopback
 * ports, a TCP proxy that can stall, and condition waits (no sleeps).
 */
import net from 'node:net';
import { createTestLogger, type TestLogger } from '../../../src/base/logger.js';
import type { Rand } from '../../../src/base/random.js';
import { EntryType, message, MessageType, type Message } from '../../../src/raft/types.js';
import type { PeerHandler } from '../../../src/peer/transport.js';

export class RecordingHandler implements PeerHandler {
  received: Message[] = [];
  unreachable: bigint[] = [];
  /** Senders refused as unknown (PeerHandler.unknownPeer). */
  unknownPeers: bigint[] = [];
  snapshots: Array<[bigint, boolean]> = [];
  /** Events in order, to check process-after-receiveSnapshot. */
  events: string[] = [];
  receiveSnapshotImpl: (msg: Message, data: AsyncIterable<Uint8Array>) => Promise<void> = async (_m, data) => {
    for await (const _ of data) void _;
  };
  onRequestImpl: (from: bigint, kind: string, body: Uint8Array) => Promise<Uint8Array> = () => Promise.reject(new Error('no requests here'));

  process(msg: Message): void {
    this.received.push(msg);
    this.events.push(`process:${msg.type}`);
  }
  unknownPeer(id: bigint): void {
    this.unknownPeers.push(id);
  }
  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: bigint, ok: boolean): void {
    this.snapshots.push([id, ok]);
    this.events.push(`reportSnapshot:${ok}`);
  }
  async receiveSnapshot(msg: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    this.events.push('receiveSnapshot:start');
    await this.receiveSnapshotImpl(msg, data);
    this.events.push('receiveSnapshot:done');
  }
  onRequest(from: bigint, kind: string, body: Uint8Array): Promise<Uint8Array> {
    return this.onRequestImpl(from, kind, body);
  }
}

/** Math.random that counts its calls: each reconnect backoff draws once. */
export class CountingRand implements Rand {
  calls = 0;
  next(): number {
    this.calls++;
    return 0.5;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

export interface TestMember {
  id: bigint;
  handler: RecordingHandler;
  log: TestLogger;
  rand: CountingRand;
}

export function testMember(id: bigint): TestMember {
  return { id, handler: new RecordingHandler(), log: createTestLogger('debug'), rand: new CountingRand() };
}

export function app(from: bigint, to: bigint, index: bigint, dataBytes = 100): Message {
  return message({
    type: MessageType.App,
    from,
    to,
    term: 2n,
    logTerm: 2n,
    index: index - 1n,
    commit: index - 1n,
    entries: [{ term: 2n, index, type: 0, data: new Uint8Array(dataBytes).fill(Number(index % 251n)) }],
  });
}

export function heartbeat(from: bigint, to: bigint, commit: bigint): Message {
  return message({ type: MessageType.Heartbeat, from, to, term: 2n, commit });
}

/** Polls `probe` every few ms until true; fails after the deadline (generous: shared machine). */
export async function until(what: string, probe: () => boolean, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function logged(m: TestMember, msg: string): number {
  return m.log.lines.filter((l) => l.includes(`"msg":${JSON.stringify(msg)}`)).length;
}

export interface StallingProxy {
  port: number;
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:target; stall() stops moving bytes both ways (a hung peer). */
export async function stallingProxy(target: number): Promise<StallingProxy> {
  const pairs: Array<[net.Socket, net.Socket]> = [];
  let stalled = false;
  const server = net.createServer((down) => {
    const up = net.connect(target, '127.0.0.1');
    pairs.push([down, up]);
    down.pipe(up);
    up.pipe(down);
    if (stalled) {
      down.pause();
      up.pause();
    }
    const kill = (): void => {
      down.destroy();
      up.destroy();
    };
    down.on('error', kill);
    up.on('error', kill);
    down.on('close', kill);
    up.on('close', kill);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return {
    port: typeof a === 'object' && a !== null ? a.port : 0,
    stall: () => {
      stalled = true;
      for (const [d, u] of pairs) {
        d.unpipe(u);
        u.unpipe(d);
        d.pause();
        u.pause();
      }
    },
    resume: () => {
      stalled = false;
      for (const [d, u] of pairs) {
        d.pipe(u);
        u.pipe(d);
        d.resume();
        u.resume();
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [d, u] of pairs) {
          d.destroy();
          u.destroy();
        }
        server.close(() => r());
      }),
  };
}

/** A message with every field set, 64-bit values beyond 2^53 included. */
export function fullMessage(): Message {
  return message({
    type: MessageType.App,
    from: 0xfedcba9876543210n,
    to: 0xffffffffffffffffn,
    term: 7n,
    logTerm: 6n,
    index: (1n << 53n) + 1n,
    entries: [
      { term: 6n, index: (1n << 53n) + 2n, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
      { term: 7n, index: (1n << 53n) + 3n, type: EntryType.ConfChange, data: new Uint8Array(0) },
      { term: 0x80000000n, index: 0x100000000n, type: EntryType.Normal, data: new Uint8Array(300).fill(9) },
    ],
    commit: 0x7fffffffn,
    reject: true,
    rejectHint: 0x123456789n,
    snapshot: {
      metadata: { index: 99n, term: 5n, confState: { voters: [1n, 0xfedcba9876543210n, 3n], learners: [0xffffffffffffffffn] } },
      data: new Uint8Array([4, 5]),
    },
    context: new Uint8Array([0, 255, 128]),
  });
}

