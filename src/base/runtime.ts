/**
 * The member's view of time and chance: wall and monotonic clocks, timers, "later in this
 * turn", and a random source — injected into the server layer (DESIGN: server/ takes its clock,
 * timers and random source by injection), so that whole members run in the deterministic
 * simulator (test/sim/) where one seed replays a run, and in production on Node's own.
 *
 * Invariants of every implementation: a callback given to after/every/soon never runs inside
 * the call that scheduled it; a cancelled timer never fires afterwards; `every` keeps firing
 * until cancelled; timers never keep the process alive on their own (Node: unref).
 */
import type { Clock } from './clock.js';
import type { Rand } from './random.js';

export interface TimerHandle {
  cancel(): void;
}

export interface Runtime {
  /** Wall-clock milliseconds since the epoch (Date.now). */
  now(): number;
  /** A monotonic clock (the lessor's expiry arithmetic). */
  readonly clock: Clock;
  /** Runs fn once, ms from now. */
  after(ms: number, fn: () => void): TimerHandle;
  /** Runs fn every ms until cancelled. */
  every(ms: number, fn: () => void): TimerHandle;
  /** Runs fn on a later turn (after pending I/O callbacks: setImmediate). */
  soon(fn: () => void): void;
  /** Resolves ms from now. */
  sleep(ms: number): Promise<void>;
  readonly random: Rand;
}

function handle(t: NodeJS.Timeout, clear: (t: NodeJS.Timeout) => void): TimerHandle {
  t.unref?.();
  return { cancel: () => clear(t) };
}

const mathRandom: Rand = { next: () => Math.random(), int: (n) => Math.floor(Math.random() * n) };

/** Node's timers and clocks, Math.random. */
export const realRuntime: Runtime = {
  now: () => Date.now(),
  clock: { nowMs: () => performance.now() },
  after: (ms, fn) => handle(setTimeout(fn, Math.max(0, ms)), clearTimeout),
  every: (ms, fn) => handle(setInterval(fn, Math.max(1, ms)), clearInterval),
  soon: (fn) => void setImmediate(fn),
  sleep: (ms) =>
    new Promise<void>((resolve) => {
      setTimeout(resolve, Math.max(0, ms)).unref?.();
    }),
  random: mathRandom,
};
