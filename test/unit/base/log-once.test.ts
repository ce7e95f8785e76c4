/**
 * base/log-once.ts: once per (subject, reason) until forgotten, and bounded however many
 * distinct subjects arrive (a stream of bogus peer ids must not grow memory forever).
 */
import { describe, expect, it } from 'vitest';
import { LogOnce } from '../../../src/base/log-once.js';

describe('LogOnce', () => {
  it('says first once per (subject, reason), again after forget', () => {
    const l = new LogOnce<string>();
    expect(l.first('a', 'x')).toBe(true);
    expect(l.first('a', 'x')).toBe(false);
    expect(l.first('a', 'y')).toBe(true);
    expect(l.first('b', 'x')).toBe(true);
    l.forget('a');
    expect(l.first('a', 'x')).toBe(true);
    expect(l.first('b', 'x')).toBe(false);
  });

  it('remembers at most subjectsMax subjects and reasonsMax reasons per subject', () => {
    const l = new LogOnce<number>(8, 3);
    let firsts = 0;
    for (let i = 0; i < 10_000; i++) {
      if (l.first(i)) firsts++;
      expect(l.size).toBeLessThanOrEqual(8);
    }
    expect(firsts).toBe(10_000);
    for (let r = 0; r < 100; r++) l.first(-1, `r${r}`);
    expect(l.first(-1, 'r99')).toBe(false); // the latest reasons are still remembered
    expect(l.first(-1, 'r0')).toBe(true); // the oldest were forgotten
  });
});
