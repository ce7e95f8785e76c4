/**
 * KvStore worked examples: visibility before the batch lands, bounded cache, the physical
 * compaction promise, compaction resumed after a restart, events, and restart equivalence.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { metaKey, parseMvccKey, prefix, prefixUpper } from '../../../src/storage/schema.js';
import { KvStore } from '../../../src/mvcc/kv-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kvstore-'));
  dirs.push(d);
  return d;
}

const b = (s: string): Buffer => Buffer.from(s);

function putAll(store: KvStore, batch: WriteBatch, pairs: [string, string][]): bigint {
  const t = store.write(batch);
  let r = 0n;
  for (const [k, v] of pairs) r = t.put(b(k), b(v), 0n);
  t.end();
  return r;
}

async function mvccRecords(be: Backend): Promise<number> {
  let n = 0;
  for await (const _ of be.entries(prefix.mvcc, prefixUpper(prefix.mvcc))) n++;
  return n;
}

/** Every key's full history readable at every retained revision. */
function dump(store: KvStore): string[] {
  const out: string[] = [];
  for (let r = store.compactRev() < 1n ? 1n : store.compactRev(); r <= store.rev(); r++) {
    for (const kv of store.range(b('\0'), Buffer.alloc(0), { rev: r }).kvs) {
      out.push(`@${r} ${kv.key} ${kv.value} c${kv.create_revision} m${kv.mod_revision} v${kv.version} l${kv.lease}`);
    }
  }
  return out;
}

