/**
 * Peer-port sessions for the fuzzer, in the peer wire protocol (src/peer/frames.ts): a HELLO
 * that is missing, malformed, of another cluster or version, from an unknown sender, addressed
 * to someone else, or valid (forged: the identity of a real member), for each purpose (stream,
 * snapshot, requests, members, and purposes that do not exist); then frames of the right kind
 * with mutated bodies (Raft message batches, snapshot frames, requests), frames of the wrong
 * kind, lengths that lie or exceed the limit, and random bytes.
 *
 * With a valid identity a peer is trusted, as in etcd (whose peers, without peer TLS, accept
 * any well-formed Raft message from a known member id): a forged but well-formed message that
 * the member would hand to Raft, or a well-formed MsgSnap for it, is out of scope. Such frames
 * are readdressed to nobody (so the member must drop them) before they are sent, whatever the
 * HELLO (a mutated one may still be valid); everything
 * else goes as made.
 */
import type { SeededRand } from '../../src/base/random.js';
import { decodeBatch, decodeSnapshotFrame, encodeBatch, encodeRequest, encodeSnapshotFrame } from '../../src/peer/codec.js';
import { encodeHello, encodeReq, frame, FrameKind, Purpose } from '../../src/peer/frames.js';
import { belongsOnStream } from '../../src/peer/identity.js';
import { MessageType, type Message, message } from '../../src/raft/types.js';
import { bytes, mutateMany } from './mutate.js';

export interface PeerIds {
  clusterId: bigint;
  /** The fuzzed member. */
  target: bigint;
  /** Its peers (whose identity a forged session borrows). */
  others: bigint[];
}

export type Identity = 'none' | 'garbage' | 'other-cluster' | 'unknown-sender' | 'wrong-to' | 'valid';

export interface PeerSession {
  identity: Identity;
  purpose: number;
  data: Buffer;
  /** Frames readdressed so that nothing reaches Raft (valid identity only). */
  rewritten: number;
}

function pick<T>(r: SeededRand, xs: readonly T[]): T {
  return xs[r.int(xs.length)] as T;
}

const types = Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number');
const nobody = 0xfee1deadn;

function randomMessage(r: SeededRand, ids: PeerIds, from: bigint): Message {
  const big = (): bigint => pick(r, [0n, 1n, 2n, 5n, 1000n, (1n << 63n) - 1n, (1n << 64n) - 1n, BigInt(r.int(100))]);
  return message({
    type: pick(r, types),
    from: r.next() < 0.8 ? from : big(),
    to: r.next() < 0.8 ? ids.target : big(),
    term: big(),
    logTerm: big(),
    index: big(),
    commit: big(),
    reject: r.next() < 0.2,
    rejectHint: big(),
    entries: Array.from({ length: r.int(3) }, () => ({ term: big(), index: big(), type: r.int(3), data: bytes(r, r.int(30)) })),
    context: bytes(r, r.int(8)),
  });
}

export function peerSession(r: SeededRand, ids: PeerIds): PeerSession {
  const identity = pick(r, ['none', 'garbage', 'other-cluster', 'unknown-sender', 'wrong-to', 'valid', 'valid', 'valid'] as const);
  const purpose = r.next() < 0.9 ? pick(r, [Purpose.Stream, Purpose.Stream, Purpose.Snapshot, Purpose.Requests, Purpose.Members]) : pick(r, [0, 5, 255]);
  const from = pick(r, ids.others);
  const parts: Buffer[] = [];
  switch (identity) {
    case 'none':
      break;
    case 'garbage': {
      const h = encodeHello({ purpose, clusterId: ids.clusterId, from, to: ids.target });
      parts.push(r.next() < 0.5 ? mutateMany(r, h) : frame(FrameKind.Hello, bytes(r, pick(r, [0, 25, 27, 26]))));
      break;
    }
    case 'other-cluster':
      parts.push(encodeHello({ purpose, clusterId: ids.clusterId ^ 1n, from, to: ids.target }));
      break;
    case 'unknown-sender':
      parts.push(encodeHello({ purpose, clusterId: ids.clusterId, from: 0xdeadbeefn, to: ids.target }));
      break;
    case 'wrong-to':
      parts.push(encodeHello({ purpose, clusterId: ids.clusterId, from, to: from }));
      break;
    case 'valid':
      parts.push(encodeHello({ purpose, clusterId: ids.clusterId, from, to: ids.target }));
      break;
  }
  let rewritten = 0;
  const isKnown = (id: bigint): boolean => ids.others.includes(id);
  for (let k = r.int(5); k >= 0; k--) {
    const roll = r.next();
    if (roll < 0.08) {
      parts.push(bytes(r, r.int(40)));
      continue;
    }
    if (roll < 0.14) {
      // a length header that lies or is above any limit
      const h = Buffer.alloc(5);
      h.writeUInt32BE(pick(r, [0xffffffff, 0x7fffffff, 64 * 1024 * 1024 + 1, r.int(1000)]));
      h[4] = r.int(12);
      parts.push(h, bytes(r, r.int(20)));
      continue;
    }
    if (roll < 0.22) {
      parts.push(frame(pick(r, [0, 1, 2, 3, 5, 6, 8, 10, 11, 200]), bytes(r, r.int(30))));
      continue;
    }
    if (purpose === Purpose.Snapshot) {
      let f = r.next() < 0.7 ? mutateMany(r, encodeSnapshotFrame(k === 0 ? { kind: 'message', message: { ...randomMessage(r, ids, from), type: MessageType.Snap } } : { kind: 'chunk', chunk: bytes(r, r.int(100)) })) : bytes(r, r.int(60));
      try {
        const s = decodeSnapshotFrame(f);
        if (s.kind === 'message' && s.message.to === ids.target) {
          f = encodeSnapshotFrame({ kind: 'message', message: { ...s.message, to: nobody } });
          rewritten++;
        }
      } catch {
        /* malformed: send it */
      }
      parts.push(frame(FrameKind.Snap, f));
    } else if (purpose === Purpose.Requests) {
      const body = r.next() < 0.6 ? mutateMany(r, encodeRequest({ kind: pick(r, ['member-promote', 'lease-renew', '', 'x']), body: bytes(r, r.int(40)) })) : bytes(r, r.int(60));
      parts.push(r.next() < 0.9 ? encodeReq(r.int(1000), body) : frame(FrameKind.Req, bytes(r, r.int(4))));
    } else {
      if (r.next() < 0.1) {
        parts.push(frame(FrameKind.Ping, bytes(r, pick(r, [8, 0, 7, 100]))));
        continue;
      }
      let f = r.next() < 0.85 ? mutateMany(r, encodeBatch(Array.from({ length: 1 + r.int(3) }, () => randomMessage(r, ids, from)))) : bytes(r, r.int(80));
      let msgs: Message[] | null;
      try {
        msgs = decodeBatch(f);
      } catch {
        msgs = null;
      }
      if (msgs !== null && msgs.some((m) => m.to === ids.target || belongsOnStream(ids.target, from, m, isKnown))) {
        f = encodeBatch(msgs.map((m) => ({ ...m, to: nobody })));
        rewritten++;
      }
      parts.push(frame(FrameKind.Batch, f));
    }
  }
  return { identity, purpose, data: Buffer.concat(parts), rewritten };
}
