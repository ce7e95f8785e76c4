/**
 * The hand-written peer codec writes exactly what proto/etcdtspb/peer.proto declares (checked
 * against protobufjs reading that file), round-trips every Message field (64-bit values whole),
 * and refuses malformed frames.
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  PeerDecodeError,
  decodeBatch,
  decodeMessage,
  decodeReply,
  decodeRequest,
  decodeSnapshotFrame,
  encodeBatch,
  encodeMessage,
  encodeReply,
  encodeRequest,
  encodeSnapshotFrame,
} from '../../../src/peer/codec.js';
import { EntryType, MessageType, message, type Message } from '../../../src/raft/types.js';
import { repoRoot } from '../../helpers/procs.js';
import { fullMessage } from './harness.js';

const root = new protobuf.Root().loadSync(path.join(repoRoot, 'proto/etcdtspb/peer.proto'), { keepCase: true });
const PbBatch = root.lookupType('etcdtspb.MessageBatch');
const PbMessage = root.lookupType('etcdtspb.Message');

const big = 0xfedcba9876543210n;
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

function toPlain(m: Message): Record<string, unknown> {
  return JSON.parse(JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? `n${v}` : v instanceof Uint8Array ? [...v] : v))) as Record<string, unknown>;
}

describe('peer codec', () => {
  it('round-trips every Message field, including 64-bit ids beyond 2^53', () => {
    const m = fullMessage();
    const [back] = decodeBatch(encodeBatch([m]));
    expect(back).toEqual(m);
    expect(back?.from).toBe(big);
  });

  it('round-trips zero values and tells an absent snapshot from an empty one', () => {
    const plain = message({ type: MessageType.Hup });
    const [a] = decodeBatch(encodeBatch([plain]));
    expect(a).toEqual(plain);
    expect(a && 'snapshot' in a).toBe(false);
    const withEmpty = message({ type: MessageType.Snap, snapshot: { data: new Uint8Array(0), metadata: { index: 0n, term: 0n, confState: { voters: [], learners: [] } } } });
    const [b] = decodeBatch(encodeBatch([withEmpty]));
    expect(b).toEqual(withEmpty);
  });

  it('keeps the order of a batch', () => {
    const msgs = Array.from({ length: 50 }, (_, i) => message({ type: MessageType.Heartbeat, from: 1n, to: 2n, term: BigInt(i), commit: BigInt(i * 1000) }));
    expect(decodeBatch(encodeBatch(msgs))).toEqual(msgs);
  });

  it('writes what peer.proto declares (protobufjs reads it, and we read protobufjs)', () => {
    const m = fullMessage();
    const pb = PbBatch.toObject(PbBatch.decode(encodeBatch([m])), { longs: String, bytes: Array, defaults: false }) as { messages: Array<Record<string, unknown>> };
    const got = pb.messages[0] as Record<string, unknown>;
    expect(got.from).toBe(big.toString());
    expect(got.to).toBe('18446744073709551615');
    expect(got.index).toBe(((1n << 53n) + 1n).toString());
    expect((got.entries as unknown[]).length).toBe(3);
    expect(((got.snapshot as Record<string, unknown>).metadata as Record<string, unknown>).conf_state).toEqual({ voters: ['1', big.toString(), '3'], learners: ['18446744073709551615'] });
    expect(got.context).toEqual([0, 255, 128]);
    // protobufjs' own encoding (it writes explicitly set zero values, so not byte-equal) reads back as the same message.
    const plainForPb = {
      type: m.type, to: m.to.toString(), from: m.from.toString(), term: '7', log_term: '6', index: m.index.toString(),
      entries: m.entries.map((e) => ({ term: e.term.toString(), index: e.index.toString(), type: e.type, data: e.data })),
      commit: m.commit.toString(), reject: true, reject_hint: m.rejectHint.toString(), context: m.context,
      snapshot: { data: bytes(4, 5), metadata: { index: '99', term: '5', conf_state: { voters: ['1', big.toString(), '3'], learners: ['18446744073709551615'] } } },
    };
    const theirs = PbMessage.encode(PbMessage.fromObject(plainForPb)).finish();
    expect(decodeMessage(theirs)).toEqual(m);
  });

  it('round-trips snapshot frames, requests and replies', () => {
    const m = fullMessage();
    expect(decodeSnapshotFrame(encodeSnapshotFrame({ kind: 'message', message: m }))).toEqual({ kind: 'message', message: m });
    expect(decodeSnapshotFrame(encodeSnapshotFrame({ kind: 'chunk', chunk: bytes(1, 2) }))).toEqual({ kind: 'chunk', chunk: bytes(1, 2) });
    expect(decodeSnapshotFrame(encodeSnapshotFrame({ kind: 'done' }))).toEqual({ kind: 'done' });
    expect(decodeRequest(encodeRequest({ kind: 'lease-keepalive', body: bytes(7) }))).toEqual({ kind: 'lease-keepalive', body: bytes(7) });
    expect(decodeRequest(encodeRequest({ kind: '', body: new Uint8Array(0) }))).toEqual({ kind: '', body: new Uint8Array(0) });
    expect(decodeReply(encodeReply(bytes(1, 2, 3)))).toEqual(bytes(1, 2, 3));
    expect(decodeReply(encodeReply(new Uint8Array(0)))).toEqual(new Uint8Array(0));
  });

  it('decoded bytes do not alias the frame', () => {
    const frame = encodeBatch([fullMessage()]);
    const [m] = decodeBatch(frame);
    frame.fill(0);
    expect(m?.entries[0]?.data).toEqual(bytes(1, 2, 3));
  });

  it('refuses truncated and malformed frames with PeerDecodeError', () => {
    const frame = encodeBatch([fullMessage()]);
    for (const cut of [1, 5, 20, frame.length - 1]) expect(() => decodeBatch(frame.subarray(0, cut))).toThrow(PeerDecodeError);
    expect(() => decodeBatch(bytes(0x0a, 0x02, 0x08))).toThrow(PeerDecodeError);
    expect(() => decodeBatch(bytes(0x0b))).toThrow(PeerDecodeError); // wire type 3
    expect(() => decodeBatch(bytes(0x0a, 0x0b, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))).toThrow(PeerDecodeError);
    expect(() => decodeSnapshotFrame(new Uint8Array(0))).toThrow(PeerDecodeError);
  });

  it('refuses to encode a value outside uint64', () => {
    expect(() => encodeMessage(message({ type: MessageType.App, term: -1n }))).toThrow(RangeError);
    expect(() => encodeMessage(message({ type: MessageType.App, to: 1n << 64n }))).toThrow(RangeError);
  });

  it('agrees with protobufjs on random messages (fuzz, seeded)', () => {
    let s = 12345;
    const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const u64 = (): bigint => [0n, 1n, 127n, 128n, BigInt(Math.floor(rnd() * 2 ** 32)), (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32))][Math.floor(rnd() * 6)] as bigint;
    for (let i = 0; i < 300; i++) {
      const m = message({
        type: Math.floor(rnd() * 19), from: u64(), to: u64(), term: u64(), logTerm: u64(), index: u64(), commit: u64(), rejectHint: u64(), reject: rnd() < 0.5,
        entries: Array.from({ length: Math.floor(rnd() * 3) }, () => ({ term: u64(), index: u64(), type: rnd() < 0.5 ? EntryType.Normal : EntryType.ConfChange, data: new Uint8Array(Math.floor(rnd() * 5)).fill(3) })),
        context: new Uint8Array(Math.floor(rnd() * 3)).fill(1),
        ...(rnd() < 0.3 ? { snapshot: { data: new Uint8Array(0), metadata: { index: u64(), term: u64(), confState: { voters: [u64()], learners: [] } } } } : {}),
      });
      const ours = encodeMessage(m);
      const theirs = PbMessage.toObject(PbMessage.decode(ours), { longs: String });
      expect(theirs.from ?? '0').toBe(m.from.toString());
      expect(theirs.index ?? '0').toBe(m.index.toString());
      const [back] = decodeBatch(encodeBatch([m]));
      expect(toPlain(back as Message)).toEqual(toPlain(m));
    }
  });
});
