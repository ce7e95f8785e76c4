/**
 * The leader's view of one follower (Raft §5.3 nextIndex/matchIndex, plus etcd's flow control):
 *
 * - Probe: we do not know where the follower's log matches; send one append per heartbeat
 *   interval (probeSent pauses until a response or heartbeat response) and back off on reject.
 * - Replicate: the follower is known to match up to `match`; stream appends optimistically
 *   (next advances on send) with at most maxInflightMsgs unacknowledged messages.
 * - Snapshot: a snapshot is in flight; send nothing until its outcome is known.
 *
 * Invariants: match < next; in Replicate, every inflight index is ≥ match + 1 and < next;
 * pendingSnapshot ≠ 0 only in Snapshot state.
 */
import { assert } from '../base/assert.js';

export enum ProgressState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

/** A bounded FIFO of the last index of each unacknowledged append message. */
export class Inflights {
  private buf: bigint[] = [];
  constructor(readonly capacity: number) {
    assert(capacity > 0, 'maxInflightMsgs must be positive');
  }
  add(last: bigint): void {
    assert(!this.full(), 'cannot add into a full inflights');
    this.buf.push(last);
  }
  /** Acknowledge every message whose last index is ≤ to. */
  freeLE(to: bigint): void {
    let k = 0;
    while (k < this.buf.length && (this.buf[k] as bigint) <= to) k++;
    if (k > 0) this.buf = this.buf.slice(k);
  }
  /** Free the oldest in-flight message (a heartbeat response says the follower is alive). */
  freeFirstOne(): void {
    this.buf = this.buf.slice(1);
  }
  full(): boolean {
    return this.buf.length >= this.capacity;
  }
  count(): number {
    return this.buf.length;
  }
  reset(): void {
    this.buf = [];
  }
}

export class Progress {
  match = 0n;
  next: bigint;
  state = ProgressState.Probe;
  pendingSnapshot = 0n;
  /** Heard from since the last check-quorum round (Raft thesis §6.2). */
  recentActive = false;
  /** Probe state: an append is outstanding; wait for its answer or a heartbeat response. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(next: bigint, maxInflight: number, public isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0n;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it (or after what is known to match).
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = (this.match > pending ? this.match : pending) + 1n;
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1n;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1n;
  }

  becomeSnapshot(snapshotIndex: bigint): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to n: returns false if it is stale (not news). */
  maybeUpdate(n: bigint): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1n) this.next = n + 1n;
    return updated;
  }

  /** Replicate state: we sent up to n and expect it to land. */
  optimisticUpdate(n: bigint): void {
    this.next = n + 1n;
  }

  /**
   * The follower rejected an append at `rejected`, hinting its log may match at `matchHint`.
   * Returns false for a stale rejection (one that no longer describes our latest send).
   */
  maybeDecrTo(rejected: bigint, matchHint: bigint): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1n;
      return true;
    }
    if (this.next - 1n !== rejected) return false;
    let next = rejected < matchHint + 1n ? rejected : matchHint + 1n;
    if (next < this.match + 1n) next = this.match + 1n;
    if (next < 1n) next = 1n;
    this.next = next;
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }
}
