/**
 * The sorted key index against a sorted-array model: random inserts, deletes and compactions
 * across block splits; visits of single keys, [key, end) and from-key ranges.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { TreeIndex, blockKeysMax } from '../../../src/mvcc/tree-index.js';

function keyOf(n: number): Buffer {
  // variable-length keys with shared prefixes and 0x00/0xff bytes
  const b = Buffer.alloc(1 + (n % 3));
  b[0] = n >> 4;
  for (let i = 1; i < b.length; i++) b[i] = (n * 37 + i * 101) & 0xff;
  return b;
}

describe('TreeIndex', () => {
  it('visits keys in byte order across block splits and deletes, as a sorted array', () => {
    const rand = new SeededRand(7);
    const t = new TreeIndex();
    const model = new Map<string, Buffer>();
    let main = 1;
    for (let step = 0; step < 6000; step++) {
      const k = keyOf(rand.int(4096));
      if (rand.int(4) > 0) {
        t.getOrCreate(k).put(++main, 0);
        model.set(k.toString('latin1'), k);
      } else {
        t.delete(k);
        model.delete(k.toString('latin1'));
      }
      if (step % 500 === 0 || step === 5999) {
        const sorted = [...model.values()].sort(Buffer.compare);
        expect(t.size).toBe(sorted.length);
        expect([...t.all()].map((ki) => ki.key.toString('hex'))).toEqual(sorted.map((b) => b.toString('hex')));
        for (let q = 0; q < 20; q++) {
          const lo = keyOf(rand.int(4096));
          const hi = keyOf(rand.int(4096));
          const got: string[] = [];
          t.visit(lo, hi, (ki) => got.push(ki.key.toString('hex')) > 0);
          expect(got).toEqual(sorted.filter((b) => Buffer.compare(b, lo) >= 0 && Buffer.compare(b, hi) < 0).map((b) => b.toString('hex')));
          const from: string[] = [];
          t.visit(lo, Buffer.alloc(0), (ki) => from.push(ki.key.toString('hex')) < 5);
          expect(from).toEqual(sorted.filter((b) => Buffer.compare(b, lo) >= 0).slice(0, 5).map((b) => b.toString('hex')));
          const one: string[] = [];
          t.visit(lo, null, (ki) => one.push(ki.key.toString('hex')) > 0);
          expect(one).toEqual(model.has(lo.toString('latin1')) ? [lo.toString('hex')] : []);
        }
      }
    }
    expect(t.size).toBeGreaterThan(blockKeysMax);
  });

  it('compaction drops keys whose last generation ended at or before the revision', () => {
    const t = new TreeIndex();
    const a = t.getOrCreate(Buffer.from('a'));
    a.put(2, 0);
    a.tombstone(3, 0);
    const b = t.getOrCreate(Buffer.from('b'));
    b.put(4, 0);
    const kept: string[] = [];
    t.compact(3, (ki, main) => kept.push(`${ki.key.toString()}@${main}`));
    expect([...t.all()].map((ki) => ki.key.toString())).toEqual(['b']);
    expect(t.get(Buffer.from('a'))).toBeUndefined();
    expect(kept).toEqual([]);
    t.compact(4, (ki, main) => kept.push(`${ki.key.toString()}@${main}`));
    expect(kept).toEqual(['b@4']);
  });
});
