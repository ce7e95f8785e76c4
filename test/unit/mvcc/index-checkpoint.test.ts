/**
 * The key index checkpoint (src/mvcc/index-checkpoint.ts): a store reopened from a checkpoint
 * plus the records written after it reads exactly as one rebuilt from every record — every key
 * at every retained revision, deletes, txns with several changes, compaction after the
 * checkpoint, leases — and a checkpoint that cannot be trusted (bad digest, another id in the
 * database, none) is ignored.
 */
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { metaKey } from '../../../src/storage/schema.js';
import { KvStore, type LeaseHooks } from '../../../src/mvcc/kv-store.js';
import { readIndexCheckpoint } from '../../../src/mvcc/index-checkpoint.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const b = (s: string): Buffer => Buffer.from(s);

/** A lease table good enough for the store: leases 1..3 exist; attachments recorded. */
function leases(): LeaseHooks & { attached: Map<string, bigint> } {
  const attached = new Map<string, bigint>();
  return {
    attached,
    exists: (id) => id >= 1n && id <= 3n,
    attach: (id, key) => void attached.set(key.toString('latin1'), id),
    detach: (_id, key) => void attached.delete(key.toString('latin1')),
    attachedKeys: () => new Map(attached),
    leaseOf: (keyId) => attached.get(keyId) ?? 0n,
  };
}

function dump(store: KvStore): string[] {
  const out: string[] = [`rev ${store.rev()} compact ${store.compactRev()} keys ${store.keyCount()}`];
  for (let r = store.compactRev() < 1n ? 1n : store.compactRev(); r <= store.rev(); r++) {
    for (const kv of store.range(b('\0'), Buffer.alloc(0), { rev: r }).kvs) {
      out.push(`@${r} ${kv.key} ${kv.value} c${kv.create_revision} m${kv.mod_revision} v${kv.version} l${kv.lease}`);
    }
  }
  return out;
}

async function randomWrites(store: KvStore, be: Backend, rand: SeededRand, n: number, compact = true): Promise<void> {
  for (let i = 0; i < n; i++) {
    const batch = new WriteBatch();
    const t = store.write(batch);
    const ops = 1 + rand.int(3);
    for (let k = 0; k < ops; k++) {
      const key = b(`k${rand.int(40)}`);
      if (rand.int(5) === 0) t.deleteRange(key, null);
      else t.put(key, b(`v${i}.${k}`), BigInt(rand.int(4)));
    }
    t.end();
    if (compact && rand.int(40) === 0 && store.rev() > 5n) {
      await be.commit(batch);
      const c = new WriteBatch();
      const at = store.rev() - BigInt(rand.int(5));
      if (at > store.compactRev()) void store.compact(at, c).catch(() => undefined);
      await be.commit(c);
      await store.physicalCompaction();
      continue;
    }
    await be.commit(batch);
  }
}

describe('key index checkpoint', () => {
  for (const [seed, compactAfter] of [[1, false], [2, false], [3, true], [4, true]] as const) {
    it(`a store reopened from a checkpoint and later records reads as one rebuilt from every record (seed ${seed}${compactAfter ? ', compactions after the checkpoint: full scan' : ''})`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));
      dirs.push(dir);
      const file = path.join(dir, 'index.ckpt');
      const rand = new SeededRand(seed);
      const be = await Backend.open(path.join(dir, 'db'));
      const l1 = leases();
      const store = await KvStore.open(be, { leases: l1 });
      await randomWrites(store, be, rand, 150);
      await store.physicalCompaction();
      await be.drain();
      await store.writeCheckpoint(file);
      // More writes after the checkpoint (a crash or the next stop would follow).
      await randomWrites(store, be, rand, 60, compactAfter);
      await store.physicalCompaction();
      await be.drain();
      const want = dump(store);
      const ckpt = await readIndexCheckpoint(file, be);
      expect(ckpt).not.toBeNull();
      const l2 = leases();
      const fromCkpt = await KvStore.open(be, { leases: l2, checkpoint: ckpt });
      const compactedPast = store.compactRev() > BigInt(ckpt?.revision ?? 0);
      expect(fromCkpt.restoredFrom).toBe(compactedPast ? 'scan' : 'checkpoint');
      if (!compactAfter) expect(fromCkpt.restoredFrom).toBe('checkpoint');
      const l3 = leases();
      const full = await KvStore.open(be, { leases: l3 });
      expect(dump(full)).toEqual(want);
      expect(dump(fromCkpt)).toEqual(want);
      expect([...l2.attached].sort()).toEqual([...l3.attached].sort());
      expect([...l3.attached].sort()).toEqual([...l1.attached].sort());
      await be.close();
    });
  }

  it('is ignored when its digest is wrong, when the database names another checkpoint, or when there is none', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));
    dirs.push(dir);
    const file = path.join(dir, 'index.ckpt');
    const be = await Backend.open(path.join(dir, 'db'));
    const store = await KvStore.open(be, { leases: leases() });
    await randomWrites(store, be, new SeededRand(9), 30);
    await be.drain();
    expect(await readIndexCheckpoint(file, be)).toBeNull();
    await store.writeCheckpoint(file);
    expect(await readIndexCheckpoint(file, be)).not.toBeNull();
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[40] = (bad[40] as number) ^ 1;
    writeFileSync(file, bad);
    expect(await readIndexCheckpoint(file, be)).toBeNull();
    writeFileSync(file, good);
    const other = new WriteBatch();
    other.put(metaKey.indexCheckpoint, Buffer.alloc(8, 7));
    await be.commit(other, true);
    expect(await readIndexCheckpoint(file, be)).toBeNull();
    await be.close();
  });
});
