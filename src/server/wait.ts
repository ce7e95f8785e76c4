/**
 * Wait registry: a proposer registers its request id before proposing, and apply triggers the
 * id with the result when the entry is applied (etcd pkg/wait). Invariants: an id is
 * registered at most once at a time; trigger of an unknown id is a no-op (the entry was
 * proposed by another member, or its waiter already timed out); every registered waiter is
 * settled exactly once (trigger, expiry, fail or failAll).
 *
 * Deadlines: a waiter may carry one; expire(now) fails those past it. Registrations come with
 * non-decreasing deadlines (one request timeout for all), so they wait in a FIFO queue and a
 * sweep costs only what it expires — no timer per request (a Node timer per put was a tenth of
 * the write path's allocations).
 */
import { assert } from '../base/assert.js';

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
  deadline: number;
  /** The proposal's bytes, when given: only an applied entry with these bytes settles it. */
  tag: Uint8Array | undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  // On the leader the applied entry's data is the very array proposed: no compare needed.
  return a === b || (a.length === b.length && Buffer.compare(a, b) === 0);
}

export class WaitRegistry<T> {
  private readonly waiters = new Map<bigint, Waiter<T>>();
  /** Waiters with a deadline, in registration order (deadlines non-decreasing). */
  private queue: { id: bigint; w: Waiter<T> }[] = [];
  private head = 0;
  /** Waiters failed so far (expired, failed, failAll): the proposals-failed metric. */
  failed = 0;

  register(id: bigint, deadline = Infinity, tag?: Uint8Array): Promise<T> {
    assert(!this.waiters.has(id), `duplicate wait id ${id}`);
    return new Promise<T>((resolve, reject) => {
      const w = { resolve, reject, deadline, tag };
      this.waiters.set(id, w);
      if (deadline !== Infinity) this.queue.push({ id, w });
    });
  }

  /** Fails every waiter whose deadline is ≤ now with errFor(its deadline). */
  expire(now: number, errFor: (deadline: number) => unknown): void {
    const q = this.queue;
    // Settled waiters leave the front too, so the queue holds about one sweep's worth.
    while (this.head < q.length) {
      const e = q[this.head] as { id: bigint; w: Waiter<T> };
      const live = this.waiters.get(e.id) === e.w;
      if (live && e.w.deadline > now) break;
      this.head++;
      if (live) {
        this.waiters.delete(e.id);
        this.failed++;
        e.w.reject(errFor(e.w.deadline));
      }
    }
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  has(id: bigint): boolean {
    return this.waiters.has(id);
  }

  /**
   * Settles id's waiter with value. With `entry` (the applied entry's bytes) and a tagged waiter,
   * only the entry it proposed settles it: request ids are unique per member only as etcd's are
   * (16 bits of the member id + a clock), and two members whose ids share those bits and that
   * started in the same millisecond issue the same ids — another member's entry must not answer
   * this member's client (whole-member simulator, seed 38002).
   */
  trigger(id: bigint, value: T, entry?: Uint8Array): boolean {
    const w = this.waiters.get(id);
    if (!w) return false;
    if (entry !== undefined && w.tag !== undefined && !sameBytes(w.tag, entry)) return false;
    this.waiters.delete(id);
    w.resolve(value);
    return true;
  }

  fail(id: bigint, err: unknown): boolean {
    const w = this.waiters.get(id);
    if (!w) return false;
    this.waiters.delete(id);
    this.failed++;
    w.reject(err);
    return true;
  }

  failAll(err: unknown): void {
    const all = [...this.waiters.values()];
    this.failed += all.length;
    this.waiters.clear();
    this.queue = [];
    this.head = 0;
    for (const w of all) w.reject(err);
  }

  get size(): number {
    return this.waiters.size;
  }
}
