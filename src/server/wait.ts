/**
 * Wait registry: a proposer registers its request id before proposing, and apply triggers the
 * id with the result when the entry is applied (etcd pkg/wait). Invariants: an id is
 * registered at most once at a time; trigger of an unknown id is a no-op (the entry was
 * proposed by another member, or its waiter already timed out); every registered waiter is
 * settled exactly once (trigger, timeout or failAll).
 */
import { assert } from '../base/assert.js';

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

export class WaitRegistry<T> {
  private readonly waiters = new Map<bigint, Waiter<T>>();

  register(id: bigint): Promise<T> {
    assert(!this.waiters.has(id), `duplicate wait id ${id}`);
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
    });
  }

  has(id: bigint): boolean {
    return this.waiters.has(id);
  }

  trigger(id: bigint, value: T): boolean {
    const w = this.waiters.get(id);
    if (!w) return false;
    this.waiters.delete(id);
    w.resolve(value);
    return true;
  }

  fail(id: bigint, err: unknown): boolean {
    const w = this.waiters.get(id);
    if (!w) return false;
    this.waiters.delete(id);
    w.reject(err);
    return true;
  }

  failAll(err: unknown): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of all) w.reject(err);
  }

  get size(): number {
    return this.waiters.size;
  }
}
