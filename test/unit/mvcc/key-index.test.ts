/**
 * Worked examples of a key's generations (etcd key_index.go semantics): what a read at each
 * revision sees, and what compaction keeps.
 */
import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../../src/mvcc/key-index.js';
/** A revision as the index takes it: (main, sub). */
const r = (main: number, sub = 0): [number, number] => [main, sub];

/** put@2, put@3, delete@4, put@6, put@8.1, delete@9, put@10 */
function example(): KeyIndex {
  const ki = new KeyIndex(Buffer.from('k'));
  ki.put(...r(2));
  ki.put(...r(3));
  ki.tombstone(...r(4));
  ki.put(...r(6));
  ki.put(...r(8, 1));
  ki.tombstone(...r(9));
  ki.put(...r(10));
  return ki;
}

function gens(ki: KeyIndex): string[][] {
  return ki.generations.map((g) => g.revs.map((x) => (x.sub === 0 ? `${x.main}` : `${x.main}.${x.sub}`)));
}

function seen(ki: KeyIndex, at: number): string | null {
  const v = ki.get(at);
  return v ? `mod ${v.modMain} create ${v.createdMain} ver ${v.version}` : null;
}

describe('KeyIndex', () => {
  it('a tombstone ends a generation and the next put starts one at version 1', () => {
    const ki = example();
    expect(gens(ki)).toEqual([['2', '3', '4'], ['6', '8.1', '9'], ['10']]);
    expect(seen(ki, 1)).toBeNull();
    expect(seen(ki, 2)).toBe('mod 2 create 2 ver 1');
    expect(seen(ki, 3)).toBe('mod 3 create 2 ver 2');
    expect(seen(ki, 4)).toBeNull();
    expect(seen(ki, 5)).toBeNull();
    expect(seen(ki, 7)).toBe('mod 6 create 6 ver 1');
    expect(seen(ki, 8)).toBe('mod 8 create 6 ver 2');
    expect(seen(ki, 9)).toBeNull();
    expect(seen(ki, 10)).toBe('mod 10 create 10 ver 1');
    expect(seen(ki, 99)).toBe('mod 10 create 10 ver 1');
    expect(ki.isLive()).toBe(true);
  });

  it('compaction keeps the latest revision ≤ rev of the generation alive at rev, and everything after', () => {
    const cases: [number, string[][], string[]][] = [
      [1, [['2', '3', '4'], ['6', '8.1', '9'], ['10']], []],
      [2, [['2', '3', '4'], ['6', '8.1', '9'], ['10']], ['2']],
      [3, [['3', '4'], ['6', '8.1', '9'], ['10']], ['3']],
      // the generation ended at 4: nothing of it is visible at ≥ 4
      [4, [['6', '8.1', '9'], ['10']], []],
      [5, [['6', '8.1', '9'], ['10']], []],
      [7, [['6', '8.1', '9'], ['10']], ['6']],
      [8, [['8.1', '9'], ['10']], ['8.1']],
      [9, [['10']], []],
      [12, [['10']], ['10']],
    ];
    for (const [at, want, kept] of cases) {
      const ki = example();
      const keep: string[] = [];
      ki.compact(at, (main, sub) => keep.push(sub === 0 ? `${main}` : `${main}.${sub}`));
      expect(gens(ki), `compact at ${at}`).toEqual(want);
      expect(keep, `kept at ${at}`).toEqual(kept);
      // reads at ≥ the compaction revision are unchanged
      const ref = example();
      for (let rv = at; rv <= 12; rv++) expect(seen(ki, rv), `read @${rv} after compact ${at}`).toBe(seen(ref, rv));
    }
  });

  it('versions stay right after compaction drops the start of a generation', () => {
    const ki = new KeyIndex(Buffer.from('k'));
    for (let i = 2; i <= 6; i++) ki.put(...r(i));
    ki.compact(5, () => undefined);
    expect(gens(ki)).toEqual([['5', '6']]);
    expect(seen(ki, 5)).toBe('mod 5 create 2 ver 4');
    expect(seen(ki, 6)).toBe('mod 6 create 2 ver 5');
    ki.put(...r(7));
    expect(seen(ki, 7)).toBe('mod 7 create 2 ver 6');
  });

  it('a deleted key compacted past its tombstone is empty (dropped from the index)', () => {
    const ki = new KeyIndex(Buffer.from('k'));
    ki.put(...r(2));
    ki.tombstone(...r(3));
    ki.compact(2, () => undefined);
    expect(ki.isEmpty()).toBe(false);
    ki.compact(3, () => undefined);
    expect(ki.isEmpty()).toBe(true);
  });

  it('restore starts a generation with the stored create revision and version', () => {
    const ki = new KeyIndex(Buffer.from('k'));
    ki.restore(3, 0, 9, 0, 4);
    ki.put(...r(11));
    expect(seen(ki, 10)).toBe('mod 9 create 3 ver 4');
    expect(seen(ki, 11)).toBe('mod 11 create 3 ver 5');
  });

  it('writes in one txn: put then delete then put at the same main revision', () => {
    const ki = new KeyIndex(Buffer.from('k'));
    ki.put(...r(2));
    ki.put(...r(5, 0));
    ki.tombstone(...r(5, 1));
    ki.put(...r(5, 2));
    expect(seen(ki, 4)).toBe('mod 2 create 2 ver 1');
    expect(seen(ki, 5)).toBe('mod 5 create 5 ver 1');
  });

  it('refuses revisions out of order and tombstones of a deleted key', () => {
    const ki = new KeyIndex(Buffer.from('k'));
    ki.put(...r(3));
    expect(() => ki.put(...r(3))).toThrow();
    expect(() => ki.put(...r(2, 5))).toThrow();
    ki.tombstone(...r(4));
    expect(() => ki.tombstone(...r(5))).toThrow();
  });
});
