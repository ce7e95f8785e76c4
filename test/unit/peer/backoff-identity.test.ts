/**
 * Reconnect backoff (doubling, capped, jittered within [ceil/2, ceil], reset) and the identity
 * check of peer calls (order and texts of the refusals, metadata parsing).
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { Backoff } from '../../../src/peer/backoff.js';
import { checkIdentity, type LocalIdentity } from '../../../src/peer/identity.js';
import { Purpose, decodeHello, encodeHello, PeerFrameError } from '../../../src/peer/frames.js';

describe('Backoff', () => {
  it('doubles from the base up to the cap, each delay jittered within [ceil/2, ceil]', () => {
    const b = new Backoff(100, 2000, new SeededRand(7));
    const ceilings = [100, 200, 400, 800, 1600, 2000, 2000, 2000];
    for (const ceil of ceilings) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(ceil / 2);
      expect(d).toBeLessThanOrEqual(ceil);
    }
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(100);
  });

  it('uses the injected random for jitter', () => {
    const lo = new Backoff(100, 2000, { next: () => 0, int: () => 0 });
    const hi = new Backoff(100, 2000, { next: () => 0.999999, int: () => 0 });
    expect(lo.next()).toBe(50);
    expect(hi.next()).toBeCloseTo(100, 3);
  });
});

describe('peer identity', () => {
  const local: LocalIdentity = { memberId: 2n, clusterId: 0xc1n, isKnown: (id) => id === 1n, isRemoved: (id) => id === 3n };

  it('accepts the same cluster, a known sender, addressed to us', () => {
    expect(checkIdentity({ clusterId: 0xc1n, from: 1n, to: 2n }, local)).toBeUndefined();
  });

  it('refuses with etcd\'s words, cluster first, then sender, then receiver', () => {
    expect(checkIdentity({ clusterId: 0xc2n, from: 9n, to: 9n }, local)?.message).toBe('request cluster ID mismatch');
    expect(checkIdentity({ clusterId: 0xc1n, from: 3n, to: 9n }, local)?.message).toBe('the member has been permanently removed from the cluster');
    expect(checkIdentity({ clusterId: 0xc1n, from: 9n, to: 9n }, local)?.message).toBe('error sender not found');
    expect(checkIdentity({ clusterId: 0xc1n, from: 1n, to: 9n }, local)?.message).toBe('to field mismatch');
    expect(checkIdentity(undefined, local)?.reason).toBe('bad-identity');
  });

  it('carries 64-bit ids in HELLO and rejects malformed ones', () => {
    const id = { purpose: Purpose.Stream, clusterId: 0xffffffffffffffffn, from: 0xfedcba9876543210n, to: 1n };
    const f = encodeHello(id);
    expect(f.readUInt32BE(0)).toBe(f.length - 5);
    expect(decodeHello(f.subarray(5))).toEqual(id);
    expect(() => decodeHello(f.subarray(5, 20))).toThrow(PeerFrameError);
    const wrongVersion = Buffer.from(f.subarray(5));
    wrongVersion[0] = 9;
    expect(() => decodeHello(wrongVersion)).toThrow(/version/);
  });
});
