/**
 * The raft-node loop (DESIGN "The path of a request"): THE place where consensus output turns
 * into effects, in the order the Raft core's contract demands:
 *
 *   Ready → persist hard state + entries (one synced write per Ready: group commit)
 *         → send messages → apply committed entries (one backend batch, no sync)
 *         → release read states → advance.
 *
 * Proposals and read requests that arrive while a Ready is being persisted accumulate in the
 * core and go out together in the next Ready; that is the whole of group commit.
 *
 * Invariants: at most one Ready is in flight (the loop is a single async task); an entry is
 * applied only after the synced write that contains it has completed; applied indexes are
 * strictly increasing and contiguous; a crash point named in `crashPoints` can stop the process
 * between any two steps (used by tests through ETCDTS_CRASH_AT).
 */
import { assert } from '../base/assert.js';
import type { CoreReady, Entry, HardState, ReadState } from './solo-core.js';

export interface ConsensusCore {
  propose(data: Uint8Array): unknown;
  readIndex(ctx: Uint8Array): void;
  hasReady(): boolean;
  ready(): CoreReady;
  advance(rd: CoreReady): void;
}

export interface LogPersister {
  /** Durably writes hard state and entries (fsync when sync). Resolves after the write. */
  save(hardState: HardState | undefined, entries: Entry[], sync: boolean): Promise<void>;
}

export interface Applier {
  /** Applies committed entries in order; resolves once their effects are visible to reads. */
  apply(entries: Entry[]): Promise<void>;
}

export type CrashPoint = 'before-persist' | 'after-persist' | 'after-apply';

export interface RaftNodeHooks {
  onReadStates?(states: ReadState[]): void;
  onFatal?(err: unknown): void;
  /** Test hook: called at each named point; may terminate the process. */
  crashPoint?(point: CrashPoint, rd: CoreReady): void;
}

export class RaftNode {
  private running = false;
  private again = false;
  private stopped = false;
  private lastApplied = -1n;

  constructor(
    private readonly core: ConsensusCore,
    private readonly persister: LogPersister,
    private readonly applier: Applier,
    private readonly hooks: RaftNodeHooks = {},
  ) {}

  /** Ask the loop to run soon (after a propose, readIndex, tick or incoming message). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    setImmediate(() => void this.loop());
  }

  stop(): void {
    this.stopped = true;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && this.core.hasReady()) await this.step();
      } while (this.again && !this.stopped);
    } catch (err) {
      // A failed fsync or apply leaves the member in an unknown state: stop, as etcd panics.
      this.stopped = true;
      this.hooks.onFatal?.(err);
    } finally {
      this.running = false;
    }
  }

  private async step(): Promise<void> {
    const rd = this.core.ready();
    this.hooks.crashPoint?.('before-persist', rd);
    if (rd.hardState || rd.entries.length > 0) {
      await this.persister.save(rd.hardState, rd.entries, rd.mustSync);
    }
    this.hooks.crashPoint?.('after-persist', rd);
    if (rd.committedEntries.length > 0) {
      const first = rd.committedEntries[0] as Entry;
      assert(this.lastApplied < 0n || first.index === this.lastApplied + 1n, `apply gap: ${this.lastApplied} → ${first.index}`);
      await this.applier.apply(rd.committedEntries);
      this.lastApplied = (rd.committedEntries[rd.committedEntries.length - 1] as Entry).index;
      this.hooks.crashPoint?.('after-apply', rd);
    }
    if (rd.readStates.length > 0) this.hooks.onReadStates?.(rd.readStates);
    this.core.advance(rd);
  }
}
