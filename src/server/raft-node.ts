/**
 * The raft-node loop (DESIGN "The path of a request"): THE place where the Raft core's output
 * turns into effects, in the order its contract demands (src/raft/raw-node.ts):
 *
 *   Ready → persist snapshot + hard state + entries (one write per Ready, fsynced when the Ready
 *           says so: group commit) → send messages (a leader sends before persisting) → install the snapshot → apply committed
 *           entries (one backend batch, no fsync) → release read states → advance.
 *
 * Pipelining, as etcd's raftNode hands a Ready's committed entries to its apply goroutine and
 * goes on to the next Ready: committed entries that only became durable with this Ready's write
 * (a single voter commits its own entries at once) are not applied before advance() but kept
 * as `deferred`, and applied by the next Ready right after its write has been issued — so the
 * apply's CPU overlaps the next fsync instead of following it — or, when no Ready follows, at
 * once. A Ready whose committed entries include a conf change applies them before advance(),
 * since applying one touches the core (etcd's waitApply likewise); so does one with a snapshot.
 * The core's applied index (set by advance) may thus run ahead of the member's by one Ready's
 * entries: the member's applied index is the apply chain's, and a snapshot is only created
 * after the deferred entries are applied (applyDeferred).
 *
 * Inputs (ticks, peer messages, proposals, read requests) that arrive while a Ready is being
 * handled are queued and given to the core right after advance(): the core is never touched
 * between ready() and advance(). Proposals that arrive together go out in the same Ready, so
 * they share one fsync: that is the whole of group commit.
 *
 * Invariants: at most one Ready is in flight (the loop is a single async task); a message
 * leaves only after the write it depends on has completed; an entry is applied only once it is
 * on this member's disk — committed entries written by an earlier Ready are applied while the
 * current Ready's write is in flight (pipelining), the others after it; applied indexes are
 * strictly increasing and contiguous; the input queue is bounded by the callers (proposals and
 * reads are bounded by their waiters); at most one Ready's entries are deferred, never a conf
 * change, and they are applied before any later entry, snapshot or stop.
 */
import { assert } from '../base/assert.js';
import type { RawNode, Ready } from '../raft/raw-node.js';
import { type Entry, EntryType, type Message, type ReadState, type Snapshot, type SoftState, StateRole } from '../raft/types.js';

import type { FailpointName } from './failpoints.js';

export interface RaftNodeEffects {
  /** Step 1 (without or with a snapshot). */
  persist(rd: Ready): Promise<void>;
  /** Step 2: hand messages to the transport (never blocks). */
  send(msgs: Message[]): void;
  /** Step 3a: make the installed snapshot's state the member's state (reopen stores). */
  restore(snap: Snapshot): Promise<void>;
  /** Step 3b: apply committed entries in order (conf changes included). */
  apply(entries: Entry[]): Promise<void>;
  onSoftState(s: SoftState): void;
  onReadStates(states: ReadState[]): void;
  /** After advance: the place for housekeeping such as creating a snapshot. */
  afterAdvance(): Promise<void>;
  onFatal(err: unknown): void;
  /** Test hook (failpoints.ts): called at each named point; may throw or end the process. */
  failpoint?(point: FailpointName, rd: Ready): void;
}

export class RaftNode {
  private running = false;
  private again = false;
  private stopped = false;
  private inReady = false;
  private queued: (() => void)[] = [];
  private lastApplied = -1n;
  /** The last log index known to be on this member's disk (set at the first Ready). */
  private persisted: bigint | undefined;
  private current: Promise<void> = Promise.resolve();
  /** Committed, durable entries of the last Ready, applied by the next one (see the header). */
  private deferred: { rd: Ready; entries: Entry[] } | null = null;

