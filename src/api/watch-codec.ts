/**
 * Hand-written protobuf encoding of etcdserverpb.WatchResponse (field numbers: ETCD-FACTS §1.2,
 * mvccpb §1.4), because watch is the one hot path where one event goes to thousands of
 * watchers: each event is encoded once (cached per Event object, with and without prev_kv) and
 * each response is its own header and watch id plus the shared event bytes. Proto3 rules as
 * Go's marshal: zero scalars, empty bytes/strings and absent messages are left out; negative
 * int64 are 10-byte varints.
 *
 * Also the fragmentation of etcd v3rpc sendFragments: a response of ≥ limit bytes with at least
 * two events is split into responses with fragment=true, the last with fragment=false, each
 * holding events up to the limit (at least one).
 */
import type { Event, KeyValue } from './kv-types.js';

export interface ResponseHeaderWire {
  cluster_id: bigint;
  member_id: bigint;
  revision: bigint;
  raft_term: bigint;
}

export interface WatchResponseWire {
  header: ResponseHeaderWire;
  watch_id: bigint;
  created: boolean;
  canceled: boolean;
  compact_revision: bigint;
  cancel_reason: string;
  fragment: boolean;
  events: Event[];
  /** Encode the events' prev_kv. */
  prevKv: boolean;
}

const mask64 = (1n << 64n) - 1n;

function varintLen(v: bigint): number {
  let n = 1;
  let x = v < 0n ? v & mask64 : v;
  while (x >= 0x80n) {
    x >>= 7n;
    n++;
  }
  return n;
}

function smallVarintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }
  small(v: number): void {
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }
  big(v: bigint): void {
    let x = v < 0n ? v & mask64 : v;
    if (x < 0x80n) {
      this.byte(Number(x));
      return;
    }
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function int64FieldLen(v: bigint): number {
  return v === 0n ? 0 : 1 + varintLen(v);
}

function bytesFieldLen(len: number): number {
  return len === 0 ? 0 : 1 + smallVarintLen(len) + len;
}

function kvLen(kv: KeyValue): number {
  return (
    bytesFieldLen(kv.key.length) +
    int64FieldLen(kv.create_revision) +
    int64FieldLen(kv.mod_revision) +
    int64FieldLen(kv.version) +
    bytesFieldLen(kv.value.length) +
    int64FieldLen(kv.lease)
  );
}

function writeInt64(w: Writer, field: number, v: bigint): void {
  if (v === 0n) return;
  w.byte(field << 3);
  w.big(v);
}

function writeBytes(w: Writer, field: number, b: Uint8Array): void {
  if (b.length === 0) return;
  w.byte((field << 3) | 2);
  w.small(b.length);
  w.bytes(b);
}

function writeKv(w: Writer, field: number, kv: KeyValue, len: number): void {
  w.byte((field << 3) | 2);
  w.small(len);
  writeBytes(w, 1, kv.key);
  writeInt64(w, 2, kv.create_revision);
  writeInt64(w, 3, kv.mod_revision);
  writeInt64(w, 4, kv.version);
  writeBytes(w, 5, kv.value);
  writeInt64(w, 6, kv.lease);
}

const withPrevCache = new WeakMap<Event, Buffer>();
const withoutPrevCache = new WeakMap<Event, Buffer>();

/** mvccpb.Event bytes (without its field tag and length), cached per event object. */
export function encodeEvent(ev: Event, prevKv: boolean): Buffer {
  const withPrev = prevKv && ev.prev_kv !== null;
  const cache = withPrev ? withPrevCache : withoutPrevCache;
  const hit = cache.get(ev);
  if (hit) return hit;
  const kl = kvLen(ev.kv);
  const pl = withPrev ? kvLen(ev.prev_kv as KeyValue) : 0;
  const size = (ev.type !== 0 ? 2 : 0) + 1 + smallVarintLen(kl) + kl + (withPrev ? 1 + smallVarintLen(pl) + pl : 0);
  const w = new Writer(size);
  if (ev.type !== 0) {
    w.byte(1 << 3);
    w.small(ev.type);
  }
  writeKv(w, 2, ev.kv, kl);
  if (withPrev) writeKv(w, 3, ev.prev_kv as KeyValue, pl);
  cache.set(ev, w.buf);
  return w.buf;
}

function headerLen(h: ResponseHeaderWire): number {
  return int64FieldLen(h.cluster_id) + int64FieldLen(h.member_id) + int64FieldLen(h.revision) + int64FieldLen(h.raft_term);
}

/** The bytes of one WatchResponse with the given (already encoded) events. */
function encodeWith(r: WatchResponseWire, evs: Buffer[], fragment: boolean): Buffer {
  const hl = headerLen(r.header);
  const reason = r.cancel_reason.length > 0 ? Buffer.from(r.cancel_reason) : null;
  let size = 1 + smallVarintLen(hl) + hl;
  size += int64FieldLen(r.watch_id) + (r.created ? 2 : 0) + (r.canceled ? 2 : 0) + int64FieldLen(r.compact_revision);
  size += reason ? bytesFieldLen(reason.length) : 0;
  size += fragment ? 2 : 0;
  for (const e of evs) size += 1 + smallVarintLen(e.length) + e.length;
  const w = new Writer(size);
  w.byte((1 << 3) | 2);
  w.small(hl);
  writeInt64(w, 1, r.header.cluster_id);
  writeInt64(w, 2, r.header.member_id);
  writeInt64(w, 3, r.header.revision);
  writeInt64(w, 4, r.header.raft_term);
  writeInt64(w, 2, r.watch_id);
  if (r.created) w.byte(3 << 3), w.byte(1);
  if (r.canceled) w.byte(4 << 3), w.byte(1);
  writeInt64(w, 5, r.compact_revision);
  if (reason) writeBytes(w, 6, reason);
  if (fragment) w.byte(7 << 3), w.byte(1);
  for (const e of evs) {
    w.byte((11 << 3) | 2);
    w.small(e.length);
    w.bytes(e);
  }
  return w.buf;
}

/** One WatchResponse, or its fragments (etcd sendFragments) when `fragmentBytes` > 0. */
export function encodeWatchResponse(r: WatchResponseWire, fragmentBytes = 0): Buffer[] {
  const evs = r.events.map((e) => encodeEvent(e, r.prevKv));
  const whole = encodeWith(r, evs, r.fragment);
  if (fragmentBytes <= 0 || whole.length < fragmentBytes || evs.length < 2) return [whole];
  const base = encodeWith({ ...r, events: [] }, [], true).length;
  const out: Buffer[] = [];
  let i = 0;
  while (i < evs.length) {
    let size = base;
    const start = i;
    while (i < evs.length) {
      const e = evs[i] as Buffer;
      const add = 1 + smallVarintLen(e.length) + e.length;
      if (i > start && size + add >= fragmentBytes) break;
      size += add;
      i++;
    }
    out.push(encodeWith(r, evs.slice(start, i), i < evs.length));
  }
  return out;
}
