/**
 * The not-yet-persisted tail of the log: entries (and possibly an incoming snapshot) that the
 * core has accepted but the driver has not yet written to RaftStorage.
 *
 * Invariants:
 * - entries[k] has index offset + k; indexes are contiguous;
 * - if a snapshot is present, offset = its index + 1 or later (entries follow it);
 * - stableTo/stableSnapTo only drop what the driver confirms persisted, and only if the entry
 *   at that index still has the confirmed term (it may have been replaced meanwhile).
 */
import { assert } from '../base/assert.js';
import type { Entry, Snapshot } from './types.js';

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];

  constructor(public offset: bigint) {}

  maybeFirstIndex(): bigint | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1n;
  }

  maybeLastIndex(): bigint | undefined {
    if (this.entries.length > 0) return this.offset + BigInt(this.entries.length) - 1n;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(i: bigint): bigint | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return (this.entries[Number(i - this.offset)] as Entry).term;
  }

  stableTo(i: bigint, t: bigint): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(Number(i + 1n - this.offset));
      this.offset = i + 1n;
    }
  }

  stableSnapTo(i: bigint): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1n;
    this.entries = [];
    this.snapshot = s;
  }

  truncateAndAppend(ents: Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + BigInt(this.entries.length)) {
      // In place: a leader appends one proposal at a time, and copying the array on each made a
      // Ready of n proposals cost O(n²) (every reader of `entries` takes a copy).
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i] as Entry);
    } else if (after <= this.offset) {
      // Replace everything unstable; the storage entries from `after` on are shadowed by these.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, Number(after - this.offset)).concat(ents);
    }
  }

  /** Entries [lo, hi), which must lie within the unstable range. */
  slice(lo: bigint, hi: bigint): Entry[] {
    assert(lo <= hi && lo >= this.offset && hi <= this.offset + BigInt(this.entries.length), `unstable.slice[${lo},${hi}) out of bound`);
    return this.entries.slice(Number(lo - this.offset), Number(hi - this.offset));
  }
}