  constructor(
    readonly core: RawNode,
    private readonly fx: RaftNodeEffects,
    /** Runs the loop on a later turn (Runtime.soon: setImmediate, or the simulator's). */
    private readonly soon: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  /** Run `fn` against the core now, or right after the Ready in flight; then run the loop. */
  input(fn: () => void): void {
    if (this.stopped) return;
    if (this.inReady) this.queued.push(fn);
    else this.run(fn);
    this.kick();
  }

  /**
   * Runs an input against the core. Callers catch the errors they expect (a dropped proposal);
   * anything else thrown here leaves the core in an unknown state, so the loop stops and the
   * member is told it cannot go on (as etcd panics) — it never goes on half-dead.
   */
  private run(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.fx.onFatal(err);
  }

  /** Ask the loop to run soon. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = new Promise<void>((resolve) => this.soon(() => void this.loop().then(resolve)));
  }

  /** Stops the loop; resolves once a Ready in flight (if any) has finished its writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && this.core.hasReady()) await this.step();
        // No Ready follows to overlap with (or stopping): apply what waits now.
        await this.applyDeferred();
      } while (this.again && !this.stopped);
    } catch (err) {
      // A failed fsync or apply leaves the member in an unknown state: stop, as etcd panics.
      this.fail(err);
    } finally {
      this.running = false;
    }
  }

  private async step(): Promise<void> {
    const rd = this.core.ready();
    this.inReady = true;
    try {
      if (rd.softState) this.fx.onSoftState(rd.softState);
      this.persisted ??= this.core.raft.log.storage.lastIndex();
      // A leader's appends and heartbeats do not depend on its own persistence, so it sends
      // them first and writes in parallel with the followers (Raft thesis §10.2.1; etcd raftNode
      // does the same) — except for the commit index they carry: the core counts the leader's
      // own unwritten entries toward commit (as etcd 3.4's raft does), so a commit index beyond
      // what the leader holds on disk is held back until a later message (a follower or learner
      // that applied it could otherwise keep an entry the leader then loses in a crash: with one
      // voter that entry was never durable anywhere else). A follower's or candidate's messages
      // (votes, append acknowledgements) may only leave after the write they promise.
      const early = this.core.raft.state === StateRole.Leader;
      if (early && rd.messages.length > 0) this.fx.send(capCommit(rd.messages, this.persisted));
      // Pipelining: committed entries that are already durable here (written by an earlier
      // Ready, and not about to be overwritten by this one) are applied while this Ready's
      // write is in flight; the rest after it. A committed entry is durable on a quorum, and
      // the member that proposed it answers only once it is also durable locally.
      const firstNew = rd.entries.length > 0 ? (rd.entries[0] as Entry).index : undefined;
      const safe = rd.snapshot ? -1n : firstNew !== undefined && firstNew - 1n < this.persisted ? firstNew - 1n : this.persisted;
      let split = 0;
      while (split < rd.committedEntries.length && (rd.committedEntries[split] as Entry).index <= safe) split++;
      // A snapshot's state replaces the store's: entries still deferred (older than it) are
      // applied first, never on top of the installed state.
      if (rd.snapshot) await this.applyDeferred();
      this.fx.failpoint?.('raftBeforeSave', rd);
      const saved = this.fx.persist(rd);
      // Whatever happens to the write, its rejection is handled below (never unhandled).
      saved.catch(() => undefined);
      // The previous Ready's entries, while this one's write is in flight.
      await this.applyDeferred();
      if (split > 0) await this.applyEntries(rd, rd.committedEntries.slice(0, split));
      await saved;
      if (rd.snapshot) this.persisted = rd.snapshot.metadata.index;
      if (rd.entries.length > 0) this.persisted = (rd.entries[rd.entries.length - 1] as Entry).index;
      this.fx.failpoint?.('raftAfterSave', rd);
      if (!early && rd.messages.length > 0) this.fx.send(rd.messages);
      if (rd.snapshot) {
        this.fx.failpoint?.('raftBeforeApplySnap', rd);
        await this.fx.restore(rd.snapshot);
        this.fx.failpoint?.('raftAfterApplySnap', rd);
        this.lastApplied = rd.snapshot.metadata.index;
      }
      if (split < rd.committedEntries.length) {
        const rest = split === 0 ? rd.committedEntries : rd.committedEntries.slice(split);
        if (rd.snapshot || rest.some((e) => e.type !== EntryType.Normal)) await this.applyEntries(rd, rest);
        else this.deferred = { rd, entries: rest };
      }
      if (rd.readStates.length > 0) this.fx.onReadStates(rd.readStates);
      this.core.advance(rd);
    } finally {
      this.inReady = false;
    }
    const q = this.queued;
    this.queued = [];
    for (const fn of q) this.run(fn);
    await this.fx.afterAdvance();
  }

  /** Applies the deferred entries, if any (before a snapshot is created from the store, too). */
  async applyDeferred(): Promise<void> {
    const d = this.deferred;
    if (d === null) return;
    this.deferred = null;
    await this.applyEntries(d.rd, d.entries);
  }

  private async applyEntries(rd: Ready, entries: Entry[]): Promise<void> {
    const first = entries[0] as Entry;
    assert(this.lastApplied < 0n || first.index === this.lastApplied + 1n, `apply gap: ${this.lastApplied} → ${first.index}`);
    this.fx.failpoint?.('raftBeforeApply', rd);
    await this.fx.apply(entries);
    this.lastApplied = (entries[entries.length - 1] as Entry).index;
    this.fx.failpoint?.('raftAfterApply', rd);
  }
}

/** Messages whose commit index is at most `durable` (copies of those that said more). */
function capCommit(msgs: Message[], durable: bigint): Message[] {
  let out: Message[] | null = null;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i] as Message;
    if (m.commit <= durable) continue;
    out ??= msgs.slice();
    out[i] = { ...m, commit: durable };
  }
  return out ?? msgs;
}
