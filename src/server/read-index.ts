/**
 * Linearizable reads by batched ReadIndex (Raft thesis §6.4; etcd's linearizableReadLoop): reads
 * that arrive while a round is in flight wait for the next one, so one quorum round serves them
 * all. A round asks the core for a read index with a fresh context; the ReadState that comes back
 * with that context releases the round's readers once the member's applied index reaches it (a
 * follower may be behind the leader's commit). A round with no answer is asked again every
 * readIndexRetryMs; a leader change fails the round in flight with "leader changed", as etcd 3.4.
 *
 * Metrics, where etcd's linearizableReadLoop counts them: etcd_server_read_indexes_failed_total
 * once per round failed by a leader change; etcd_server_slow_read_indexes_total once per round
 * whose readers started timing out before an answer came, and once per read state that answers
 * no round in flight (an out-of-date answer, e.g. to an earlier ask of a round already served).
 *
 * Invariants: at most one round is in flight; every reader is settled exactly once (released,
 * failed, or timed out by expire()); a reader is released only when applied ≥ its round's read
 * index; core calls happen only through the host's input (never inside a Ready).
 */
import { metrics } from '../base/metrics.js';
import type { Runtime, TimerHandle } from '../base/runtime.js';
import { EtcdError, Errors } from '../api/errors.js';
import { ErrProposalDropped } from '../raft/errors.js';
import type { ReadState } from '../raft/types.js';

/** etcd's readIndexRetryTime: re-ask a ReadIndex that got no answer. */
export const readIndexRetryMs = 500;

interface ReadWaiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  /** Fails with a timeout past this (rt.now() scale). */
  deadline: number;
  settled: boolean;
}

export interface ReadIndexHost {
  readonly rt: Runtime;
  readonly requestTimeoutMs: number;
  /** Runs fn against the core now or right after the Ready in flight (RaftNode.input). */
  input(fn: () => void): void;
  /** Asks the core for a read index (RawNode.readIndex); throws ErrProposalDropped without a leader. */
  readIndex(ctx: Uint8Array): void;
  /** A fresh context for a round (a request id). */
  nextContext(): string;
  /** The member's applied index. */
  applied(): bigint;
  stopped(): boolean;
}

export class ReadIndexBatcher {
  private waiting: ReadWaiter[] = [];
  /** Every reader not yet timed out, in arrival order (non-decreasing deadlines). */
  private deadlines: ReadWaiter[] = [];
  private round: { ctx: string; waiters: ReadWaiter[]; timer: TimerHandle; timedOut: boolean } | null = null;
  /** Read states confirmed but not yet reached by apply (a follower behind the leader's commit). */
  private awaitingApply: { index: bigint; waiters: ReadWaiter[] }[] = [];

  constructor(private readonly h: ReadIndexHost) {}

  /** Resolves once a read at this member sees everything committed before the call. */
  read(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: ReadWaiter = {
        deadline: this.h.rt.now() + this.h.requestTimeoutMs,
        settled: false,
        resolve: () => {
          if (w.settled) return;
          w.settled = true;
          resolve();
        },
        reject: (e) => {
          if (w.settled) return;
          w.settled = true;
          reject(e);
        },
      };
      this.waiting.push(w);
      this.deadlines.push(w);
      this.h.input(() => this.startRound());
    });
  }

  /** Fails readers past their deadline (the member's sweeper tick). */
  expire(now: number): void {
    // Answered reads leave the front too, so the queue holds about one sweep's worth.
    const q = this.deadlines;
    let i = 0;
    for (; i < q.length; i++) {
      const w = q[i] as ReadWaiter;
      if (!w.settled && w.deadline > now) break;
      if (!w.settled) w.reject(new EtcdError(Errors.Timeout));
    }
    if (i > 0) this.deadlines = q.slice(i);
    // The round's readers arrived in deadline order, so its first one times out first; a round
    // still in flight whose first reader is settled got no answer in time (etcd: "timed out
    // waiting for read index response", counted as a slow read index once per round).
    const r = this.round;
    if (r !== null && !r.timedOut && r.waiters[0]?.settled === true) {
      r.timedOut = true;
      metrics.server.slowReadIndexes++;
    }
  }

  /** Starts a round if readers wait and none is in flight. Only through the host's input. */
  startRound(): void {
    if (this.round !== null || this.waiting.length === 0 || this.h.stopped()) return;
    const ctx = this.h.nextContext();
    const timer = this.h.rt.every(readIndexRetryMs, () => this.h.input(() => this.ask(ctx)));
    this.round = { ctx, waiters: this.waiting, timer, timedOut: false };
    this.waiting = [];
    this.ask(ctx);
  }

  private ask(ctx: string): void {
    if (this.round?.ctx !== ctx) return;
    try {
      this.h.readIndex(Buffer.from(ctx));
    } catch (e) {
      // No leader yet: the retry timer or the next leader election asks again.
      if (!(e instanceof ErrProposalDropped)) throw e;
    }
  }

  /** The core's read states (Ready): the round whose context comes back is confirmed. */
  onReadStates(states: ReadState[]): void {
    for (const s of states) {
      const round = this.round;
      if (!round || Buffer.from(s.ctx).toString() !== round.ctx) {
        metrics.server.slowReadIndexes++; // out of date: no round in flight asked for it
        continue;
      }
      this.round = null;
      round.timer.cancel();
      this.awaitingApply.push({ index: s.index, waiters: round.waiters });
    }
    this.release();
    if (this.waiting.length > 0) this.h.input(() => this.startRound());
  }

  /** Releases the readers whose read index the applied index has reached (after each apply). */
  release(): void {
    if (this.awaitingApply.length === 0) return;
    const applied = this.h.applied();
    const keep: typeof this.awaitingApply = [];
    for (const r of this.awaitingApply) {
      if (r.index <= applied) for (const w of r.waiters) w.resolve();
      else keep.push(r);
    }
    this.awaitingApply = keep;
  }

  /** The leader changed: the round in flight fails (etcd 3.4's linearizableReadLoop). */
  onLeaderChanged(): void {
    const round = this.round;
    if (round === null) return;
    this.round = null;
    round.timer.cancel();
    metrics.server.readIndexesFailed++;
    for (const w of round.waiters) w.reject(new EtcdError(Errors.LeaderChanged));
  }

  /** Fails every reader (the member stops). */
  failAll(err: EtcdError): void {
    for (const w of this.waiting) w.reject(err);
    this.waiting = [];
    if (this.round) {
      this.round.timer.cancel();
      for (const w of this.round.waiters) w.reject(err);
      this.round = null;
    }
    for (const r of this.awaitingApply) for (const w of r.waiters) w.reject(err);
    this.awaitingApply = [];
    this.deadlines = [];
  }
}
