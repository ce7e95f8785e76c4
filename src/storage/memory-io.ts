/**
 * How the in-memory engine and disk (memory-engine.ts, memory-disk.ts) complete their I/O: a
 * call starts an operation, and `complete` decides when its result arrives. Alone (unit tests)
 * that is a later turn of the event loop; in the whole-member simulator it is an event of its
 * scheduler after a latency the seed chooses, which a paused member does not get until it
 * resumes and a crashed one never gets.
 *
 * What a crash keeps (crash()): `process` — the process died (kill -9): every completed write
 * survives (the OS has it), a write in flight may land in part; `power` — the machine lost
 * power: only what was made durable (synced) survives, and of the rest some prefix.
 */
import type { Rand } from '../base/random.js';

export interface MemoryIo {
  /** Runs fn when an operation of this kind completes (never inside the call that started it). */
  complete(kind: 'read' | 'write', fn: () => void): void;
}

export type CrashKind = 'process' | 'power';

/** Completions on a later turn of Node's event loop. */
export const immediateIo: MemoryIo = {
  complete: (_kind, fn) => void setImmediate(fn),
};

/** A random prefix length of n bytes (or writes): none, all, or anything between. */
export function keptPrefix(rand: Rand, n: number): number {
  const r = rand.next();
  if (r < 0.3) return 0;
  if (r < 0.6) return n;
  return rand.int(n + 1);
}

/** A promise that never settles: what a dead process's I/O returns. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
