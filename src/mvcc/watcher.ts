/**
 * One watcher (etcd mvcc watcher.go): a key or range, the next revision it may be given, its
 * filters and options. The watchable store (watchable-store.ts) moves it between its synced
 * and unsynced groups; its stream (watch-stream.ts) queues its responses.
 */
import { compareBytes } from '../base/bytes.js';
import { EventType, type Event } from '../api/kv-types.js';
import type { WatchStream } from './watch-stream.js';

export interface WatcherOptions {
  key: Buffer;
  /** null: the single key; empty: every key ≥ key; else [key, end). */
  end: Buffer | null;
  /** First revision wanted (already resolved: 0 means current + 1 at the caller). */
  startRev: bigint;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  progressNotify: boolean;
  fragment: boolean;
}

/** One watcher (etcd mvcc watcher). Fields are owned by the store and its stream. */
export class Watcher {
  state: 'synced' | 'unsynced' | 'done' = 'unsynced';
  /** The next revision this watcher may be given. */
  minRev: bigint;
  /** An event was sent since the last progress tick (etcd v3rpc progress map). */
  sentSinceTick = false;
  readonly rangeId: string;

  constructor(
    readonly id: bigint,
    readonly stream: WatchStream,
    readonly opts: WatcherOptions,
  ) {
    this.minRev = opts.startRev;
    this.rangeId = opts.end === null ? '' : `${opts.key.toString('latin1')}\u0000${opts.end.toString('hex')}`;
  }

  matches(key: Buffer): boolean {
    return inRange(key, this.opts.key, this.opts.end);
  }

  wants(ev: Event): boolean {
    if (ev.type === EventType.PUT) return !this.opts.noPut;
    return !this.opts.noDelete;
  }
}

export function inRange(k: Buffer, key: Buffer, end: Buffer | null): boolean {
  if (end === null) return k.equals(key);
  if (compareBytes(k, key) < 0) return false;
  return end.length === 0 || compareBytes(k, end) < 0;
}
