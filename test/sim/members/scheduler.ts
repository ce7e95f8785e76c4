/**
 * The discrete-event scheduler of the whole-member simulator: one simulated clock, one queue of
 * events ordered by (time, sequence), and per member process a Runtime (src/base/runtime.ts)
 * whose timers, `soon` turns and I/O completions are events of this queue.
 *
 * Determinism: every event runs alone, then the promise continuations it set off run to the
 * end (one real macrotask turn, nothing else of the system is pending) before the next event;
 * ties go by the order of scheduling; randomness comes from SeededRands split off the seed.
 *
 * A process (Proc) owns its events: a crashed process's events never run again (and anything
 * it schedules later is dropped); a paused process's events wait until it resumes, then run at
 * the resume time in their order — its clocks keep running meanwhile, as a SIGSTOPped process's
 * do. A process's wall clock (Runtime.now) may jump; its monotonic clock never does.
 */
import type { Clock } from '../../../src/base/clock.js';
import type { Rand } from '../../../src/base/random.js';
import { SeededRand } from '../../../src/base/random.js';
import type { Runtime, TimerHandle } from '../../../src/base/runtime.js';

/** Node's own setImmediate, taken before any guard replaces it (guard.ts). */
const realSetImmediate = globalThis.setImmediate;

/** Wall-clock epoch of every simulation (2030-01-01), so ids derived from time look real. */
export const simEpochMs = 1_893_456_000_000;

export class Proc {
  dead = false;
  paused = false;
  /** Events that came due while paused, in order. */
  held: SimEvent[] = [];
  /** Added to the simulated time by this process's wall clock (clock jumps). */
  wallOffsetMs = 0;
  constructor(readonly name: string) {}
}

export interface SimEvent {
  time: number;
  seq: number;
  owner: Proc | null;
  fn: () => void;
  cancelled: boolean;
}

/** A binary min-heap on (time, seq). */
class EventHeap {
  private a: SimEvent[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): SimEvent | undefined {
    return this.a[0];
  }
  private less(x: SimEvent, y: SimEvent): boolean {
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }
  push(e: SimEvent): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i] as SimEvent, a[p] as SimEvent)) break;
      [a[i], a[p]] = [a[p] as SimEvent, a[i] as SimEvent];
      i = p;
    }
  }
  pop(): SimEvent | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l] as SimEvent, a[m] as SimEvent)) m = l;
        if (r < a.length && this.less(a[r] as SimEvent, a[m] as SimEvent)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as SimEvent, a[i] as SimEvent];
        i = m;
      }
    }
    return top;
  }
}

export class Scheduler {
  /** Simulated milliseconds since the start. */
  time = 0;
  private seq = 0;
  private readonly heap = new EventHeap();
  /** Events run so far. */
  events = 0;

  /** Schedules fn at `time` (not before now) for `owner` (null: the simulator itself). */
  at(time: number, owner: Proc | null, fn: () => void): SimEvent {
    const e: SimEvent = { time: Math.max(time, this.time), seq: this.seq++, owner, fn, cancelled: false };
    if (owner?.dead) e.cancelled = true;
    else this.heap.push(e);
    return e;
  }

  after(ms: number, owner: Proc | null, fn: () => void): SimEvent {
    return this.at(this.time + Math.max(0, ms), owner, fn);
  }

  /** Stops a process's events for good (a crash). */
  kill(p: Proc): void {
    p.dead = true;
    p.held = [];
  }

  pause(p: Proc): void {
    p.paused = true;
  }

  /** The process runs again: what came due while it was paused runs now, in order. */
  resume(p: Proc): void {
    if (!p.paused) return;
    p.paused = false;
    const held = p.held;
    p.held = [];
    for (const e of held) if (!e.cancelled) this.at(this.time, p, e.fn);
  }

  /**
   * Runs events until the queue is empty, simulated time passes `until`, or `stop()` says so
   * (checked between events). Each event is followed by one real macrotask turn, in which the
   * promise continuations it set off run.
   */
  async run(until: number, stop: () => boolean = () => false): Promise<void> {
    for (;;) {
      if (stop()) return;
      const e = this.heap.peek();
      if (e === undefined || e.time > until) {
        if (this.time < until) this.time = until;
        return;
      }
      this.heap.pop();
      if (e.cancelled || e.owner?.dead) continue;
      if (e.owner?.paused) {
        e.owner.held.push(e);
        continue;
      }
      this.time = e.time;
      this.events++;
      e.fn();
      await new Promise<void>((r) => realSetImmediate(r));
    }
  }

  /** The Runtime of one process. */
  runtime(p: Proc, rand: Rand): Runtime {
    const sched = this;
    const clock: Clock = { nowMs: () => sched.time };
    const handle = (e: SimEvent): TimerHandle => ({ cancel: () => void (e.cancelled = true) });
    return {
      now: () => simEpochMs + sched.time + p.wallOffsetMs,
      clock,
      after: (ms, fn) => handle(sched.after(ms, p, fn)),
      every: (ms, fn) => {
        const period = Math.max(1, ms);
        let cur: SimEvent;
        const tick = (): void => {
          cur = sched.after(period, p, tick);
          fn();
        };
        cur = sched.after(period, p, tick);
        return { cancel: () => void (cur.cancelled = true) };
      },
      soon: (fn) => void sched.at(sched.time, p, fn),
      sleep: (ms) => new Promise<void>((resolve) => void sched.after(ms, p, resolve)),
      random: rand,
    };
  }
}

/** A Rand for one purpose, split off a seed (so adding draws in one place changes no other). */
export function splitRand(seed: number, purpose: string): SeededRand {
  let h = seed >>> 0;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  return new SeededRand(h);
}
