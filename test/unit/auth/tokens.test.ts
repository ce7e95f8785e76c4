/**
 * auth/simple-tokens.ts and auth/jwt-tokens.ts at their size caps: the cap holds, the oldest
 * idle token goes first while one in use stays (CLOCK), expired and invalidated tokens are
 * gone, and the bookkeeping stays bounded under churn.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JwtTokens, verifiedMax } from '../../../src/auth/jwt-tokens.js';
import { SimpleTokens, tokensMax } from '../../../src/auth/simple-tokens.js';

function simple(max?: number): { t: SimpleTokens; clock: { now: number } } {
  const clock = { now: 1000 };
  const t = new SimpleTokens({ ttlMs: 5000, now: () => clock.now, ...(max === undefined ? {} : { max }) });
  t.enable();
  return { t, clock };
}

describe('simple tokens at the cap', () => {
  it('keep at most `max` tokens and evict the oldest idle one first', () => {
    const { t } = simple(3);
    const a = t.assign('u', 'a', 1n);
    const b = t.assign('u', 'b', 2n);
    const c = t.assign('u', 'c', 3n);
    const d = t.assign('u', 'd', 4n);
    expect(t.size).toBe(3);
    expect(t.user(a)).toBeUndefined();
    expect([t.user(b), t.user(c), t.user(d)]).toEqual(['u', 'u', 'u']);
  });

  it('a token in use outlives idle ones at the default cap (tokensMax)', () => {
    const { t } = simple();
    const first = t.assign('alice', 'first', 0n);
    for (let i = 1; i < tokensMax; i++) t.assign('bob', 'p', BigInt(i));
    expect(t.size).toBe(tokensMax);
    expect(t.user(first)).toBe('alice'); // alice keeps using her token
    t.assign('carol', 'new', BigInt(tokensMax));
    expect(t.size).toBe(tokensMax);
    expect(t.user(first)).toBe('alice');
    expect(t.user('p.1')).toBeUndefined(); // the oldest idle token went instead
    expect(t.user('p.2')).toBe('bob');
  });

  it('expired tokens are invalid, and invalidated or expired ones free their place', () => {
    const { t, clock } = simple(2);
    const a = t.assign('alice', 'a', 1n);
    clock.now += 5000;
    expect(t.user(a)).toBeUndefined();
    expect(t.size).toBe(0);
    const b = t.assign('bob', 'b', 2n);
    const c = t.assign('carol', 'c', 3n);
    t.invalidateUser('bob');
    const d = t.assign('dave', 'd', 4n); // takes bob's place; carol's token is not evicted
    expect([t.user(b), t.user(c), t.user(d)]).toEqual([undefined, 'carol', 'dave']);
    clock.now += 5001;
    t.sweep();
    expect(t.size).toBe(0);
  });

  it('an evicted token leaves its user with no stale entry (invalidateUser after eviction)', () => {
    const { t } = simple(1);
    const a = t.assign('alice', 'a', 1n);
    const b = t.assign('bob', 'b', 2n); // evicts alice's
    t.invalidateUser('alice');
    expect(t.user(a)).toBeUndefined();
    expect(t.user(b)).toBe('bob');
    expect(t.size).toBe(1);
  });
});

describe('JWT verified-token cache at the cap', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-jwt-'));
  const key = path.join(dir, 'hs.key');
  writeFileSync(key, 'a-secret-of-enough-length-for-hs256-0123456789');
  const opts = { signMethod: 'HS256' as const, pubKeyFile: '', privKeyFile: key, ttlMs: 60_000 };

  it('keeps a token in use over idle ones when full (default cap verifiedMax)', async () => {
    const j = new JwtTokens(opts);
    const mine = await j.sign('alice', 1n);
    expect(await j.verify(mine)).toEqual({ username: 'alice', revision: 1n });
    for (let i = 1; i < verifiedMax; i++) await j.verify(await j.sign(`u${i}`, 1n));
    expect(j.cached(mine)).toEqual({ username: 'alice', revision: 1n });
    const next = await j.sign('zed', 1n);
    await j.verify(next);
    expect(j.cached(mine)).toEqual({ username: 'alice', revision: 1n });
    expect(j.cached(next)).toEqual({ username: 'zed', revision: 1n });
  }, 60_000);

  it('holds at most its cap and drops expired entries', async () => {
    const j = new JwtTokens(opts, 2);
    const now = Date.now();
    const toks = [await j.sign('a', 1n, now), await j.sign('b', 1n, now), await j.sign('c', 1n, now)];
    for (const x of toks) await j.verify(x);
    expect(j.cached(toks[0] as string)).toBeUndefined();
    expect(j.cached(toks[2] as string)).toEqual({ username: 'c', revision: 1n });
    expect(j.cached(toks[1] as string, now + 120_000)).toBeUndefined(); // past exp
  });
});
