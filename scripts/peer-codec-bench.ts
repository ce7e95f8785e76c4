/**
 * Peer codec speed, by hand (`node --import tsx scripts/peer-codec-bench.ts`): encode + decode
 * of one batch of 64 AppendEntries (MsgApp) with 100-byte entries, through our hand-written
 * codec (src/peer/codec.ts) and, for comparison, through protobufjs reading the same
 * proto/etcdtspb/peer.proto (with bigint ↔ string conversion at the edge, as proto-loader users
 * pay). Prints µs per batch and the ratio. Not a test: figures depend on the machine.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { decodeBatch, encodeBatch } from '../src/peer/codec.js';
import { message, MessageType, type Message } from '../src/raft/types.js';

const root = new protobuf.Root().loadSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../proto/etcdtspb/peer.proto'), { keepCase: true });
const PbBatch = root.lookupType('etcdtspb.MessageBatch');

function batch(entriesPerMsg: number): Message[] {
  const from = 0xfedcba9876543210n;
  const to = 0x8e9e05c52164694dn;
  return Array.from({ length: 64 }, (_, i) =>
    message({
      type: MessageType.App, from, to, term: 5n, logTerm: 5n, index: 100_000n + BigInt(i * entriesPerMsg), commit: 99_999n,
      entries: Array.from({ length: entriesPerMsg }, (_, k) => ({ term: 5n, index: 100_001n + BigInt(i * entriesPerMsg + k), type: 0, data: new Uint8Array(100).fill(k) })),
    }),
  );
}

function pbEncode(msgs: Message[]): Uint8Array {
  return PbBatch.encode(
    PbBatch.fromObject({
      messages: msgs.map((m) => ({
        type: m.type, to: m.to.toString(), from: m.from.toString(), term: m.term.toString(), log_term: m.logTerm.toString(), index: m.index.toString(), commit: m.commit.toString(),
        entries: m.entries.map((e) => ({ term: e.term.toString(), index: e.index.toString(), type: e.type, data: e.data })),
      })),
    }),
  ).finish();
}

interface PbEntry { term: string; index: string; type: number; data: Uint8Array }
interface PbMsg { type: number; to: string; from: string; term: string; log_term: string; index: string; commit: string; entries: PbEntry[] }

function pbDecode(buf: Uint8Array): Message[] {
  const o = PbBatch.toObject(PbBatch.decode(buf), { longs: String, defaults: true }) as { messages: PbMsg[] };
  return o.messages.map((m) =>
    message({
      type: m.type, to: BigInt(m.to), from: BigInt(m.from), term: BigInt(m.term), logTerm: BigInt(m.log_term), index: BigInt(m.index), commit: BigInt(m.commit),
      entries: m.entries.map((e) => ({ term: BigInt(e.term), index: BigInt(e.index), type: e.type, data: e.data })),
    }),
  );
}

function measure(name: string, f: () => void, minMs = 1500): number {
  for (let i = 0; i < 200; i++) f(); // warm up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    for (let i = 0; i < 50; i++) f();
    n += 50;
  }
  const us = ((performance.now() - start) * 1000) / n;
  console.log(`${name.padEnd(44)} ${us.toFixed(1).padStart(8)} µs/batch`);
  return us;
}

for (const perMsg of [1, 8]) {
  const msgs = batch(perMsg);
  const ours = encodeBatch(msgs);
  const theirs = pbEncode(msgs);
  console.log(`\n64 MsgApp × ${perMsg} entr${perMsg === 1 ? 'y' : 'ies'} of 100 bytes: ${ours.length} bytes (protobufjs: ${theirs.length})`);
  if (decodeBatch(theirs).length !== 64 || pbDecode(ours).length !== 64) throw new Error('codecs disagree');
  const a = measure('etcdts codec encode+decode', () => void decodeBatch(encodeBatch(msgs)));
  const b = measure('protobufjs (bigint↔string) encode+decode', () => void pbDecode(pbEncode(msgs)));
  console.log(`ratio protobufjs / etcdts: ${(b / a).toFixed(2)}×`);
}
