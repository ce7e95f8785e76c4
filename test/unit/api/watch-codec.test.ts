/**
 * The hand-written WatchResponse encoder against protobufjs decoding of the same .proto: every
 * field round-trips (negative ids as 10-byte varints, zero fields left out, prev_kv only when
 * asked), and etcd's fragmentation: pieces under the limit (but never empty), fragment=true on
 * all but the last, events in order.
 */
import { describe, expect, it } from 'vitest';
import { protoRoot } from '../../../src/api/proto.js';
import { encodeWatchResponse, type WatchResponseWire } from '../../../src/api/watch-codec.js';
import type { Event } from '../../../src/api/kv-types.js';

const T = protoRoot.lookupType('etcdserverpb.WatchResponse');
type Obj = Record<string, unknown>;
const decode = (b: Buffer): Obj => T.toObject(T.decode(b), { longs: String, bytes: String, defaults: false }) as Obj;

function ev(i: number, size = 3, withPrev = true): Event {
  const kv = { key: Buffer.from(`k${i}`), create_revision: 2n, mod_revision: BigInt(10 + i), version: 2n, value: Buffer.alloc(size, 120), lease: 0n };
  return { type: i % 3 === 2 ? 1 : 0, kv, prev_kv: withPrev ? { ...kv, mod_revision: 2n, version: 1n, value: Buffer.from('old') } : null };
}

function resp(events: Event[], extra: Partial<WatchResponseWire> = {}): WatchResponseWire {
  return {
    header: { cluster_id: 0xfedcba9876543210n, member_id: 1n, revision: 42n, raft_term: 3n },
    watch_id: 5n,
    created: false,
    canceled: false,
    compact_revision: 0n,
    cancel_reason: '',
    fragment: false,
    events,
    prevKv: true,
    ...extra,
  };
}

describe('watch-codec', () => {
  it('encodes every field as protobufjs decodes it', () => {
    const [b] = encodeWatchResponse(resp([ev(0), ev(1), ev(2)]));
    const d = decode(b as Buffer);
    expect(d['header']).toEqual({ cluster_id: '18364758544493064720', member_id: '1', revision: '42', raft_term: '3' });
    expect(d['watch_id']).toBe('5');
    const evs = d['events'] as Obj[];
    expect(evs).toHaveLength(3);
    expect(evs[2]?.['type']).toBe(1);
    expect((evs[0]?.['kv'] as Obj)['mod_revision']).toBe('10');
    expect((evs[0]?.['prev_kv'] as Obj)['value']).toBe(Buffer.from('old').toString('base64'));
  });

  it('writes negative ids, flags and the cancel reason; leaves prev_kv out unless asked', () => {
    const [b] = encodeWatchResponse(resp([ev(0)], { watch_id: -1n, created: true, canceled: true, compact_revision: 7n, cancel_reason: 'why', prevKv: false }));
    const d = decode(b as Buffer);
    expect(d).toMatchObject({ watch_id: '-1', created: true, canceled: true, compact_revision: '7', cancel_reason: 'why' });
    expect((d['events'] as Obj[])[0]?.['prev_kv']).toBeUndefined();
    const [empty] = encodeWatchResponse(resp([], { header: { cluster_id: 0n, member_id: 0n, revision: 0n, raft_term: 0n }, watch_id: 0n }));
    expect(decode(empty as Buffer)).toEqual({ header: {} });
  });

  it('splits a large response as etcd sendFragments and nothing else', () => {
    const events = Array.from({ length: 20 }, (_, i) => ev(i, 1000));
    expect(encodeWatchResponse(resp(events), 1_000_000)).toHaveLength(1);
    expect(encodeWatchResponse(resp([ev(0, 5000)]), 100)).toHaveLength(1); // one event: never split
    const parts = encodeWatchResponse(resp(events, { fragment: true }), 4000);
    expect(parts.length).toBeGreaterThan(4);
    const ds = parts.map(decode);
    ds.forEach((d, i) => expect(d['fragment'] ?? false).toBe(i < ds.length - 1));
    for (const [i, p] of parts.entries()) if ((ds[i]?.['events'] as Obj[]).length > 1) expect(p.length).toBeLessThan(4000);
    const keys = ds.flatMap((d) => (d['events'] as Obj[]).map((e) => Buffer.from((e['kv'] as Obj)['key'] as string, 'base64').toString()));
    expect(keys).toEqual(events.map((e) => e.kv.key.toString()));
  });
});