describe('KvStore', () => {
  it('serves writes from the overlay before their batch lands, and from disk after', async () => {
    const be = await Backend.open(tmp());
    const store = await KvStore.open(be, { cacheBytesMax: 0 });
    const batch = new WriteBatch();
    putAll(store, batch, [['a', '1'], ['b', '2']]);
    expect(be.getSync(b('a'))).toBeUndefined();
    expect(store.range(b('a'), b('c')).kvs.map((kv) => kv.value.toString())).toEqual(['1', '2']);
    expect(store.stats().overlayRecords).toBe(2);
    await be.commit(batch);
    expect(store.stats().overlayRecords).toBe(0);
    // with no cache every read goes to classic-level
    expect(store.stats().cacheRecords).toBe(0);
    expect(store.range(b('a'), b('c')).kvs.map((kv) => kv.value.toString())).toEqual(['1', '2']);
    await be.close();
  });

  it('keeps the decoded-record cache within its byte budget', async () => {
    const be = await Backend.open(tmp());
    const store = await KvStore.open(be, { cacheBytesMax: 10_000 });
    for (let i = 0; i < 50; i++) {
      const batch = new WriteBatch();
      putAll(store, batch, [[`k${i}`, 'x'.repeat(1000)]]);
      await be.commit(batch);
    }
    expect(store.range(b('k'), b('l')).count).toBe(50);
    expect(store.stats().cacheBytes).toBeLessThanOrEqual(10_000);
    await be.close();
  });

  it('returns PUT events without prev_kv (read by the watch layer when asked) and DELETE events with it, DELETE carrying only key and revision', async () => {
    const be = await Backend.open(tmp());
    const store = await KvStore.open(be);
    const batch = new WriteBatch();
    putAll(store, batch, [['a', '1']]);
    const t = store.write(batch);
    t.put(b('a'), b('2'), 0n);
    t.deleteRange(b('a'), null);
    t.put(b('a'), b('3'), 0n);
    const evs = t.end();
    expect(evs.map((e) => [e.type, e.kv.value.toString(), e.kv.mod_revision, e.kv.version, e.kv.create_revision, e.prev_kv?.value.toString() ?? null])).toEqual([
      [0, '2', 3n, 2n, 2n, null],
      [1, '', 3n, 0n, 0n, '2'],
      [0, '3', 3n, 1n, 3n, null],
    ]);
    expect(store.rev()).toBe(3n);
    await be.commit(batch);
    await be.close();
  });

  it('resolves the physical promise only once compacted records are gone from disk', async () => {
    const be = await Backend.open(tmp());
    const store = await KvStore.open(be, { compactionBatchLimit: 3 });
    const batch = new WriteBatch();
    for (let v = 0; v < 5; v++) putAll(store, batch, [['a', `${v}`], ['b', `${v}`]]); // revs 2..6
    await be.commit(batch);
    expect(await mvccRecords(be)).toBe(10);
    const cb = new WriteBatch();
    const physical = store.compact(5n, cb);
    let done = false;
    void physical.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false); // not before its batch lands
    await be.commit(cb);
    await physical;
    // a and b keep their value at 5 and at 6
    expect(await mvccRecords(be)).toBe(4);
    expect(be.getU64(metaKey.finishedCompactRev)).toBe(5n);
    expect(be.getU64(metaKey.scheduledCompactRev)).toBe(5n);
    await be.close();
  });

  it('resumes an interrupted physical compaction at open and rebuilds the same state', async () => {
    const dir = tmp();
    let be = await Backend.open(dir);
    let store = await KvStore.open(be, { compactionBatchLimit: 2 });
    for (let v = 0; v < 20; v++) {
      const batch = new WriteBatch();
      putAll(store, batch, [[`k${v % 4}`, `${v}`], [`j${v % 3}`, `${v}`]]);
      if (v % 5 === 4) {
        const t = store.write(batch);
        t.deleteRange(b('j'), b('k'));
        t.end();
      }
      await be.commit(batch);
    }
    const cb = new WriteBatch();
    void store.compact(18n, cb);
    const before = dump(store);
    await be.commit(cb);
    // close at once: the compactor is cut off after at most a chunk or two
    await be.close();
    be = await Backend.open(dir);
    store = await KvStore.open(be, { compactionBatchLimit: 2 });
    expect(store.compactRev()).toBe(18n);
    expect(dump(store)).toEqual(before);
    await store.physicalCompaction();
    expect(be.getU64(metaKey.finishedCompactRev)).toBe(18n);
    for await (const [k] of be.entries(prefix.mvcc, prefixUpper(prefix.mvcc))) {
      const { main, tombstone } = parseMvccKey(k);
      if (main <= 18n) expect(tombstone).toBe(false);
    }
    await be.close();
    be = await Backend.open(dir);
    store = await KvStore.open(be);
    expect(dump(store)).toEqual(before);
    await be.close();
  });

  it('lists the changes of a revision window in order, landed or not, each exactly once', async () => {
    const be = await Backend.open(tmp());
    const store = await KvStore.open(be);
    const b1 = new WriteBatch();
    putAll(store, b1, [['a', '1'], ['b', '1']]); // rev 2
    await be.commit(b1);
    const b2 = new WriteBatch();
    const t = store.write(b2); // rev 3
    t.deleteRange(b('a'), null);
    t.put(b('c'), b('3'), 0n);
    t.end();
    putAll(store, b2, [['b', '4']]); // rev 4, same batch, not landed
    const fmt = (evs: Awaited<ReturnType<KvStore['changes']>>): string[] =>
      evs.map((e) => `${e.kv.mod_revision} ${e.type === 0 ? 'PUT' : 'DEL'} ${e.kv.key}${e.type === 0 ? `=${e.kv.value}` : ''}`);
    const want = ['2 PUT a=1', '2 PUT b=1', '3 DEL a', '3 PUT c=3', '4 PUT b=4'];
    // the batch lands while the listing is under way
    const listing = store.changes(2n, 4n);
    const landing = be.commit(b2);
    expect(fmt(await listing)).toEqual(want);
    await landing;
    expect(fmt(await store.changes(2n, 4n))).toEqual(want);
    expect(fmt(await store.changes(3n, 3n))).toEqual(['3 DEL a', '3 PUT c=3']);
    expect(await store.changes(5n, 4n)).toEqual([]);
    await be.close();
  });
});
