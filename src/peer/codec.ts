/**
 * Hand-written protobuf encoding of the peer protocol (proto/etcdtspb/peer.proto), so Raft
 * messages go on the wire without JSON and without proto-loader's string longs: every uint64 is a
 * bigint on both sides, all 64 bits kept.
 *
 * Invariants:
 * - The bytes are exactly what peer.proto declares (checked against protobufjs in
 *   test/unit/peer/codec.test.ts): proto3 zero values omitted, packed repeated uint64, fields in
 *   number order. The decoder also accepts unpacked repeated fields and skips unknown fields.
 * - Decoded values never alias the input buffer (entry data, context and chunks are copies), so a
 *   frame's memory is not kept alive by a log entry that outlives it.
 * - A malformed frame throws PeerDecodeError; it never yields a partly filled message silently.
 *
 * Sizes are computed first and then written into one exact-size buffer (two passes, one
 * allocation per message).
 */
import type { ConfState, Entry, Message, Snapshot, SnapshotMetadata } from '../raft/types.js';
import { Reader, Writer, lenFieldSize, u64FieldSize, u64Size, varint32Size } from './wire.js';

export { PeerDecodeError } from './wire.js';

function entrySize(e: Entry): number {
  return (
    u64FieldSize(e.term) +
    u64FieldSize(e.index) +
    (e.type === 0 ? 0 : 1 + varint32Size(e.type)) +
    (e.data.length === 0 ? 0 : lenFieldSize(e.data.length))
  );
}

function packedSize(vs: bigint[]): number {
  let n = 0;
  for (const v of vs) n += u64Size(v);
  return n;
}

function confStateSize(c: ConfState): number {
  const v = packedSize(c.voters);
  const l = packedSize(c.learners);
  return (v === 0 ? 0 : lenFieldSize(v)) + (l === 0 ? 0 : lenFieldSize(l));
}

function metadataSize(m: SnapshotMetadata): number {
  return lenFieldSize(confStateSize(m.confState)) + u64FieldSize(m.index) + u64FieldSize(m.term);
}

function snapshotSize(s: Snapshot): number {
  return (s.data.length === 0 ? 0 : lenFieldSize(s.data.length)) + lenFieldSize(metadataSize(s.metadata));
}

function messageSize(m: Message): number {
  let n =
    (m.type === 0 ? 0 : 1 + varint32Size(m.type)) +
    u64FieldSize(m.to) +
    u64FieldSize(m.from) +
    u64FieldSize(m.term) +
    u64FieldSize(m.logTerm) +
    u64FieldSize(m.index) +
    u64FieldSize(m.commit) +
    (m.reject ? 2 : 0) +
    u64FieldSize(m.rejectHint) +
    (m.context.length === 0 ? 0 : lenFieldSize(m.context.length));
  for (const e of m.entries) n += lenFieldSize(entrySize(e));
  if (m.snapshot !== undefined) n += lenFieldSize(snapshotSize(m.snapshot));
  return n;
}

// ---------------------------------------------------------------- encode

function writeEntry(w: Writer, e: Entry): void {
  w.u64Field(0x08, e.term);
  w.u64Field(0x10, e.index);
  if (e.type !== 0) {
    w.byte(0x18);
    w.varint32(e.type);
  }
  if (e.data.length > 0) w.bytesField(0x22, e.data);
}

function writePacked(w: Writer, tag: number, vs: bigint[]): void {
  const n = packedSize(vs);
  if (n === 0) return;
  w.header(tag, n);
  for (const v of vs) w.u64(v);
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  if (s.data.length > 0) w.bytesField(0x0a, s.data);
  const m = s.metadata;
  w.header(0x12, metadataSize(m));
  w.header(0x0a, confStateSize(m.confState));
  writePacked(w, 0x0a, m.confState.voters);
  writePacked(w, 0x12, m.confState.learners);
  w.u64Field(0x10, m.index);
  w.u64Field(0x18, m.term);
}

