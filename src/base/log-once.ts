/**
 * Remembers which (subject, reason) pairs were already logged, so a condition that repeats —
 * a peer that keeps redialing with the wrong cluster id, messages to an unknown member — is
 * logged once per streak instead of on every attempt.
 *
 * Bounded: the subjects (sender ids, remote hosts) come from the network, and a stream of
 * distinct bogus senders must not grow memory forever. At `subjectsMax` subjects everything is
 * forgotten at once (O(1) amortized, no ordering to keep); the price is that a subject still
 * misbehaving is logged once more after each `subjectsMax` new ones — the log rate stays
 * proportional to the rate of new subjects, as it was. Reasons per subject are bounded the same
 * way.
 *
 * Invariant: size ≤ subjectsMax and each subject holds ≤ reasonsMax reasons.
 */
import { assert } from './assert.js';

/** Subjects remembered at most before all are forgotten. */
export const logOnceSubjectsMax = 256;
/** Reasons remembered per subject at most. */
export const logOnceReasonsMax = 16;

export class LogOnce<S> {
  private readonly seen = new Map<S, Set<string>>();

  constructor(
    readonly subjectsMax = logOnceSubjectsMax,
    readonly reasonsMax = logOnceReasonsMax,
  ) {
    assert(subjectsMax > 0 && reasonsMax > 0, 'LogOnce bounds must be positive');
  }

  /** True the first time `reason` is met for `subject` (since it was forgotten): log then. */
  first(subject: S, reason = ''): boolean {
    let reasons = this.seen.get(subject);
    if (reasons === undefined) {
      if (this.seen.size >= this.subjectsMax) this.seen.clear();
      reasons = new Set();
      this.seen.set(subject, reasons);
    }
    if (reasons.has(reason)) return false;
    if (reasons.size >= this.reasonsMax) reasons.clear();
    reasons.add(reason);
    return true;
  }

  /** The streak of `subject` ended (it was accepted, added, ...): its next occurrence logs again. */
  forget(subject: S): void {
    this.seen.delete(subject);
  }

  /** Subjects remembered now. */
  get size(): number {
    return this.seen.size;
  }
}
