/**
 * The backend: batches land in commit order and run their hooks after landing; sync reads see
 * committed data; scans are ordered and chunked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Backend, WriteBatch, scanChunkKeys } from '../../../src/storage/backend.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(opts: { batchIntervalMs?: number; batchLimit?: number } = {}): Promise<Backend> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'backend-'));
  dirs.push(dir);
  return Backend.open(dir, opts);
}

describe('Backend', () => {
  it('lands batches in commit order and runs each batch hook once its write is readable', async () => {
    const be = await open();
    const seen: string[] = [];
    const promises: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      const b = new WriteBatch();
      b.put(Buffer.from('x'), Buffer.from(String(i)));
      b.onCommitted(() => seen.push(`${i}:${be.getSync(Buffer.from('x'))?.toString()}`));
      promises.push(be.commit(b, i % 5 === 0));
    }
    expect(be.getSync(Buffer.from('x'))).toBeUndefined();
    await Promise.all(promises);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `${i}:${i}`));
    await be.close();
  });

  it('an empty batch still runs its hooks, after the batches before it', async () => {
    const be = await open();
    const order: string[] = [];
    const a = new WriteBatch();
    a.put(Buffer.from('a'), Buffer.from('1'));
    a.onCommitted(() => order.push('a'));
    const e = new WriteBatch();
    e.onCommitted(() => order.push('empty'));
    await Promise.all([be.commit(a), be.commit(e, { sync: true })]);
    expect(order).toEqual(['a', 'empty']);
    expect(() => be.commit(a)).toThrow(/committed twice/);
    expect(() => a.put(Buffer.from('b'), Buffer.from('2'))).toThrow();
    await be.close();
  });

  it('scans [gte, lt) in key order across chunks; keys() honours its limit', async () => {
    const be = await open();
    const b = new WriteBatch();
    const n = scanChunkKeys * 2 + 17;
    for (let i = 0; i < n; i++) b.put(Buffer.from(`k${String(i).padStart(5, '0')}`), Buffer.from([i & 0xff]));
    b.put(Buffer.from('z'), Buffer.from('outside'));
    await be.commit(b);
    let count = 0;
    let last = '';
    for await (const [k] of be.entries(Buffer.from('k'), Buffer.from('l'))) {
      expect(k.toString() > last).toBe(true);
      last = k.toString();
      count++;
    }
    expect(count).toBe(n);
    expect((await be.keys(Buffer.from('k'), Buffer.from('l'), 10)).length).toBe(10);
    expect(be.getU64(Buffer.from('missing'))).toBeUndefined();
    expect(be.sizeOnDisk()).toBeGreaterThan(0);
    await be.close();
  });

  it('gathers unsynced commits into one write per interval or limit, in order; sync, drain and close write at once', async () => {
    const be = await open({ batchIntervalMs: 60_000, batchLimit: 5 });
    const landed: number[] = [];
    const put = (i: number, sync = false): Promise<void> => {
      const b = new WriteBatch();
      b.put(Buffer.from(`k${i}`), Buffer.from(String(i)));
      b.onCommitted(() => landed.push(i));
      return be.commit(b, sync);
    };
    // Four commits wait (the interval is a minute away); the fifth reaches the limit.
    const first = [0, 1, 2, 3].map((i) => put(i));
    expect(be.pendingOps()).toBe(4);
    await new Promise((r) => setTimeout(r, 20));
    expect(landed).toEqual([]);
    expect(be.getSync(Buffer.from('k0'))).toBeUndefined();
    await Promise.all([...first, put(4)]);
    expect(landed).toEqual([0, 1, 2, 3, 4]);
    // A synced commit writes what waits before it, then itself.
    const waiting = put(5);
    await put(6, true);
    await waiting;
    expect(landed).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // drain() writes the group now.
    const later = put(7);
    await be.drain();
    await later;
    expect(be.getSync(Buffer.from('k7'))?.toString()).toBe('7');
    void put(8);
    await be.close();
    expect(landed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('writes a gathered group after the interval', async () => {
    const be = await open({ batchIntervalMs: 30 });
    const b = new WriteBatch();
    b.put(Buffer.from('a'), Buffer.from('1'));
    const t0 = Date.now();
    await be.commit(b);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(be.getSync(Buffer.from('a'))?.toString()).toBe('1');
    await be.close();
  });
});
