/**
 * Proposer: the write path from a request to its apply result (etcd's EtcdServer.processInternalRaftRequestOnce).
 * A request gets a fresh id (request-id.ts), is encoded as an internal request, registers a
 * waiter with a deadline (wait.ts), and reaches the core through the loop's input; a follower's
 * core forwards it to the leader. With no leader known the core drops it, and it is held here
 * (at most pendingProposalsMax) until a leader is elected, then proposed again. Apply triggers
 * the waiter by id with the result (apply-chain.ts); the sweeper fails waiters past their
 * deadline with etcd's timeout errors (parseProposeCtxErr: "timed out" or, when a leader was
 * elected shortly after the proposal, "timed out due to leader failure").
 *
 * Invariants: a waiter is registered before its proposal can reach the core, so no apply result
 * is lost; every waiter is settled exactly once (result, error, timeout or stop); deadlines are
 * registered in non-decreasing order (one request timeout for all, as wait.ts requires); a
 * proposal held for a leader is given to the core again only while its waiter still waits.
 * Cost per request: the request object, its bytes, one waiter and one input closure — no timer.
 */
import { assert } from '../base/assert.js';
import type { Runtime } from '../base/runtime.js';
import { EtcdError, Errors } from '../api/errors.js';
import { ErrProposalDropped } from '../raft/errors.js';
import { encodeInternal, type InternalRequest } from './internal-request.js';
import { RequestIdGenerator } from './request-id.js';
import { WaitRegistry } from './wait.js';

/** What apply hands the proposing member's waiter. */
export type ApplyResult = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Proposals held while no leader is known (each also has its own timeout). */
export const pendingProposalsMax = 10_000;

/** etcd: ReqTimeout = 5s + 2 × election timeout. */
export function requestTimeoutMsOf(electionTimeoutMs: number): number {
  return 5000 + 2 * electionTimeoutMs;
}

export interface ProposerHost {
  readonly rt: Runtime;
  readonly memberId: bigint;
  readonly electionTimeoutMs: number;
  readonly maxRequestBytes: number;
  /** Runs fn against the core now or right after the Ready in flight (RaftNode.input). */
  input(fn: () => void): void;
  /** RawNode.propose: throws ErrProposalDropped while no leader is known. */
  proposeToCore(data: Uint8Array): void;
  /** Throws "server stopped" once the member stopped or failed. */
  checkServing(): void;
}

export class Proposer {
  readonly waits = new WaitRegistry<ApplyResult>();
  readonly ids: RequestIdGenerator;
  readonly requestTimeoutMs: number;
  private pending: { id: bigint; data: Uint8Array }[] = [];
  /** When the current leader was elected (rt.now() scale; 0 before any). */
  private leaderElectedAt = 0;
  /** The sweeper's error for an expired waiter, made once (not per sweep). */
  private readonly expiredError = (deadline: number): EtcdError => this.timeoutError(deadline - this.requestTimeoutMs);

  constructor(private readonly h: ProposerHost) {
    this.ids = new RequestIdGenerator(h.memberId, h.rt.now());
    this.requestTimeoutMs = requestTimeoutMsOf(h.electionTimeoutMs);
  }

  /** Proposes the request `make` builds around a fresh id; resolves with its apply result. */
  async propose<T>(make: (id: bigint) => InternalRequest): Promise<T> {
    this.h.checkServing();
    const id = this.ids.next();
    const data = encodeInternal(make(id));
    if (data.length > this.h.maxRequestBytes) throw new EtcdError(Errors.RequestTooLarge);
    // The request timeout is a deadline swept by one timer (expire()), not a timer each.
    const wait = this.waits.register(id, this.h.rt.now() + this.requestTimeoutMs, data);
    this.h.input(() => this.submit(id, data));
    const res = await wait;
    if (!res.ok) throw res.err;
    return res.value as T;
  }

  /** Give a proposal to the core; with no leader known, hold it until one is elected. */
  submit(id: bigint, data: Uint8Array): void {
    try {
      this.h.proposeToCore(data);
    } catch (e) {
      if (!(e instanceof ErrProposalDropped)) throw e;
      if (this.pending.length < pendingProposalsMax) this.pending.push({ id, data });
    }
  }

  /** A leader is known now: remember when, and propose the held requests again (after this Ready). */
  onLeaderElected(): void {
    this.leaderElectedAt = this.h.rt.now();
    const pending = this.pending;
    this.pending = [];
    // Queued behind this Ready, so they reach the core after advance().
    for (const p of pending) if (this.waits.has(p.id)) this.h.input(() => this.submit(p.id, p.data));
  }

  /** Apply's result for request `id` (a no-op for another member's request or a settled one). */
  trigger(id: bigint, res: ApplyResult, entry?: Uint8Array): void {
    this.waits.trigger(id, res, entry);
  }

  /** Fails the waiters past their deadline (the sweeper's tick). */
  expire(now: number): void {
    this.waits.expire(now, this.expiredError);
  }

  failAll(err: EtcdError): void {
    this.waits.failAll(err);
    assert(this.waits.size === 0, 'a waiter outlived failAll');
  }

  /**
   * etcd's parseProposeCtxErr: a proposal made shortly before the current leader was elected
   * (within two election timeouts) most likely died with the previous leader.
   */
  timeoutError(start: number): EtcdError {
    const elected = this.leaderElectedAt;
    if (elected !== 0 && start >= elected - 2 * this.h.electionTimeoutMs && start <= elected) {
      return new EtcdError(Errors.TimeoutDueToLeaderFail);
    }
    return new EtcdError(Errors.Timeout);
  }
}
