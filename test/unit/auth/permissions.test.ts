/**
 * auth/permissions.ts against a model of etcd's own check (range_perm_cache.go over pkg/adt's
 * interval tree): permissions kept as separate intervals, a key checked by "some interval
 * intersects the point [k, k\0)", a range by tree.Contains (the intervals overlapping the range,
 * in ascending start order, contiguous, covering it). Random permission sets and queries over a
 * small alphabet, seeded, so that prefixes, points, from-key ranges and touching intervals meet.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { affineCompare, mergePerms, PermType, rangePermitted, type Permission } from '../../../src/auth/permissions.js';

interface Iv {
  begin: Buffer;
  end: Buffer;
}

function modelInterval(p: Permission): Iv {
  if (p.rangeEnd.length === 0) return { begin: p.key, end: Buffer.concat([p.key, Buffer.from([0])]) };
  return { begin: p.key, end: p.rangeEnd.length === 1 && p.rangeEnd[0] === 0 ? Buffer.alloc(0) : p.rangeEnd };
}

const overlaps = (a: Iv, b: Iv): boolean => affineCompare(a.begin, b.end) < 0 && affineCompare(b.begin, a.end) < 0;

/** adt intervalTree.Contains, literally. */
function treeContains(ivs: Iv[], q: Iv): boolean {
  const visited = ivs.filter((i) => overlaps(i, q)).sort((a, b) => affineCompare(a.begin, b.begin));
  let minBegin: Buffer | null = null;
  let maxEnd: Buffer = Buffer.alloc(0);
  for (const n of visited) {
    if (minBegin === null) {
      minBegin = n.begin;
      maxEnd = n.end;
      continue;
    }
    if (affineCompare(maxEnd, n.begin) < 0) return false;
    if (affineCompare(n.end, maxEnd) > 0) maxEnd = n.end;
  }
  return minBegin !== null && affineCompare(maxEnd, q.end) >= 0 && affineCompare(minBegin, q.begin) <= 0;
}

function model(perms: Permission[], key: Buffer, rangeEnd: Buffer, type: 0 | 1): boolean {
  const ivs = perms.filter((p) => p.permType === type || p.permType === PermType.READWRITE).map(modelInterval);
  if (rangeEnd.length === 0) return ivs.some((i) => overlaps(i, { begin: key, end: Buffer.concat([key, Buffer.from([0])]) }));
  return treeContains(ivs, { begin: key, end: rangeEnd.length === 1 && rangeEnd[0] === 0 ? Buffer.alloc(0) : rangeEnd });
}

function randomKey(r: SeededRand): Buffer {
  const n = 1 + r.int(3);
  return Buffer.from(Array.from({ length: n }, () => 'abc'.charCodeAt(r.int(3))));
}

/** A key and a range end with end > key: a point, a range, a prefix's end, or "\0" (to +infinity). */
function randomRange(r: SeededRand): [Buffer, Buffer] {
  const key = randomKey(r);
  switch (r.int(4)) {
    case 0:
      return [key, Buffer.alloc(0)];
    case 1:
      return [key, Buffer.from([0])];
    case 2: {
      const end = Buffer.from(key);
      end[end.length - 1] = (end[end.length - 1] as number) + 1;
      return [key, end];
    }
    default: {
      const other = randomKey(r);
      return Buffer.compare(key, other) < 0 ? [key, other] : Buffer.compare(other, key) < 0 ? [other, key] : [key, Buffer.alloc(0)];
    }
  }
}

describe('permission checks (etcd range_perm_cache semantics)', () => {
  it('agree with etcd\'s interval-tree checks on random permission sets (seeded)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = new SeededRand(seed);
      const perms: Permission[] = Array.from({ length: r.int(6) }, () => {
        const [key, rangeEnd] = randomRange(r);
        return { permType: r.int(3), key, rangeEnd };
      });
      const merged = mergePerms(perms);
      for (let q = 0; q < 60; q++) {
        const [key, end] = randomRange(r);
        for (const type of [PermType.READ, PermType.WRITE] as const) {
          const want = model(perms, key, end, type);
          const got = rangePermitted(merged, key, end, type);
          if (got !== want) throw new Error(`seed ${seed}: ${JSON.stringify(perms.map((p) => [p.permType, p.key.toString(), p.rangeEnd.toString('hex')]))} ${type} [${key}, ${end.toString('hex')}) want ${want} got ${got}`);
        }
      }
    }
  });

  it('keeps etcd\'s cases: prefix, from-key, touching ranges covering together, a gap refusing', () => {
    const p = (permType: number, key: string, end: string): Permission => ({ permType, key: Buffer.from(key), rangeEnd: Buffer.from(end, 'latin1') });
    const perms = mergePerms([p(2, 'a', 'b'), p(0, 'b', 'c'), p(0, 'x', '\x00'), p(1, 'k', '')]);
    const rd = (k: string, e: string): boolean => rangePermitted(perms, Buffer.from(k), Buffer.from(e, 'latin1'), PermType.READ);
    const wr = (k: string, e: string): boolean => rangePermitted(perms, Buffer.from(k), Buffer.from(e, 'latin1'), PermType.WRITE);
    expect(rd('a', 'c')).toBe(true); // [a,b) and [b,c) touch: covered together
    expect(wr('a', 'c')).toBe(false);
    expect(rd('a1', '')).toBe(true);
    expect(rd('x', '\x00')).toBe(true);
    expect(rd('xyz', '')).toBe(true);
    expect(rd('w', '\x00')).toBe(false);
    expect(wr('k', '')).toBe(true);
    expect(wr('k', 'k\x00')).toBe(true);
    expect(wr('k', 'l')).toBe(false);
    expect(rd('c', 'd')).toBe(false);
  });
});
