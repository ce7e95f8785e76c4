/**
 * The console's key tree (ui/src/tree.ts) against a sorted-Map model of etcd's key space: a
 * folder's children are exactly the distinct next path segments under it, in key order, paged
 * without loss or repeats, and a sub-folder costs one jump, not a walk through its keys.
 */
import { describe, expect, it } from 'vitest';
import { compareBytes, fromLabel, label, prefixEnd, utf8, type Bytes } from '../../../ui/src/bytes.js';
import { listChildren, type KeysPage } from '../../../ui/src/tree.js';

function store(keys: string[]): { page: KeysPage; calls: () => number } {
  const sorted = keys.map(utf8).sort(compareBytes);
  let calls = 0;
  const page: KeysPage = async (key, rangeEnd, limit) => {
    calls++;
    const all = rangeEnd.length === 1 && rangeEnd[0] === 0;
    const inRange = sorted.filter((k) => compareBytes(k, key) >= 0 && (all || compareBytes(k, rangeEnd) < 0));
    return { keys: inRange.slice(0, limit), more: inRange.length > limit };
  };
  return { page, calls: () => calls };
}

/** The model: distinct next segments (a folder keeps its "/"). */
function model(keys: string[], prefix: string): string[] {
  const out = new Set<string>();
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const cut = rest.indexOf('/');
    out.add(prefix + (cut < 0 ? rest : rest.slice(0, cut + 1)));
  }
  return [...out].sort((a, b) => compareBytes(utf8(a), utf8(b)));
}

async function listAll(page: KeysPage, prefix: string, o: { pageKeys: number; maxChildren: number }): Promise<string[]> {
  const out: string[] = [];
  let from: Bytes | null = null;
  for (let i = 0; i < 10_000; i++) {
    const r = await listChildren(page, utf8(prefix), from, o);
    out.push(...r.children.map((c) => label(c.key)));
    if (r.next === null) return out;
    from = r.next;
  }
  throw new Error('no end');
}

describe('listChildren', () => {
  const keys = ['/a', '/b/1', '/b/2', '/b/c/3', '/bb', '/b0', 'x', 'x/', 'x//y', 'x/y', 'y/z/w', '\u00e9/k'];

  it.each(['', '/', '/b/', 'x/', 'y/', 'nope/'])('lists the children of %j as the model does, at any page size', async (prefix) => {
    for (const pageKeys of [1, 2, 3, 500]) {
      for (const maxChildren of [1, 2, 200]) {
        const { page } = store(keys);
        expect(await listAll(page, prefix, { pageKeys, maxChildren })).toEqual(model(keys, prefix));
      }
    }
  });

  it('random key spaces agree with the model', async () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 30; round++) {
      const ks = new Set<string>();
      for (let i = 0; i < 60; i++) ks.add(Array.from({ length: 1 + rnd(4) }, () => 'ab/'[rnd(3)]).join(''));
      const list = [...ks];
      for (const prefix of ['', 'a', 'a/', 'b/', '/']) {
        const { page } = store(list);
        expect(await listAll(page, prefix, { pageKeys: 1 + rnd(5), maxChildren: 1 + rnd(7) })).toEqual(model(list, prefix));
      }
    }
  });

  it('steps over a big folder in one jump: 100 folders of 100 keys cost about one range per 5 folders', async () => {
    const big: string[] = [];
    for (let d = 0; d < 100; d++) for (let k = 0; k < 100; k++) big.push(`/r/ns${String(d).padStart(2, '0')}/p${String(k).padStart(3, '0')}`);
    const { page, calls } = store(big);
    const r = await listChildren(page, utf8('/r/'), null, { pageKeys: 500, maxChildren: 200 });
    expect(r.children).toHaveLength(100);
    expect(r.next).toBeNull();
    expect(calls()).toBeLessThanOrEqual(21);
  });

  it('pages a flat folder of 10 000 keys 200 at a time', async () => {
    const flat = Array.from({ length: 10_000 }, (_, i) => `/f/${String(i).padStart(5, '0')}`);
    const { page } = store(flat);
    const first = await listChildren(page, utf8('/f/'), null, { pageKeys: 500, maxChildren: 200 });
    expect(first.children).toHaveLength(200);
    expect(label(first.next as Bytes)).toBe('/f/00200');
  });
});

describe('bytes', () => {
  it('prefixEnd is clientv3 GetPrefixRangeEnd', () => {
    expect([...prefixEnd(utf8('a/'))]).toEqual([...utf8('a0')]);
    expect([...prefixEnd(new Uint8Array([0x61, 0xff]))]).toEqual([0x62]);
    expect([...prefixEnd(new Uint8Array([0xff, 0xff]))]).toEqual([0]);
  });

  it('labels round-trip binary and text keys', () => {
    for (const b of [utf8('plain/key'), new Uint8Array([0, 1, 0xff, 0x5c]), utf8('caf\u00e9'), utf8('a\\xb')]) {
      expect([...fromLabel(label(b))]).toEqual([...b]);
    }
    expect(label(new Uint8Array([0x61, 0xff]))).toBe('a\\xff');
  });
});
