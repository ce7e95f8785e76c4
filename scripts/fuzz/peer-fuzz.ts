/**
 * Peer-port inputs for the fuzzer: calls to the Peer service (Stream, Snapshot, Request,
 * Members) with no identity, a garbage one, another cluster's, or a valid one (forged: the
 * identity of a real member), carrying mutated frames of Raft messages or random bytes.
 *
 * With a valid identity a peer is trusted, as in etcd (whose peers, without peer TLS, accept
 * any well-formed Raft message from a known member id): a forged but well-formed message that
 * the member would hand to Raft is out of scope. Such frames are rewritten to be addressed to
 * nobody (so the member must drop them) before they are sent; everything else goes as made.
 */
import * as grpc from '@grpc/grpc-js';
import { hex16 } from '../../src/base/int64.js';
import type { SeededRand } from '../../src/base/random.js';
import { decodeBatch, decodeSnapshotFrame, encodeBatch, encodeRequest, encodeSnapshotFrame } from '../../src/peer/codec.js';
import { belongsOnStream, mdClusterId, mdFrom, mdTo } from '../../src/peer/identity.js';
import { MessageType, type Message, message } from '../../src/raft/types.js';
import { bytes, mutateMany } from './mutate.js';

export interface PeerIds {
  clusterId: bigint;
  /** The fuzzed member. */
  target: bigint;
  /** Its peers (whose identity a forged call borrows). */
  others: bigint[];
}

export type PeerMethod = 'Stream' | 'Snapshot' | 'Request' | 'Members';

export interface PeerInput {
  method: PeerMethod;
  identity: 'none' | 'garbage' | 'other-cluster' | 'unknown-sender' | 'valid';
  metadata: [string, string][];
  frames: Buffer[];
  /** Frames rewritten so that nothing reaches Raft (valid identity only). */
  rewritten: number;
}

function pick<T>(r: SeededRand, xs: readonly T[]): T {
  return xs[r.int(xs.length)] as T;
}

const types = Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number');

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

export function peerInput(r: SeededRand, ids: PeerIds): PeerInput {
  const method = pick(r, ['Stream', 'Stream', 'Stream', 'Snapshot', 'Request', 'Members'] as const);
  const identity = pick(r, ['none', 'garbage', 'other-cluster', 'unknown-sender', 'valid', 'valid', 'valid'] as const);
  const from = pick(r, ids.others);
  const md: [string, string][] = [];
  switch (identity) {
    case 'none':
      break;
    case 'garbage':
      md.push([mdClusterId, pick(r, ['', 'zz', 'x'.repeat(40), '-1', '0x1'])], [mdFrom, pick(r, ['g', '12345678901234567', ''])], [mdTo, hex16(ids.target)]);
      break;
    case 'other-cluster':
      md.push([mdClusterId, hex16(ids.clusterId ^ 1n)], [mdFrom, hex16(from)], [mdTo, hex16(ids.target)]);
      break;
    case 'unknown-sender':
      md.push([mdClusterId, hex16(ids.clusterId)], [mdFrom, hex16(0xdeadbeefn)], [mdTo, hex16(ids.target)]);
      break;
    case 'valid':
      md.push([mdClusterId, hex16(ids.clusterId)], [mdFrom, hex16(from)], [mdTo, hex16(ids.target)]);
      break;
  }
  const frames: Buffer[] = [];
  let rewritten = 0;
  const isKnown = (id: bigint): boolean => ids.others.includes(id);
  const n = method === 'Stream' || method === 'Snapshot' ? 1 + r.int(4) : 1;
  for (let k = 0; k < n; k++) {
    let f: Buffer;
    if (method === 'Request') f = r.next() < 0.5 ? mutateMany(r, encodeRequest({ kind: pick(r, ['member-promote', 'lease-renew', '', 'x']), body: bytes(r, r.int(40)) })) : bytes(r, r.int(60));
    else if (method === 'Snapshot') f = r.next() < 0.5 ? mutateMany(r, encodeSnapshotFrame(k === 0 ? { kind: 'message', message: randomMessage(r, ids, from) } : { kind: 'chunk', chunk: bytes(r, r.int(100)) })) : bytes(r, r.int(60));
    else if (method === 'Members') f = bytes(r, r.int(10));
    else f = r.next() < 0.8 ? mutateMany(r, encodeBatch(Array.from({ length: 1 + r.int(3) }, () => randomMessage(r, ids, from)))) : bytes(r, r.int(80));
    if (identity === 'valid' && method === 'Stream') {
      let msgs: Message[] | null = null;
      try {
        msgs = decodeBatch(f);
      } catch {
        msgs = null;
      }
      if (msgs !== null && msgs.some((m) => belongsOnStream(ids.target, from, m, isKnown))) {
        f = encodeBatch(msgs.map((m) => ({ ...m, to: 0xfee1deadn })));
        rewritten++;
      }
    }
    if (identity === 'valid' && method === 'Snapshot' && k === 0) {
      try {
        const s = decodeSnapshotFrame(f);
        if (s.kind === 'message' && s.message.type === MessageType.Snap && s.message.snapshot !== undefined && s.message.to === ids.target && s.message.from === from) {
          f = encodeSnapshotFrame({ kind: 'message', message: { ...s.message, to: 0xfee1deadn } });
          rewritten++;
        }
      } catch {
        /* malformed: send it */
      }
    }
    frames.push(f);
  }
  return { method, identity, metadata: md, frames, rewritten };
}

const raw = (b: Buffer): Buffer => b;

export function sendPeer(client: grpc.Client, input: PeerInput, timeoutMs: number): Promise<{ code: number; details: string }> {
  const md = new grpc.Metadata();
  for (const [k, v] of input.metadata) md.set(k, v);
  const path = `/etcdtspb.Peer/${input.method}`;
  const opts: grpc.CallOptions = { deadline: Date.now() + timeoutMs };
  return new Promise((resolve) => {
    const cb = (e: grpc.ServiceError | null): void => resolve(e ? { code: e.code, details: e.details } : { code: 0, details: '' });
    if (input.method === 'Request' || input.method === 'Members') {
      client.makeUnaryRequest(path, raw, raw, input.frames[0] as Buffer, md, opts, cb);
      return;
    }
    const call = client.makeClientStreamRequest(path, raw, raw, md, opts, cb);
    for (const f of input.frames) call.write(f);
    call.end();
  });
}