function writeMessage(w: Writer, m: Message): void {
  if (m.type !== 0) {
    w.byte(0x08);
    w.varint32(m.type);
  }
  w.u64Field(0x10, m.to);
  w.u64Field(0x18, m.from);
  w.u64Field(0x20, m.term);
  w.u64Field(0x28, m.logTerm);
  w.u64Field(0x30, m.index);
  for (const e of m.entries) {
    w.header(0x3a, entrySize(e));
    writeEntry(w, e);
  }
  w.u64Field(0x40, m.commit);
  if (m.snapshot !== undefined) {
    w.header(0x4a, snapshotSize(m.snapshot));
    writeSnapshot(w, m.snapshot);
  }
  if (m.reject) {
    w.byte(0x50);
    w.byte(1);
  }
  w.u64Field(0x58, m.rejectHint);
  if (m.context.length > 0) w.bytesField(0x62, m.context);
}

/** One Message's protobuf body (without a field header). Throws RangeError on a value outside uint64. */
export function encodeMessage(m: Message): Uint8Array {
  // Sizing checks every uint64 (RangeError) before anything is written. allocUnsafe: small
  // bodies come from Node's buffer pool (much cheaper than one ArrayBuffer each), and every byte
  // is written below (the size check asserts it).
  const buf = Buffer.allocUnsafe(messageSize(m));
  const w = new Writer(buf);
  writeMessage(w, m);
  if (w.pos !== buf.length) throw new Error(`peer codec size mismatch: ${w.pos} != ${buf.length}`);
  return buf;
}

/** Bytes a message body takes inside a MessageBatch (its field header included). */
export function batchItemBytes(body: Uint8Array): number {
  return lenFieldSize(body.length);
}

/** A MessageBatch frame from message bodies made by encodeMessage. */
export function frameBatch(bodies: readonly Uint8Array[]): Buffer {
  let n = 0;
  for (const b of bodies) n += lenFieldSize(b.length);
  const buf = Buffer.allocUnsafe(n);
  const w = new Writer(buf);
  for (const b of bodies) w.bytesField(0x0a, b);
  return buf;
}

export function encodeBatch(msgs: readonly Message[]): Buffer {
  return frameBatch(msgs.map(encodeMessage));
}

// ---------------------------------------------------------------- decode

function readEntry(r: Reader): Entry {
  const e: Entry = { term: 0n, index: 0n, type: 0, data: new Uint8Array(0) };
  while (r.pos < r.end) {
    const key = r.varint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1: r.expect(wt, 0); e.term = r.u64(); break;
      case 2: r.expect(wt, 0); e.index = r.u64(); break;
      case 3: r.expect(wt, 0); e.type = r.varint32(); break;
      case 4: r.expect(wt, 2); e.data = r.bytes(); break;
      default: r.skip(wt);
    }
  }
  return e;
}

function readConfState(r: Reader): ConfState {
  const c: ConfState = { voters: [], learners: [] };
  while (r.pos < r.end) {
    const key = r.varint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1: r.repeatedU64(wt, c.voters); break;
      case 2: r.repeatedU64(wt, c.learners); break;
      default: r.skip(wt);
    }
  }
  return c;
}

function readMetadata(r: Reader): SnapshotMetadata {
  const m: SnapshotMetadata = { index: 0n, term: 0n, confState: { voters: [], learners: [] } };
  while (r.pos < r.end) {
    const key = r.varint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1: r.expect(wt, 2); m.confState = readConfState(r.sub()); break;
      case 2: r.expect(wt, 0); m.index = r.u64(); break;
      case 3: r.expect(wt, 0); m.term = r.u64(); break;
      default: r.skip(wt);
    }
  }
  return m;
}

function readSnapshot(r: Reader): Snapshot {
  const s: Snapshot = { data: new Uint8Array(0), metadata: { index: 0n, term: 0n, confState: { voters: [], learners: [] } } };
  while (r.pos < r.end) {
    const key = r.varint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1: r.expect(wt, 2); s.data = r.bytes(); break;
      case 2: r.expect(wt, 2); s.metadata = readMetadata(r.sub()); break;
      default: r.skip(wt);
    }
  }
  return s;
}

