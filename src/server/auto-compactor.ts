/**
 * Auto-compaction (--auto-compaction-mode / --auto-compaction-retention) as etcd 3.4's
 * v3compactor does it. Each member runs one, but it acts only while its member leads (etcd
 * pauses it on followers); a compaction is an ordinary Compact request, so it goes through Raft
 * and every member applies it.
 *
 * periodic (retention = a period P): every P/10 (P capped at 1 h before dividing) the current
 * revision is sampled into a window holding the last P/(P/10)+1 samples (etcd samples at the top
 * of each step, before waiting), so the oldest is the revision of about P ago. Once P has passed since the start (or since the last success), it
 * compacts to that oldest sample, and from then on every min(P, 1 h).
 * revision (retention = N revisions): every 5 minutes, compacts to current − N if that is > 0
 * and not the revision it compacted last.
 * A compaction that fails `required revision has been compacted` counts as done; any other
 * failure is logged and retried at the next step. Log lines as etcd's zap lines.
 *
 * Time comes from an injected clock and scheduler, so tests step it without sleeping.
 * Invariants: at most one step runs at a time and at most one timer is pending; stop() cancels
 * it and no step starts afterwards; the sample window never exceeds its length.
 */
import { EtcdError, Errors } from '../api/errors.js';
import type { Clock } from '../base/clock.js';
import { goDuration, type Logger } from '../base/logger.js';

/** etcd v3compactor revInterval. */
export const revisionCheckIntervalMs = 5 * 60 * 1000;
/** etcd v3compactor retryDivisor. */
export const periodicRetryDivisor = 10;
const hourMs = 3_600_000;

export interface AutoCompactorDeps {
  /** The store's current revision. */
  rev(): bigint;
  /** Proposes a compaction (through Raft). */
  compact(rev: bigint): Promise<void>;
  isLeader(): boolean;
  logger: Logger;
  clock: Clock;
  /** Runs fn after ms; returns a cancel. */
  schedule(fn: () => void, ms: number): () => void;
}

export type AutoCompactionConfig = { mode: 'periodic'; periodMs: number } | { mode: 'revision'; retention: bigint; intervalMs?: number };

export interface AutoCompactor {
  stop(): void;
}

function compacted(e: unknown): boolean {
  return e instanceof EtcdError && e.spec === Errors.Compacted;
}

/** Starts the compactor; null when retention is 0 (off), as etcd starts none. */
export function startAutoCompactor(cfg: AutoCompactionConfig, d: AutoCompactorDeps): AutoCompactor | null {
  if (cfg.mode === 'periodic' ? cfg.periodMs <= 0 : cfg.retention <= 0n) return null;
  let stopped = false;
  let cancel: (() => void) | null = null;
  const loop = (intervalMs: number, step: () => Promise<void>): void => {
    cancel = d.schedule(() => {
      cancel = null;
      if (stopped) return;
      void step().finally(() => {
        if (!stopped) loop(intervalMs, step);
      });
    }, intervalMs);
  };
  if (cfg.mode === 'revision') {
    const retention = cfg.retention;
    let prev = 0n;
    loop(cfg.intervalMs ?? revisionCheckIntervalMs, async () => {
      if (!d.isLeader()) return;
      const rev = d.rev() - retention;
      if (rev <= 0n || rev === prev) return;
      const start = d.clock.nowMs();
      d.logger.info('starting auto revision compaction', { revision: rev, 'revision-compaction-retention': retention });
      try {
        await d.compact(rev);
      } catch (e) {
        if (!compacted(e)) {
          d.logger.warn('failed auto revision compaction', {
            revision: rev,
            'revision-compaction-retention': retention,
            'retry-interval': goDuration(cfg.intervalMs ?? revisionCheckIntervalMs),
            error: e instanceof Error ? e.message : String(e),
          });
          return;
        }
      }
      prev = rev;
      d.logger.info('completed auto revision compaction', { revision: rev, 'revision-compaction-retention': retention, took: goDuration(d.clock.nowMs() - start) });
    });
  } else {
    const period = cfg.periodMs;
    const capped = Math.min(period, hourMs);
    const retryMs = capped / periodicRetryDivisor;
    const windowLen = Math.floor(period / retryMs) + 1;
    const revs: bigint[] = [d.rev()];
    let lastSuccess = d.clock.nowMs();
    let base = period;
    loop(retryMs, async () => {
      try {
        if (!d.isLeader() || d.clock.nowMs() - lastSuccess < base) return;
        // After the first compaction (which waits a whole period), compact every min(P, 1 h).
        if (base === period) base = capped;
        const rev = revs[0] as bigint;
        d.logger.info('starting auto periodic compaction', { revision: rev, 'compact-period': goDuration(period) });
        try {
          await d.compact(rev);
        } catch (e) {
          if (!compacted(e)) {
            d.logger.warn('failed auto periodic compaction', {
              revision: rev,
              'compact-period': goDuration(period),
              'retry-interval': goDuration(retryMs),
              error: e instanceof Error ? e.message : String(e),
            });
            return;
          }
        }
        d.logger.info('completed auto periodic compaction', { revision: rev, 'compact-period': goDuration(period), took: goDuration(d.clock.nowMs() - lastSuccess) });
        lastSuccess = d.clock.nowMs();
      } finally {
        revs.push(d.rev());
        if (revs.length > windowLen) revs.shift();
      }
    });
  }
  return {
    stop() {
      stopped = true;
      cancel?.();
      cancel = null;
    },
  };
}
