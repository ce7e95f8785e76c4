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

async function open(): Promise<Backend> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'backend-'));
  dirs.push(dir);
  return Backend.open(dir);
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
});
