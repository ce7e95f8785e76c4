/**
 * Reconnect delays: exponential from baseMs, doubling per failure up to maxMs, with "equal
 * jitter" (half fixed, half random) so members that lost a peer together do not redial in step.
 * Invariant: every delay is in [ceil/2, ceil] where ceil = min(maxMs, baseMs·2^failures).
 */
import type { Rand } from '../base/random.js';

export const mathRandom: Rand = { next: () => Math.random(), int: (n) => Math.floor(Math.random() * n) };

export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly rand: Rand,
  ) {}

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const ceil = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return ceil / 2 + (ceil / 2) * this.rand.next();
  }

  reset(): void {
    this.failures = 0;
  }
}
