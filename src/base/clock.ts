/**
 * Time is injected so that code under test never reads the wall clock. Domain code takes a
 * Clock; production passes realClock, tests pass a ManualClock they advance themselves.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (not wall time). */
  nowMs(): number;
}

export const realClock: Clock = {
  nowMs: () => performance.now(),
};

export class ManualClock implements Clock {
  constructor(private ms = 0) {}
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
