/**
 * The auto-compactor against etcd 3.4's v3compactor rules, on a manual clock and scheduler:
 * revision mode compacts to current − N every 5 minutes (not again to the same revision, not
 * below 1, only while leading); periodic mode samples every P/10, first compacts after P to the
 * oldest sample of its window (P/(P/10)+1 samples), then every P (every hour for P > 1 h, sampling every 6 minutes); an
 * "already compacted" answer counts as done, other failures are retried at the next step.
 */
import { describe, expect, it } from 'vitest';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import { ManualClock } from '../../../src/base/clock.js';
import { createLogger } from '../../../src/base/logger.js';
import { startAutoCompactor, type AutoCompactionConfig } from '../../../src/server/auto-compactor.js';

class Harness {
  readonly clock = new ManualClock();
  private timers: { at: number; fn: () => void }[] = [];
  rev = 1n;
  leader = true;
  compactions: { at: number; rev: bigint }[] = [];
  failNext: unknown = null;
  lines: string[] = [];
  /** Revisions written per minute of simulated time (added to `rev`). */
  revsPerMinute = 0;

  start(cfg: AutoCompactionConfig) {
    return startAutoCompactor(cfg, {
      rev: () => this.rev + BigInt(Math.floor((this.clock.nowMs() / 60_000) * this.revsPerMinute)),
      compact: async (rev) => {
        if (this.failNext) {
          const e = this.failNext;
          this.failNext = null;
          throw e;
        }
        this.compactions.push({ at: this.clock.nowMs(), rev });
      },
      isLeader: () => this.leader,
      logger: createLogger({ out: (l) => this.lines.push(l), caller: false }),
      clock: this.clock,
      schedule: (fn, ms) => {
        const t = { at: this.clock.nowMs() + ms, fn };
        this.timers.push(t);
        return () => (this.timers = this.timers.filter((x) => x !== t));
      },
    });
  }

  /** Advances time, firing due timers in order and letting each step finish. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.nowMs() + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers[0];
      if (!t || t.at > end) break;
      this.timers.shift();
      this.clock.advance(t.at - this.clock.nowMs());
      t.fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.clock.advance(end - this.clock.nowMs());
  }
}

const min = 60_000;

describe('auto-compaction, revision mode', () => {
  it('compacts to current − retention every 5 minutes, never twice to the same revision', async () => {
    const h = new Harness();
    h.start({ mode: 'revision', retention: 100n });
    h.rev = 1001n;
    await h.advance(5 * min - 1);
    expect(h.compactions).toEqual([]);
    await h.advance(1);
    expect(h.compactions).toEqual([{ at: 5 * min, rev: 901n }]);
    await h.advance(5 * min);
    expect(h.compactions).toHaveLength(1); // no new writes: the same revision again is skipped
    h.rev = 1500n;
    await h.advance(5 * min);
    expect(h.compactions.map((c) => c.rev)).toEqual([901n, 1400n]);
    expect(h.lines.some((l) => l.includes('"msg":"starting auto revision compaction","revision":901,"revision-compaction-retention":100'))).toBe(true);
    expect(h.lines.some((l) => l.includes('"msg":"completed auto revision compaction","revision":901'))).toBe(true);
  });

  it('does nothing below the retention, nor while not leading; retries a failure', async () => {
    const h = new Harness();
    h.start({ mode: 'revision', retention: 100n });
    h.rev = 100n;
    await h.advance(5 * min);
    expect(h.compactions).toEqual([]);
    h.rev = 300n;
    h.leader = false;
    await h.advance(5 * min);
    expect(h.compactions).toEqual([]);
    h.leader = true;
    h.failNext = new EtcdError(Errors.Timeout);
    await h.advance(5 * min);
    expect(h.compactions).toEqual([]);
    expect(h.lines.some((l) => l.includes('failed auto revision compaction') && l.includes('"retry-interval":"5m0s"'))).toBe(true);
    await h.advance(5 * min);
    expect(h.compactions.map((c) => c.rev)).toEqual([200n]);
  });

  it('"required revision has been compacted" counts as done', async () => {
    const h = new Harness();
    h.start({ mode: 'revision', retention: 10n });
    h.rev = 50n;
    h.failNext = new EtcdError(Errors.Compacted);
    await h.advance(5 * min);
    await h.advance(5 * min);
    expect(h.compactions).toEqual([]); // 40 was taken as compacted, not retried
  });

  it('a retention of 0 starts no compactor', () => {
    expect(new Harness().start({ mode: 'revision', retention: 0n })).toBeNull();
    expect(new Harness().start({ mode: 'periodic', periodMs: 0 })).toBeNull();
  });
});

describe('auto-compaction, periodic mode', () => {
  it('first after one period to the revision of a period ago, then every period', async () => {
    const h = new Harness();
    h.revsPerMinute = 10;
    h.start({ mode: 'periodic', periodMs: 10 * min });
    await h.advance(10 * min - 1);
    expect(h.compactions).toEqual([]);
    await h.advance(1);
    // At 10 min the oldest sample is the one taken at start (revision 1).
    expect(h.compactions).toEqual([{ at: 10 * min, rev: 1n }]);
    await h.advance(10 * min);
    // etcd samples at the top of each step, before waiting: the window's 11 samples at 20 min
    // were taken at 9..19 min, so the oldest is revision 1 + 9 min × 10/min.
    expect(h.compactions[1]).toEqual({ at: 20 * min, rev: 91n });
    await h.advance(10 * min);
    expect(h.compactions[2]).toEqual({ at: 30 * min, rev: 191n });
    expect(h.lines.some((l) => l.includes('"msg":"completed auto periodic compaction","revision":1,"compact-period":"10m0s"'))).toBe(true);
  });

  it('a period over an hour: samples every 6 minutes, compacts every hour after the first period', async () => {
    const h = new Harness();
    h.revsPerMinute = 1;
    h.start({ mode: 'periodic', periodMs: 3 * 60 * min });
    await h.advance(3 * 60 * min);
    expect(h.compactions.map((c) => c.at)).toEqual([180 * min]);
    await h.advance(60 * min);
    expect(h.compactions.map((c) => c.at)).toEqual([180 * min, 240 * min]);
    // The window holds 3 h / 6 min + 1 = 31 samples, the last taken at 234 min: the oldest at 54 min.
    expect(h.compactions[1]?.rev).toBe(55n);
  });

  it('does not compact while another member leads', async () => {
    const h = new Harness();
    h.leader = false;
    h.start({ mode: 'periodic', periodMs: min });
    await h.advance(5 * min);
    expect(h.compactions).toEqual([]);
    h.leader = true;
    await h.advance(min / 10);
    expect(h.compactions).toHaveLength(1);
  });
});
