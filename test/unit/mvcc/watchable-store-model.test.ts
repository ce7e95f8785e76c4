/**
 * The watchable store against the store's own history: random puts, deletes, multi-write txns
 * (several per apply batch) and compactions, while hundreds of watchers with random keys,
 * ranges, filters, prev_kv and start revisions (past, current, future, created mid-run) run on
 * streams consumed at random speeds — fast, slow, stalled until the end. Each watcher's received
 * stream must equal the history filtered for it: revision order, each event once, no gap, one
 * revision never split across responses; a watcher canceled for compaction must have been
 * behind the compaction and have received exactly the history before its position. Stream
 * queues must stay within their bound whatever the consumer does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { EventType, type Event, type KeyValue } from '../../../src/api/kv-types.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { KvStore } from '../../../src/mvcc/kv-store.js';
import { WatchableStore } from '../../../src/mvcc/watchable-store.js';
import type { WatchOut, WatchStream } from '../../../src/mvcc/watch-stream.js';
import { inRange } from '../../../src/mvcc/watcher.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Spec {
  stream: number;
  id: bigint;
  key: Buffer;
  end: Buffer | null;
  startRev: bigint;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
}

interface Consumer {
  stream: WatchStream;
  speed: 'fast' | 'slow' | 'stalled';
  got: WatchOut[];
}

const streamEventsMax = 6;

function evKey(e: Event): string {
  return `${e.type}:${e.kv.key.toString()}@${e.kv.mod_revision}:${e.kv.value.toString()}:${e.kv.version}:${e.kv.create_revision}`;
}

function kvKey(kv: KeyValue | null): string {
  return kv === null ? 'null' : `${kv.key.toString()}@${kv.mod_revision}:${kv.value.toString()}:${kv.version}`;
}

async function run(seed: number): Promise<void> {
  const rand = new SeededRand(seed);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'watch-model-'));
  dirs.push(dir);
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend);
  // A small catch-up window, so watchers far apart share steps that cover only some of them.
  const ws = new WatchableStore(kv, { streamEventsMax, syncRevsMax: ([1000, 1, 6, 11] as const)[seed % 4] });
  const keys = Array.from({ length: 10 }, (_, i) => `k${String.fromCharCode(97 + i)}`);
  const history: { rev: bigint; events: Event[] }[] = [];
  /** Value of each key before each revision, for prev_kv: state[r] = map after revision r. */
  const states: Map<string, KeyValue>[] = [new Map(), new Map()];
  const consumers: Consumer[] = Array.from({ length: 20 }, (_, i) => ({
    stream: ws.newStream(),
    speed: i % 5 === 0 ? 'stalled' : i % 5 === 1 ? 'slow' : 'fast',
    got: [],
  }));
  const specs: Spec[] = [];

  const randomRange = (): { key: Buffer; end: Buffer | null } => {
    const a = rand.int(keys.length);
    switch (rand.int(4)) {
      case 0:
        return { key: Buffer.from(keys[a] as string), end: null };
      case 1: {
        const b = a + 1 + rand.int(keys.length - a);
        return { key: Buffer.from(keys[a] as string), end: Buffer.from(b >= keys.length ? 'l' : (keys[b] as string)) };
      }
      case 2:
        return { key: Buffer.from('k'), end: Buffer.from('l') };
      default:
        return { key: Buffer.from(keys[a] as string), end: Buffer.alloc(0) };
    }
  };

  const addWatcher = (): void => {
    const c = rand.int(consumers.length);
    const cur = kv.rev();
    const r = rand.int(10);
    // 0: from now; past revisions (maybe compacted); the future.
    const start = r < 3 ? 0n : r < 8 ? BigInt(1 + rand.int(Number(cur))) : cur + BigInt(1 + rand.int(5));
    const { key, end } = randomRange();
    const f = rand.int(6);
    const spec = { key, end, startRev: start, noPut: f === 0, noDelete: f === 1, prevKv: rand.int(2) === 0 };
    const id = (consumers[c] as Consumer).stream.create({ ...spec, watchId: 0n, progressNotify: false, fragment: false });
    expect(id).toBeGreaterThanOrEqual(0n);
    specs.push({ stream: c, id, ...spec, startRev: start === 0n ? cur + 1n : start });
  };

  const drain = (c: Consumer, max: number): void => {
    for (let i = 0; i < max; i++) {
      const o = c.stream.shift();
      if (!o) return;
      c.got.push(o);
    }
  };

  for (let i = 0; i < 150; i++) addWatcher();

  for (let step = 0; step < 300; step++) {
    const batch = new WriteBatch();
    const txns = 1 + rand.int(3);
    for (let t = 0; t < txns; t++) {
      const txn = kv.write(batch);
      const state = new Map(states[states.length - 1]);
      const used = new Set<string>();
      const n = 1 + rand.int(3);
      for (let i = 0; i < n; i++) {
        const k = keys[rand.int(keys.length)] as string;
        if (used.has(k)) continue;
        used.add(k);
        if (rand.int(4) === 0) txn.deleteRange(Buffer.from(k), null);
        else txn.put(Buffer.from(k), Buffer.from(`v${step}.${t}.${i}`), 0n);
      }
      const events = txn.end();
      if (events.length === 0) continue;
      const rev = (events[0] as Event).kv.mod_revision;
      for (const e of events) {
        expect(e.kv.mod_revision).toBe(rev);
        if (e.type === EventType.PUT) state.set(e.kv.key.toString(), e.kv);
        else state.delete(e.kv.key.toString());
      }
      history.push({ rev, events });
      states.push(state);
      expect(BigInt(states.length - 1)).toBe(rev);
    }
    if (rand.int(40) === 0 && kv.rev() > 40n) {
      const to = kv.rev() - 30n;
      if (to > kv.compactRev()) void kv.compact(to, batch);
    }
    await backend.commit(batch);
    if (rand.int(10) === 0) addWatcher();
    if (rand.int(30) === 0) {
      // cancel a random watcher
      const s = specs[rand.int(specs.length)] as Spec;
      (consumers[s.stream] as Consumer).stream.cancel(s.id);
    }
    for (const c of consumers) {
      if (c.speed === 'fast') drain(c, 1000);
      else if (c.speed === 'slow' && rand.int(3) === 0) drain(c, 2);
      // The bound: event responses ≤ streamEventsMax, plus control responses.
      expect(c.stream.queued).toBeLessThanOrEqual(streamEventsMax + 3 * specs.length);
      let events = 0;
      for (const o of (c.stream as unknown as { queue: WatchOut[]; head: number }).queue.slice((c.stream as unknown as { head: number }).head)) {
        if (o.watcher !== null) events++;
      }
      expect(events).toBeLessThanOrEqual(streamEventsMax);
    }
  }
  // Everyone drains; wait until nobody can progress.
  for (let round = 0; round < 10_000; round++) {
    for (const c of consumers) drain(c, 1_000_000);
    await ws.idle();
    await new Promise((r) => setImmediate(r));
    const st = ws.stats();
    if (st.unsynced === 0 && consumers.every((c) => c.stream.queued === 0)) break;
  }
  expect(ws.stats().unsynced).toBe(0);
  await kv.physicalCompaction();
  const finalCompact = kv.compactRev();

  let compactedCount = 0;
  let fullCount = 0;
  for (const s of specs) {
    const c = consumers[s.stream] as Consumer;
    const mine = c.got.filter((o) => o.watchId === s.id);
    expect(mine[0]?.created).toBe(true);
    const rest = mine.slice(1);
    const cancelIdx = rest.findIndex((o) => o.canceled);
    const evResps = cancelIdx >= 0 ? rest.slice(0, cancelIdx) : rest;
    for (const o of evResps) expect(o.events.length).toBeGreaterThan(0);
    const got = evResps.flatMap((o) => o.events);
    // one revision is never split across responses; revisions increase
    const seenRevs = new Set<bigint>();
    let last = 0n;
    for (const o of evResps) {
      const revs = [...new Set(o.events.map((e) => e.kv.mod_revision))];
      for (const r of revs) {
        expect(seenRevs.has(r)).toBe(false);
        seenRevs.add(r);
        expect(r).toBeGreaterThan(last);
        last = r;
      }
    }
    const expected: Event[] = [];
    for (const h of history) {
      if (h.rev < s.startRev) continue;
      for (const e of h.events) {
        if (!inRange(e.kv.key, s.key, s.end)) continue;
        if (e.type === EventType.PUT ? s.noPut : s.noDelete) continue;
        expected.push(e);
      }
    }
    const cancel = cancelIdx >= 0 ? rest[cancelIdx] : undefined;
    const ctx = `seed ${seed} stream ${s.stream} watcher ${s.id} start ${s.startRev}`;
    if (cancel && cancel.compactRevision !== 0n) {
      compactedCount++;
      // Behind the compaction (start ≤ position < compactRev): it got exactly the history
      // below its position.
      expect(got.map(evKey), ctx).toEqual(expected.slice(0, got.length).map(evKey));
      expect(s.startRev, ctx).toBeLessThan(cancel.compactRevision);
      const lastGot = got[got.length - 1];
      if (lastGot) expect(lastGot.kv.mod_revision, ctx).toBeLessThan(cancel.compactRevision);
      expect(cancel.compactRevision).toBeLessThanOrEqual(finalCompact);
      continue;
    }
    if (cancel) {
      // canceled by the client: a prefix
      expect(got.map(evKey), ctx).toEqual(expected.slice(0, got.length).map(evKey));
      continue;
    }
    fullCount++;
    expect(got.map(evKey), ctx).toEqual(expected.map(evKey));
    if (s.prevKv) {
      for (const e of got) {
        const isCreate = e.type === EventType.PUT && e.kv.version === 1n;
        const want = isCreate ? null : (states[Number(e.kv.mod_revision - 1n)] as Map<string, KeyValue>).get(e.kv.key.toString()) ?? null;
        // A prev_kv looked up below the compaction is absent, as in etcd.
        if (e.prev_kv === null && want !== null) expect(e.kv.mod_revision - 1n, ctx).toBeLessThan(finalCompact);
        else expect(kvKey(e.prev_kv), ctx).toBe(kvKey(want));
      }
    }
  }
  // The run exercised both paths.
  expect(fullCount).toBeGreaterThan(5);
  expect(compactedCount).toBeGreaterThan(0);
  for (const c of consumers) c.stream.close();
  await backend.close();
}

describe('WatchableStore against the store history', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 8]) {
    it(`gives every watcher its filtered history once, in order, without gaps (seed ${seed})`, async () => {
      await run(seed);
    }, 60_000);
  }
});
