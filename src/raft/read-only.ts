/**
 * Lease-free linearizable reads (Raft thesis §6.4, etcd ReadOnlySafe): the leader records its
 * commit index for each read, then confirms it is still leader with one heartbeat round; once a
 * quorum answered that round, every read queued up to it may be served at its recorded index.
 *
 * Batching: reads arriving between two flushes share one heartbeat round (one context), so a
 * burst of N reads costs one round, not N.
 *
 * Invariants: rounds are ordered by creation; a round's requests all arrived before the round's
 * heartbeats were sent; releasing a round releases every earlier round too (a quorum that
 * acknowledged a later round also confirms leadership for the earlier ones).
 */
import { u64ToBytesBE, u64FromBytesBE } from '../base/int64.js';

export interface ReadRequest {
  /** The node that asked (the leader itself for local reads). */
  from: bigint;
  ctx: Uint8Array;
  /** The leader's commit index when the request arrived. */
  index: bigint;
}

interface Round {
  id: bigint;
  requests: ReadRequest[];
  acks: Set<bigint>;
}

export class ReadOnly {
  private pending: ReadRequest[] = [];
  private rounds: Round[] = [];
  private nextRound = 1n;

  add(req: ReadRequest): void {
    this.pending.push(req);
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Close the current batch into a round; returns the context its heartbeats must carry. */
  startRound(self: bigint): Uint8Array | undefined {
    if (this.pending.length === 0) return undefined;
    const id = this.nextRound++;
    this.rounds.push({ id, requests: this.pending, acks: new Set([self]) });
    this.pending = [];
    return u64ToBytesBE(id);
  }

  /**
   * Record that `from` answered the round named by ctx; if `hasQuorum` says the acks now form a
   * quorum, remove and return every request of that round and all earlier ones.
   */
  recvAck(from: bigint, ctx: Uint8Array, hasQuorum: (acks: Set<bigint>) => boolean): ReadRequest[] {
    if (ctx.length !== 8) return [];
    const id = u64FromBytesBE(ctx);
    const k = this.rounds.findIndex((r) => r.id === id);
    const round = this.rounds[k];
    if (round === undefined) return [];
    round.acks.add(from);
    if (!hasQuorum(round.acks)) return [];
    const done = this.rounds.slice(0, k + 1);
    this.rounds = this.rounds.slice(k + 1);
    return done.flatMap((r) => r.requests);
  }

  /** Rounds waiting for acks, oldest first (for re-checking after a configuration change). */
  openRounds(): readonly { id: bigint; acks: Set<bigint> }[] {
    return this.rounds;
  }

  size(): number {
    return this.pending.length + this.rounds.reduce((n, r) => n + r.requests.length, 0);
  }
}
