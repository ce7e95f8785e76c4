/**
 * The MVCC store against a Map-of-history model under thousands of seeded random operations:
 * multi-write transactions (puts, single and range deletes, the same key twice, put after delete),
 * compactions, batches committed late (reads must see uncommitted writes), restarts after a
 * clean close and after a crash that loses the uncommitted batch. After each step, reads at
 * random revisions (ranges, limits, count-only) must equal the model, the lessor must hold
 * exactly the live leased keys, and once physical compaction is done the database must hold
 * no record a read can no longer reach.
 *
 * Replay one seed: SEED=<n> npx vitest run test/unit/mvcc/kv-store-history.test.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import type { KeyValue } from '../../../src/api/kv-types.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { metaKey, parseMvccKey, prefix, prefixUpper } from '../../../src/storage/schema.js';
import { KvStore, type LeaseHooks } from '../../../src/mvcc/kv-store.js';

interface ModelKv {
  value: string;
  create: bigint;
  mod: bigint;
  version: bigint;
  lease: bigint;
}
type State = Map<string, ModelKv>;

class FakeLessor implements LeaseHooks {
  readonly keys = new Map<bigint, Set<string>>();
  exists(id: bigint): boolean {
    return id === 1n || id === 2n;
  }
  attach(id: bigint, key: Buffer): void {
    let s = this.keys.get(id);
    if (!s) this.keys.set(id, (s = new Set()));
    s.add(key.toString());
  }
  detach(id: bigint, key: Buffer): void {
    this.keys.get(id)?.delete(key.toString());
  }
  leaseOf(keyId: string): bigint {
    const key = Buffer.from(keyId, 'latin1').toString();
    for (const [id, s] of this.keys) if (s.has(key)) return id;
    return 0n;
  }
  snapshot(): string[] {
    const out: string[] = [];
    for (const [id, s] of this.keys) for (const k of s) out.push(`${id}:${k}`);
    return out.sort();
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function view(kv: KeyValue): [string, string, bigint, bigint, bigint, bigint] {
  return [kv.key.toString(), kv.value.toString(), kv.create_revision, kv.mod_revision, kv.version, kv.lease];
}

function modelView(k: string, m: ModelKv): [string, string, bigint, bigint, bigint, bigint] {
  return [k, m.value, m.create, m.mod, m.version, m.lease];
}

async function open(dir: string, lessor: FakeLessor): Promise<{ backend: Backend; store: KvStore }> {
  const backend = await Backend.open(dir);
  // A tiny cache and small compaction chunks exercise the database paths.
  const store = await KvStore.open(backend, { leases: lessor, cacheBytesMax: 2048, compactionBatchLimit: 7 });
  return { backend, store };
}

async function runSeed(seed: number, steps: number): Promise<void> {
  const rand = new SeededRand(seed);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mvcc-history-'));
  dirs.push(dir);
  let lessor = new FakeLessor();
  let { backend, store } = await open(dir, lessor);
  const keys = Array.from({ length: 16 }, (_, i) => `k${String.fromCharCode(97 + i)}`);
  const pick = (): string => keys[rand.int(keys.length)] as string;
  // history[r] = the state at revision r; revision 1 is the empty store.
  let history: State[] = [new Map(), new Map()];
  let compacted = -1n;
  // What a crash keeps: the history and compaction as of the last committed batch.
  let durableRev = 1n;
  let durableCompacted = -1n;
  let batch = new WriteBatch();
  const rev = (): bigint => BigInt(history.length - 1);
  const ctx = (step: number, what: string): string => `seed ${seed} step ${step}: ${what}`;

  const commit = async (): Promise<void> => {
    await backend.commit(batch);
    batch = new WriteBatch();
    durableRev = rev();
    durableCompacted = compacted;
  };

  for (let step = 0; step < steps; step++) {
    const op = rand.int(100);
    if (op < 60) {
      const txn = store.write(batch);
      const next: State = new Map(history[history.length - 1]);
      const r = rev() + 1n;
      let changed = false;
      const n = 1 + rand.int(4);
      for (let i = 0; i < n; i++) {
        const kind = rand.int(10);
        if (kind < 6) {
          const k = pick();
          const v = `v${step}.${i}`;
          const lease = BigInt(rand.int(3));
          expect(txn.put(Buffer.from(k), Buffer.from(v), lease)).toBe(r);
          const prev = next.get(k);
          next.set(k, { value: v, create: prev ? prev.create : r, mod: r, version: prev ? prev.version + 1n : 1n, lease });
          changed = true;
        } else if (kind < 8) {
          const k = pick();
          const got = txn.deleteRange(Buffer.from(k), null);
          expect(got.length).toBe(next.has(k) ? 1 : 0);
          if (next.delete(k)) changed = true;
        } else if (kind < 9) {
          const [a, b] = [pick(), pick()].sort();
          const lo = a as string;
          const hi = b as string;
          const victims = [...next.keys()].filter((k) => k >= lo && k < hi).sort();
          expect(txn.deleteRange(Buffer.from(lo), Buffer.from(hi)).map((kv) => kv.key.toString())).toEqual(victims);
          for (const k of victims) next.delete(k);
          if (victims.length > 0) changed = true;
        } else {
          // a read inside the txn sees the txn's own writes
          const k = pick();
          const got = txn.range(Buffer.from(k), null).kvs[0];
          const want = next.get(k);
          expect(got ? view(got) : null, ctx(step, 'read own write')).toEqual(want ? modelView(k, want) : null);
        }
      }
      expect(txn.changed()).toBe(changed);
      const events = txn.end();
      expect(events.length > 0).toBe(changed);
      if (changed) history.push(next);
    } else if (op < 68) {
      const target = BigInt(rand.int(Number(rev()) + 2)) - (rand.int(8) === 0 ? 1n : 0n);
      if (target <= compacted) {
        expect(() => store.compact(target, batch)).toThrow(new EtcdError(Errors.Compacted));
      } else if (target > rev()) {
        expect(() => store.compact(target, batch)).toThrow(new EtcdError(Errors.FutureRev));
      } else {
        void store.compact(target, batch);
        compacted = target;
      }
    } else if (op < 85) {
      await commit();
    } else if (op < 88) {
      // clean restart, sometimes in the middle of a physical compaction
      await commit();
      if (rand.int(2) === 0) await store.physicalCompaction();
      await backend.close();
      lessor = new FakeLessor();
      ({ backend, store } = await open(dir, lessor));
    } else if (op < 90) {
      // crash: the uncommitted batch is lost; the store comes back at the last commit
      await backend.close();
      history = history.slice(0, Number(durableRev) + 1);
      compacted = durableCompacted;
      batch = new WriteBatch();
      lessor = new FakeLessor();
      ({ backend, store } = await open(dir, lessor));
    } else if (op < 92) {
      // once physical compaction is done, no record below the compaction is unreachable
      await commit();
      await store.physicalCompaction();
      if (compacted > 0n) await expectNoGarbage(backend, store, history, compacted);
    }

    expect(store.rev(), ctx(step, 'rev')).toBe(rev());
    expect(store.compactRev(), ctx(step, 'compactRev')).toBe(compacted);
    const live = [...(history[history.length - 1] as State)].filter(([, m]) => m.lease !== 0n).map(([k, m]) => `${m.lease}:${k}`);
    expect(lessor.snapshot(), ctx(step, 'leased keys')).toEqual(live.sort());

    for (let q = 0; q < 3; q++) {
      const at = BigInt(rand.int(Number(rev()) + 3)) - 1n; // -1 … rev+1
      const lo = pick();
      const endKind = rand.int(4);
      const hi = endKind === 0 ? null : endKind === 1 ? Buffer.alloc(0) : Buffer.from(pick());
      const limit = rand.int(5);
      const countOnly = rand.int(6) === 0;
      const read = (): ReturnType<KvStore['range']> => store.range(Buffer.from(lo), hi, { rev: at, limit, countOnly });
      if (at > rev()) {
        expect(read).toThrow(new EtcdError(Errors.FutureRev));
        continue;
      }
      const readAt = at <= 0n ? rev() : at;
      if (readAt < compacted) {
        expect(read).toThrow(new EtcdError(Errors.Compacted));
        continue;
      }
      const state = history[Number(readAt)] as State;
      const inRange = (k: string): boolean =>
        hi === null ? k === lo : hi.length === 0 ? k >= lo : k >= lo && k < hi.toString();
      const expected = [...state].filter(([k]) => inRange(k)).sort(([a], [b]) => (a < b ? -1 : 1));
      const res = read();
      const what = ctx(step, `range ${lo}..${hi === null ? '(single)' : hi.toString() || '(end)'} @${at} limit ${limit}`);
      expect(res.rev, what).toBe(rev());
      expect(res.count, what).toBe(expected.length);
      const want = countOnly ? [] : (limit > 0 ? expected.slice(0, limit) : expected).map(([k, m]) => modelView(k, m));
      expect(res.kvs.map(view), what).toEqual(want);
    }
  }
  await commit();
  await store.physicalCompaction();
  await backend.close();
}

/**
 * Every MVCC record at a revision < compacted is the value some key has at `compacted`; records
 * AT compacted all stay (a tombstone there is history for a watcher starting at compacted).
 */
async function expectNoGarbage(backend: Backend, store: KvStore, history: State[], compacted: bigint): Promise<void> {
  const atCompact = history[Number(compacted)] as State;
  const needed = new Set([...atCompact.values()].map((m) => m.mod));
  for await (const [k] of backend.entries(prefix.mvcc, prefixUpper(prefix.mvcc))) {
    const { main, tombstone } = parseMvccKey(k);
    if (main >= compacted) continue;
    expect(tombstone, `tombstone @${main} survived compaction at ${compacted}`).toBe(false);
    expect(needed.has(main), `record @${main} survived compaction at ${compacted}`).toBe(true);
  }
  expect(backend.getU64(metaKey.finishedCompactRev)).toBe(store.compactRev());
}

const only = process.env.SEED ? [Number(process.env.SEED)] : [11, 12, 13, 14, 15, 16];

describe('KvStore against a Map-of-history model', () => {
  for (const seed of only) {
    it(`reads at any retained revision equal the model through txns, compactions, late commits, restarts and crashes (seed ${seed})`, async () => {
      await runSeed(seed, 1500);
    }, 60_000);
  }
});
