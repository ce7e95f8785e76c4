/**
 * Operating errors of the Raft core and its storage, as typed classes (callers narrow with
 * instanceof). Programmer errors are assertions instead.
 */

/** A proposal (or read) was not accepted: no leader known, leadership in transfer, removed, or a conf change pending. */
export class ErrProposalDropped extends Error {
  override name = 'ErrProposalDropped';
  constructor(readonly reason: string) {
    super(`raft proposal dropped: ${reason}`);
  }
}

/** The requested index is at or below the storage's compaction point (its entries live only in a snapshot). */
export class ErrCompacted extends Error {
  override name = 'ErrCompacted';
  constructor() {
    super('requested index is unavailable due to compaction');
  }
}

/** The requested index is beyond the storage's last index. */
export class ErrUnavailable extends Error {
  override name = 'ErrUnavailable';
  constructor() {
    super('requested entry at index is unavailable');
  }
}

/** A snapshot older than the one the storage already holds. */
export class ErrSnapOutOfDate extends Error {
  override name = 'ErrSnapOutOfDate';
  constructor() {
    super('requested index is older than the existing snapshot');
  }
}

/** The storage cannot produce a snapshot right now; the leader retries later. */
export class ErrSnapshotTemporarilyUnavailable extends Error {
  override name = 'ErrSnapshotTemporarilyUnavailable';
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}
