/**
 * The MVCC store against a dumb model: a list of every revision's full key→value map. Random
 * puts, deletes, multi-write txns, compactions and reopens (seeded); after each step reads at
 * random retained revisions, with limits and ranges, must equal the model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { KvStore } from '../../../src/mvcc/kv-store.js';

interface ModelKv {
  value: string;
  create: bigint;
  mod: bigint;
  version: bigint;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openStore(dir: string): Promise<{ backend: Backend; store: KvStore }> {
  const backend = await Backend.open(dir);
  return { backend, store: await KvStore.open(backend) };
}

describe('KvStore against a model of every revision', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`agrees with the model on reads at every retained revision (seed ${seed})`, async () => {
      const rand = new SeededRand(seed);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'mvcc-model-'));
      dirs.push(dir);
      let { backend, store } = await openStore(dir);
      const keys = Array.from({ length: 12 }, (_, i) => `k${String.fromCharCode(97 + i)}`);
      // history[r] = state after revision r; revision 1 is the empty store.
      const history: Map<string, ModelKv>[] = [new Map(), new Map()];
      let compacted = -1n;
      const rev = (): bigint => BigInt(history.length - 1);
      for (let step = 0; step < 400; step++) {
        const op = rand.int(100);
        const batch = new WriteBatch();
        if (op < 70) {
          // a transaction of 1–3 writes (distinct keys), one revision
          const txn = store.write(batch);
          const next = new Map(history[history.length - 1]);
          const n = 1 + rand.int(3);
          const used = new Set<string>();
          const r = rev() + 1n;
          for (let i = 0; i < n; i++) {
            const k = keys[rand.int(keys.length)] as string;
            if (used.has(k)) continue;
            used.add(k);
            if (rand.int(4) === 0) {
              txn.deleteRange(Buffer.from(k), null);
              next.delete(k);
            } else {
              const v = `v${step}-${i}`;
              txn.put(Buffer.from(k), Buffer.from(v), 0n);
              const prev = next.get(k);
              next.set(k, { value: v, create: prev ? prev.create : r, mod: r, version: prev ? prev.version + 1n : 1n });
            }
          }
          const changed = txn.changed();
          txn.end();
          if (changed) history.push(next);
        } else if (op < 78) {
          const target = BigInt(rand.int(Number(rev()) + 2));
          if (target <= compacted) {
            expect(() => store.compact(target, batch)).toThrow(new EtcdError(Errors.Compacted));
          } else if (target > rev()) {
            expect(() => store.compact(target, batch)).toThrow(new EtcdError(Errors.FutureRev));
          } else {
            void store.compact(target, batch);
            compacted = target;
          }
        } else if (op < 82) {
          await backend.commit(batch);
          store.startPhysicalCompaction();
          await store.physicalCompaction();
          await backend.close();
          ({ backend, store } = await openStore(dir));
          continue;
        }
        await backend.commit(batch);
        store.startPhysicalCompaction();
        expect(store.rev()).toBe(rev());
        // reads at random revisions
        for (let q = 0; q < 4; q++) {
          const at = BigInt(rand.int(Number(rev()) + 2));
          if (at > rev()) {
            expect(() => store.range(Buffer.from('k'), Buffer.alloc(0), { rev: at })).toThrow(new EtcdError(Errors.FutureRev));
            continue;
          }
          if (at !== 0n && at < compacted) {
            expect(() => store.range(Buffer.from('k'), Buffer.alloc(0), { rev: at })).toThrow(new EtcdError(Errors.Compacted));
            continue;
          }
          const state = history[Number(at === 0n ? rev() : at)] as Map<string, ModelKv>;
          const lo = keys[rand.int(keys.length)] as string;
          const hi = keys[rand.int(keys.length)] as string;
          const limit = rand.int(4);
          const res = store.range(Buffer.from(lo), Buffer.from(hi), { rev: at, limit });
          const expected = [...state.entries()].filter(([k]) => k >= lo && k < hi).sort(([a], [b]) => (a < b ? -1 : 1));
          expect(res.count).toBe(expected.length);
          const want = (limit > 0 ? expected.slice(0, limit) : expected).map(([k, m]) => ({
            key: k,
            value: m.value,
            create: m.create,
            mod: m.mod,
            version: m.version,
          }));
          expect(
            res.kvs.map((kv) => ({
              key: kv.key.toString(),
              value: kv.value.toString(),
              create: kv.create_revision,
              mod: kv.mod_revision,
              version: kv.version,
            })),
          ).toEqual(want);
        }
      }
      await backend.close();
    });
  }
});

describe('KvStore worked examples', () => {
  it('starts at revision 1, a write gets revision 2, a read-only txn consumes none', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mvcc-'));
    dirs.push(dir);
    const { backend, store } = await openStore(dir);
    expect(store.rev()).toBe(1n);
    const b = new WriteBatch();
    const t = store.write(b);
    expect(t.put(Buffer.from('a'), Buffer.from('1'), 0n)).toBe(2n);
    t.end();
    const r = store.write(b);
    r.range(Buffer.from('a'), null);
    r.end();
    expect(store.rev()).toBe(2n);
    await backend.close();
  });

  it('a delete ends a generation: the next put recreates the key with version 1', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mvcc-'));
    dirs.push(dir);
    const { backend, store } = await openStore(dir);
    const b = new WriteBatch();
    const put = (v: string): void => {
      const t = store.write(b);
      t.put(Buffer.from('k'), Buffer.from(v), 0n);
      t.end();
    };
    put('a'); // rev 2
    put('b'); // rev 3
    const d = store.write(b);
    expect(d.deleteRange(Buffer.from('k'), null)).toHaveLength(1); // rev 4
    d.end();
    put('c'); // rev 5
    const now = store.range(Buffer.from('k'), null).kvs[0];
    expect(now && [now.create_revision, now.mod_revision, now.version]).toEqual([5n, 5n, 1n]);
    expect(store.range(Buffer.from('k'), null, { rev: 4n }).kvs).toHaveLength(0);
    const old = store.range(Buffer.from('k'), null, { rev: 3n }).kvs[0];
    expect(old && [old.create_revision, old.mod_revision, old.version, old.value.toString()]).toEqual([2n, 3n, 2n, 'b']);
    // Compaction at 4 keeps what reads at ≥ 4 need: the tombstone goes, the new generation stays.
    void store.compact(4n, b);
    expect(() => store.range(Buffer.from('k'), null, { rev: 3n })).toThrow(new EtcdError(Errors.Compacted));
    expect(store.range(Buffer.from('k'), null, { rev: 4n }).kvs).toHaveLength(0);
    expect(store.range(Buffer.from('k'), null).kvs[0]?.value.toString()).toBe('c');
    await backend.commit(b);
    await backend.close();
  });
});
