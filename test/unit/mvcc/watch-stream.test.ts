/**
 * WatchStream and the watchable store's stream-level behaviour, without gRPC: ids, the created
 * response before any event, cancel dropping queued events, progress requests answered only
 * when every watcher is synced (deferred otherwise), the periodic progress tick for
 * progress_notify watchers, and a stalled stream that neither blocks writes nor grows: its
 * watcher falls behind and catches up from MVCC once the stream drains.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { KvStore } from '../../../src/mvcc/kv-store.js';
import { WatchableStore } from '../../../src/mvcc/watchable-store.js';
import type { CreateRequest, WatchOut, WatchStream } from '../../../src/mvcc/watch-stream.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(streamEventsMax = 1024, streamBytesMax = 1 << 30): Promise<{ kv: KvStore; ws: WatchableStore; put: (k: string, v: string) => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'watch-stream-'));
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend);
  const ws = new WatchableStore(kv, { streamEventsMax, streamBytesMax });
  cleanups.push(async () => {
    ws.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const put = async (k: string, v: string): Promise<void> => {
    const b = new WriteBatch();
    const t = kv.write(b);
    t.put(Buffer.from(k), Buffer.from(v), 0n);
    t.end();
    await backend.commit(b);
  };
  return { kv, ws, put };
}

function req(key: string, extra: Partial<CreateRequest> = {}): CreateRequest {
  return { watchId: 0n, key: Buffer.from(key), end: null, startRev: 0n, noPut: false, noDelete: false, prevKv: false, progressNotify: false, fragment: false, ...extra };
}

function drain(s: WatchStream): WatchOut[] {
  const out: WatchOut[] = [];
  for (let o = s.shift(); o; o = s.shift()) out.push(o);
  return out;
}

describe('WatchStream', () => {
  it('auto ids count from 0 skipping client-chosen ones; a duplicate id is refused with etcd reason', async () => {
    const { ws } = await setup();
    const s = ws.newStream();
    expect(s.create(req('a', { watchId: 1n }))).toBe(1n);
    expect(s.create(req('a'))).toBe(0n);
    expect(s.create(req('a'))).toBe(2n);
    expect(s.create(req('a', { watchId: 2n }))).toBe(-1n);
    const out = drain(s);
    expect(out.map((o) => [o.watchId, o.created, o.canceled, o.cancelReason])).toEqual([
      [1n, true, false, ''],
      [0n, true, false, ''],
      [2n, true, false, ''],
      [-1n, true, true, 'mvcc: duplicate watch ID provided on the WatchStream'],
    ]);
  });

  it('a cancel drops the events still queued for that watcher and answers canceled', async () => {
    const { ws, put } = await setup();
    const s = ws.newStream();
    const id = s.create(req('k'));
    await put('k', '1');
    await put('k', '2');
    expect(s.cancel(id)).toBe(true);
    expect(s.cancel(99n)).toBe(false);
    const out = drain(s);
    expect(out.map((o) => [o.created, o.canceled, o.events.length])).toEqual([
      [true, false, 0],
      [false, true, 0],
    ]);
  });

  it('answers a progress request at once when all watchers are synced, else once they are', async () => {
    const { kv, ws, put } = await setup();
    for (let i = 0; i < 5; i++) await put('k', `${i}`);
    const s = ws.newStream();
    s.create(req('k'));
    drain(s);
    s.requestProgress();
    expect(drain(s).map((o) => [o.watchId, o.rev])).toEqual([[-1n, kv.rev()]]);
    // A watcher from the past is unsynced until it caught up: the progress waits for it.
    s.create(req('k', { startRev: 2n }));
    s.requestProgress();
    const before = drain(s);
    expect(before.some((o) => o.watchId === -1n)).toBe(false);
    await ws.idle();
    const after = drain(s);
    const events = after.filter((o) => o.events.length > 0);
    const progress = after.findIndex((o) => o.watchId === -1n);
    expect(events.flatMap((o) => o.events).map((e) => e.kv.mod_revision)).toEqual([2n, 3n, 4n, 5n, 6n]);
    expect(progress).toBeGreaterThan(after.indexOf(events[events.length - 1] as WatchOut));
  });

  it('the progress tick reaches progress_notify watchers that got no event since the last tick', async () => {
    const { ws, put } = await setup();
    const s = ws.newStream();
    const a = s.create(req('a', { progressNotify: true }));
    s.create(req('b'));
    drain(s);
    s.progressTick();
    expect(drain(s).map((o) => [o.watchId, o.events.length])).toEqual([[a, 0]]);
    await put('a', '1');
    drain(s);
    s.progressTick(); // had an event: nothing
    expect(drain(s)).toEqual([]);
    s.progressTick();
    expect(drain(s).map((o) => o.watchId)).toEqual([a]);
  });

  it('a stalled stream never blocks writes nor holds more than its bound; its watcher catches up after', async () => {
    const { ws, put } = await setup(4);
    const s = ws.newStream();
    s.create(req('k'));
    for (let i = 0; i < 50; i++) await put('k', `${i}`);
    // Created response + at most 4 event responses queued.
    expect(s.queued).toBeLessThanOrEqual(5);
    expect(ws.stats().unsynced).toBe(1);
    const got: bigint[] = [];
    for (let round = 0; round < 100 && got.length < 50; round++) {
      for (const o of drain(s)) got.push(...o.events.map((e) => e.kv.mod_revision));
      await ws.idle();
    }
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i + 2)));
    expect(ws.stats().unsynced).toBe(0);
  });

  it('bounds a stalled stream by bytes too: large values queue at most one response past the bound', async () => {
    const { ws, put } = await setup(1024, 100_000);
    const s = ws.newStream();
    s.create(req('k'));
    const big = 'x'.repeat(30_000);
    for (let i = 0; i < 20; i++) await put('k', big + i);
    expect(s.queued).toBeLessThanOrEqual(1 + 4); // created + ⌈100 000 / 30 000⌉ responses
    let got = 0;
    for (let round = 0; round < 100 && got < 20; round++) {
      for (const o of drain(s)) got += o.events.length;
      await ws.idle();
    }
    expect(got).toBe(20);
  });
});