function readMessage(r: Reader): Message {
  const m: Message = {
    type: 0, from: 0n, to: 0n, term: 0n, logTerm: 0n, index: 0n, entries: [], commit: 0n,
    reject: false, rejectHint: 0n, context: new Uint8Array(0),
  };
  while (r.pos < r.end) {
    const key = r.varint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1: r.expect(wt, 0); m.type = r.varint32(); break;
      case 2: r.expect(wt, 0); m.to = r.u64(); break;
      case 3: r.expect(wt, 0); m.from = r.u64(); break;
      case 4: r.expect(wt, 0); m.term = r.u64(); break;
      case 5: r.expect(wt, 0); m.logTerm = r.u64(); break;
      case 6: r.expect(wt, 0); m.index = r.u64(); break;
      case 7: r.expect(wt, 2); m.entries.push(readEntry(r.sub())); break;
      case 8: r.expect(wt, 0); m.commit = r.u64(); break;
      case 9: r.expect(wt, 2); m.snapshot = readSnapshot(r.sub()); break;
      case 10: r.expect(wt, 0); m.reject = r.bool(); break;
      case 11: r.expect(wt, 0); m.rejectHint = r.u64(); break;
      case 12: r.expect(wt, 2); m.context = r.bytes(); break;
      default: r.skip(wt);
    }
  }
  return m;
}

export function decodeMessage(buf: Uint8Array): Message {
  return readMessage(new Reader(buf));
}

export function decodeBatch(buf: Uint8Array): Message[] {
  const r = new Reader(buf);
  const out: Message[] = [];
  while (r.pos < r.end) {
    const key = r.varint32();
    if (key >>> 3 === 1) {
      r.expect(key & 7, 2);
      out.push(readMessage(r.sub()));
    } else r.skip(key & 7);
  }
  return out;
}

// ---------------------------------------------------------------- snapshot frames, requests

export type SnapshotFrame = { kind: 'message'; message: Message } | { kind: 'chunk'; chunk: Uint8Array } | { kind: 'done' };

export function encodeSnapshotFrame(f: SnapshotFrame): Buffer {
  const body = f.kind === 'message' ? encodeMessage(f.message) : f.kind === 'chunk' ? f.chunk : undefined;
  if (body === undefined) return Buffer.from([0x18, 0x01]);
  const buf = Buffer.allocUnsafe(lenFieldSize(body.length));
  new Writer(buf).bytesField(f.kind === 'message' ? 0x0a : 0x12, body);
  return buf;
}

export function decodeSnapshotFrame(buf: Uint8Array): SnapshotFrame {
  const r = new Reader(buf);
  let frame: SnapshotFrame | undefined;
  while (r.pos < r.end) {
    const key = r.varint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1: r.expect(wt, 2); frame = { kind: 'message', message: readMessage(r.sub()) }; break;
      case 2: r.expect(wt, 2); frame = { kind: 'chunk', chunk: r.bytes() }; break;
      case 3: r.expect(wt, 0); if (r.bool()) frame = { kind: 'done' }; break;
      default: r.skip(wt);
    }
  }
  if (frame === undefined) return r.fail('empty snapshot frame');
  return frame;
}

export interface PeerRequestFrame {
  kind: string;
  body: Uint8Array;
}

export function encodeRequest(req: PeerRequestFrame): Buffer {
  const kind = Buffer.from(req.kind, 'utf8');
  const buf = Buffer.allocUnsafe((kind.length ? lenFieldSize(kind.length) : 0) + (req.body.length ? lenFieldSize(req.body.length) : 0));
  const w = new Writer(buf);
  if (kind.length) w.bytesField(0x0a, kind);
  if (req.body.length) w.bytesField(0x12, req.body);
  return buf;
}

export function decodeRequest(buf: Uint8Array): PeerRequestFrame {
  const r = new Reader(buf);
  const out: PeerRequestFrame = { kind: '', body: new Uint8Array(0) };
  while (r.pos < r.end) {
    const key = r.varint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1: r.expect(wt, 2); out.kind = Buffer.from(r.bytes()).toString('utf8'); break;
      case 2: r.expect(wt, 2); out.body = r.bytes(); break;
      default: r.skip(wt);
    }
  }
  return out;
}

/** PeerReply { bytes body = 1 }. */
export function encodeReply(body: Uint8Array): Buffer {
  if (body.length === 0) return Buffer.alloc(0);
  const buf = Buffer.allocUnsafe(lenFieldSize(body.length));
  new Writer(buf).bytesField(0x0a, body);
  return buf;
}

export function decodeReply(buf: Uint8Array): Uint8Array {
  const r = new Reader(buf);
  let body: Uint8Array = new Uint8Array(0);
  while (r.pos < r.end) {
    const key = r.varint32();
    if (key >>> 3 === 1) {
      r.expect(key & 7, 2);
      body = r.bytes();
    } else r.skip(key & 7);
  }
  return body;
}
