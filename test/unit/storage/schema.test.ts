/** Key layout: distinct one-byte prefixes, MVCC keys ordered as revisions, round trips. */
import { describe, expect, it } from 'vitest';
import {
  alarmKey,
  idOfKey,
  leaseKey,
  memberKey,
  metaKey,
  mvccKey,
  mvccKeyFloor,
  parseLeaseKey,
  parseMvccKey,
  prefix,
  prefixUpper,
  raftEntryKey,
} from '../../../src/storage/schema.js';

describe('schema', () => {
  it('gives every kind of record its own first byte', () => {
    const firsts = Object.values(prefix).map((p) => p[0]);
    expect(new Set(firsts).size).toBe(firsts.length);
    for (const k of Object.values(metaKey)) expect(k[0]).toBe(prefix.meta[0]);
    expect(raftEntryKey(5n)[0]).toBe(prefix.raftEntry[0]);
  });

  it('orders MVCC keys by (main, sub) and keeps tombstones next to their revision', () => {
    const revs: [bigint, bigint, boolean][] = [
      [1n, 0n, false],
      [1n, 1n, true],
      [2n, 0n, false],
      [255n, 3n, false],
      [256n, 0n, true],
      [1n << 40n, 0n, false],
    ];
    const keys = revs.map(([m, s, t]) => mvccKey(m, s, t));
    expect([...keys].sort(Buffer.compare)).toEqual(keys);
    for (let i = 0; i < revs.length; i++) {
      const [m, s, t] = revs[i] as [bigint, bigint, boolean];
      expect(parseMvccKey(keys[i] as Buffer)).toEqual({ main: m, sub: s, tombstone: t });
    }
    // every key with main ≤ 255 sorts below the floor of 256
    expect(Buffer.compare(mvccKey(255n, 1n << 62n, true), mvccKeyFloor(256n))).toBeLessThan(0);
    expect(Buffer.compare(mvccKey(0n, 0n, false), prefix.mvcc)).toBeGreaterThan(0);
    expect(Buffer.compare(mvccKey((1n << 64n) - 1n, 0n, true), prefixUpper(prefix.mvcc))).toBeLessThan(0);
    expect(() => parseMvccKey(Buffer.from('kshort'))).toThrow();
  });

  it('round-trips lease ids (all 64 bits) and member ids', () => {
    for (const id of [1n, -1n, (1n << 63n) - 1n, -(1n << 63n)]) expect(parseLeaseKey(leaseKey(id))).toBe(id);
    expect(idOfKey(memberKey(0xb71f75320dc06a6cn))).toBe(0xb71f75320dc06a6cn);
    expect(idOfKey(alarmKey(7n, 1))).toBe(7n);
  });
});
