/**
 * The simulator's in-memory engine and disk: LevelDB's and POSIX's durability as the WAL and
 * the backend assume it, and what a crash leaves (src/storage/memory-io.ts).
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { MemoryVolume } from '../../../src/storage/memory-disk.js';
import { MemoryEngineStore } from '../../../src/storage/memory-engine.js';
import type { MemoryIo } from '../../../src/storage/memory-io.js';
import { Wal } from '../../../src/storage/wal.js';

/** Completions run only when the test says. */
class ManualIo implements MemoryIo {
  readonly waiting: (() => void)[] = [];
  complete(_kind: 'read' | 'write', fn: () => void): void {
    this.waiting.push(fn);
  }
  /** Runs completions (and what they start) until none is left. */
  async drain(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      await new Promise((r) => setImmediate(r));
      const fn = this.waiting.shift();
      if (fn === undefined) return;
      fn();
    }
  }
  async runOne(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.waiting.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
}

const b = (s: string): Buffer => Buffer.from(s);
const put = (k: string, v: string) => ({ type: 'put' as const, key: b(k), value: b(v) });

describe('MemoryEngine', () => {
  it('shows a write only once it completed, in issue order; iterators read the state of their creation', async () => {
    const io = new ManualIo();
    const e = new MemoryEngineStore().open(io);
    const w1 = e.write([put('b', '1'), put('a', '1')], false);
    const w2 = e.write([put('c', '2'), { type: 'del', key: b('a') }], false);
    expect(e.getSync(b('a'))).toBeUndefined();
    await io.runOne();
    expect(e.getSync(b('a'))?.toString()).toBe('1');
    expect(e.getSync(b('c'))).toBeUndefined();
    const it1 = e.iterator({ gte: b('a'), lt: b('z') });
    await io.drain();
    await Promise.all([w1, w2]);
    expect(e.getSync(b('a'))).toBeUndefined();
    const read = it1.nextv(10);
    await io.drain();
    expect((await read).map(([k, v]) => `${k}=${v}`)).toEqual(['a=1', 'b=1']);
    const keys = e.keys(b('a'), b('c'), 10);
    await io.drain();
    expect((await keys).map(String)).toEqual(['b']);
  });

  it('a process crash keeps completed writes; a power loss keeps a prefix of what was not synced; a sync write makes earlier ones durable', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const store = new MemoryEngineStore();
      const io = new ManualIo();
      const e = store.open(io);
      void e.write([put('a', '1')], false);
      void e.write([put('b', '1')], true);
      void e.write([put('c', '1')], false);
      void e.write([put('d', '1')], false);
      await io.runOne();
      await io.runOne();
      await io.runOne(); // a, b (sync), c completed; d in flight
      const power = seed % 2 === 0;
      const out = store.crash(power ? 'power' : 'process', new SeededRand(seed));
      expect(out.pending).toBe(2);
      const after = store.open(new ManualIo());
      const has = (k: string): boolean => after.getSync(b(k)) !== undefined;
      expect(has('a') && has('b')).toBe(true);
      if (!power) expect(has('c')).toBe(true);
      if (has('d')) expect(has('c')).toBe(true);
      // The dead handle: nothing completes, nothing lands.
      void e.write([put('z', '1')], true);
      await io.drain();
      expect(after.getSync(b('z'))).toBeUndefined();
      expect(e.isOpen).toBe(false);
    }
  });

  it('runs the Backend: group commits land in order and read back', async () => {
    const store = new MemoryEngineStore();
    const be = await Backend.open('/db', { engine: async () => store.open() });
    const batch = new WriteBatch();
    batch.put(b('k1'), b('v1'));
    await be.commit(batch, true);
    expect(be.getSync(b('k1'))?.toString()).toBe('v1');
    const seen: string[] = [];
    for await (const [k] of be.scan(b('a'), b('z'))) seen.push(k.toString());
    expect(seen).toEqual(['k1']);
    await be.close();
  });
});

describe('MemoryDisk', () => {
  it('a crash during a WAL append leaves a torn tail that replay cuts off; synced records survive', async () => {
    const outcomes = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const vol = new MemoryVolume();
      const io = new ManualIo();
      const opened = Wal.open('/m/wal', 4096, vol.mount(io));
      await io.drain();
      const { wal } = await opened;
      const entry = (i: number) => ({ index: BigInt(i), term: 1n, type: 0, data: Buffer.alloc(100, i) });
      const s1 = wal.save({ term: 1n, vote: 0n, commit: 0n }, [entry(1), entry(2)], true);
      await io.drain();
      await s1;
      void wal.save({ term: 1n, vote: 0n, commit: 2n }, [entry(3), entry(4)], true); // in flight
      await new Promise((r) => setImmediate(r));
      vol.crash(seed % 2 ? 'process' : 'power', new SeededRand(seed));
      const io2 = new ManualIo();
      const again = Wal.open('/m/wal', 4096, vol.mount(io2));
      await io2.drain();
      const { state } = await again;
      const idx = state.entries.map((e) => Number(e.index));
      expect(idx.slice(0, 2)).toEqual([1, 2]);
      expect(idx.length === 2 || idx.length === 3 || idx.length === 4).toBe(true);
      outcomes.add(idx.length);
    }
    // Some crashes lost the append, some tore it, some kept it whole.
    expect([...outcomes].sort()).toEqual([2, 3, 4]);
  });

  it('an unsynced write may be lost by a power loss but not by a process crash; sync makes it durable', async () => {
    let lostOnce = false;
    for (let seed = 1; seed <= 20; seed++) {
      const vol = new MemoryVolume();
      const io = new ManualIo();
      const d = vol.mount(io);
      const run = async <T>(p: Promise<T>): Promise<T> => {
        await io.drain();
        return p;
      };
      await run(d.mkdirp('/s'));
      const f = await run(d.open('/s/a', { create: true }));
      await run(f.write(b('synced'), 0));
      await run(f.sync());
      await run(f.write(b('+more'), 6));
      const power = seed % 2 === 0;
      vol.crash(power ? 'power' : 'process', new SeededRand(seed));
      const d2 = vol.mount(new ManualIo());
      const io2 = (d2 as unknown as { io: ManualIo }).io;
      const got = d2.readFile('/s/a');
      await io2.drain();
      const text = (await got).toString();
      expect(text.startsWith('synced')).toBe(true);
      if (!power) expect(text).toBe('synced+more');
      if (text !== 'synced+more') lostOnce = true;
    }
    expect(lostOnce).toBe(true);
  });
});
