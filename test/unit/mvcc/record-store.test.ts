/**
 * RecordStore's cache of landed records: bounded in bytes, CLOCK eviction (a record read since
 * it was queued survives one round), every read right after eviction (from the database), and
 * the eviction queue stays proportional to the cache — the Map-as-LRU it replaced made each
 * eviction walk V8's deleted slots, so CPU per put doubled as a run went on (perf.py drift).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyValue } from '../../../src/api/kv-types.js';
import { RecordStore } from '../../../src/mvcc/record-store.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';

const dirs: string[] = [];
const backends: Backend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(): Promise<Backend> {
  const d = mkdtempSync(path.join(tmpdir(), 'etcdts-records-'));
  dirs.push(d);
  const be = await Backend.open(d);
  backends.push(be);
  return be;
}

function kv(main: number): KeyValue {
  return { key: Buffer.from(`k${main}`), value: Buffer.alloc(100, main % 251), create_revision: BigInt(main), mod_revision: BigInt(main), version: 1n, lease: 0n };
}

/** Each record its own landed batch, as apply rounds land. */
async function write(be: Backend, rs: RecordStore, from: number, to: number): Promise<void> {
  for (let m = from; m <= to; m++) {
    const b = new WriteBatch();
    rs.putRecord(b, m, 0, kv(m));
    await be.commit(b, { now: true });
  }
}

type Internals = { cache: { queue: unknown[]; queueLength: number } };

describe('RecordStore cache', () => {
  it('stays within its byte bound, answers every record, and keeps its queue proportional to the cache', async () => {
    const be = await open();
    const max = 64 * 1024; // ~240 records of ~270 bytes
    const rs = new RecordStore(be, max);
    await write(be, rs, 1, 5000);
    const st = rs.stats();
    expect(st.overlayRecords).toBe(0);
    expect(st.cacheBytes).toBeLessThanOrEqual(max);
    expect(st.cacheRecords).toBeGreaterThan(100);
    const inner = (rs as unknown as Internals).cache;
    expect(inner.queueLength).toBe(st.cacheRecords);
    // The array behind the queue is compacted: not one slot per record ever written.
    expect(inner.queue.length).toBeLessThan(4 * st.cacheRecords + 2048);
    for (const m of [1, 2, 2500, 4999, 5000]) expect(rs.get(m, 0).value.equals(kv(m).value)).toBe(true);
    expect(rs.stats().cacheBytes).toBeLessThanOrEqual(max);
  });

  it('gives a record read since it was cached a second chance', async () => {
    const be = await open();
    const rs = new RecordStore(be, 64 * 1024);
    await write(be, rs, 1, 200);
    rs.get(1, 0); // the oldest, and now referenced
    await write(be, rs, 201, 260); // pushes out the oldest unreferenced records, not record 1
    const cached = (rs as unknown as { cache: { has(k: number): boolean } }).cache;
    expect(cached.has(1 * 0x200000)).toBe(true);
    expect(cached.has(2 * 0x200000)).toBe(false);
  });
});
