/**
 * base/clock-map.ts: a bounded map with CLOCK eviction, checked against a simple model, and
 * its work counted (not timed): eviction and compaction visit O(1) queue slots per operation
 * however many entries were deleted, and the queue stays within 2 × size + slack.
 */
import { describe, expect, it } from 'vitest';
import { ClockMap, queueSlackSlots } from '../../../src/base/clock-map.js';

describe('ClockMap', () => {
  it('evicts the oldest entry not read since it was queued, and reports it', () => {
    const evicted: string[] = [];
    const m = new ClockMap<string, number>(3, (k) => evicted.push(k));
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    expect(m.get('a')).toBe(1); // a gets a second chance
    m.set('d', 4);
    expect(evicted).toEqual(['b']);
    m.set('e', 5); // a was requeued behind c and d: c goes now
    expect(evicted).toEqual(['b', 'c']);
    m.set('f', 6);
    expect(evicted).toEqual(['b', 'c', 'a']);
    expect([...m.entries()].map(([k]) => k).sort()).toEqual(['d', 'e', 'f']);
    expect(m.peek('d')).toBe(4);
  });

  it('a deleted entry frees its place and is never evicted or reported later', () => {
    const evicted: string[] = [];
    const m = new ClockMap<string, number>(2, (k) => evicted.push(k));
    m.set('a', 1);
    m.set('b', 2);
    m.delete('a');
    m.set('c', 3);
    expect(evicted).toEqual([]);
    m.set('a', 7); // a new 'a': the stale queue slot of the old one must not stand for it
    expect(evicted).toEqual(['b']);
    m.set('d', 8);
    expect(evicted).toEqual(['b', 'c']);
    expect(m.get('a')).toBe(7);
  });

  it('matches a model under random churn, never above its cap', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const max = 50;
    const model = new Map<number, number>();
    const m = new ClockMap<number, number>(max, (k) => {
      expect(model.has(k)).toBe(true);
      model.delete(k);
    });
    for (let i = 0; i < 20_000; i++) {
      const k = rnd(200);
      const op = rnd(3);
      if (op === 0) {
        m.set(k, i);
        model.set(k, i);
      } else if (op === 1) {
        expect(m.get(k)).toBe(model.get(k));
      } else {
        expect(m.delete(k)).toBe(model.delete(k));
      }
      expect(m.size).toBe(model.size);
      expect(m.size).toBeLessThanOrEqual(max);
    }
  });

  it('does O(1) amortized queue work per operation under heavy deletes (counted, not timed)', () => {
    const max = 10_000;
    const m = new ClockMap<number, number>(max);
    let ops = 0;
    let next = 0;
    for (let i = 0; i < max; i++, ops++) m.set(next++, 0);
    // Churn at the cap: most entries are deleted (tokens expiring, users invalidated) while new
    // ones arrive and some are read — the pattern that made Map-as-FIFO eviction walk holes.
    for (let round = 0; round < 200_000; round++) {
      m.delete(next - 1 - (round % 7) * 3);
      m.set(next++, round);
      if (round % 5 === 0) m.get(next - 100);
      ops += 3;
      if (round % 100 === 0) expect(m.queueLength).toBeLessThanOrEqual(2 * m.size + queueSlackSlots + 1);
    }
    expect(m.size).toBeLessThanOrEqual(max);
    expect(m.visits).toBeLessThan(4 * ops);
  });
});
