/**
 * What the whole-member simulator records during a run, for the checks at its end (checks.ts):
 * the linearizable key-value history (in the checker's own form, test/helpers/kv-history.ts),
 * serializable reads, watches, leases, and the truth of each revision as the members applied it.
 *
 * The linearizability checker plugs in through `LinearizabilityChecker`: the run hands it the
 * operations on the checked keys and takes back a verdict.
 */
import type { Event } from '../../../src/api/kv-types.js';
import { checkKvHistory, type KvOp } from '../../helpers/kv-history.js';

export type { KvInput, KvOp, KvOutput } from '../../helpers/kv-history.js';

export interface LinearizabilityVerdict {
  ok: boolean;
  /** The search gave up on some key: neither proved nor refuted (not a failure, but said). */
  inconclusive: boolean;
  violations: string[];
}

export type LinearizabilityChecker = (ops: readonly KvOp[]) => LinearizabilityVerdict;

/** The default checker: issue-14h's (Wing & Gong / Lowe search, per key). */
export const defaultChecker: LinearizabilityChecker = (ops) => {
  const r = checkKvHistory(ops, { stepsMax: 2_000_000 });
  return { ok: r.violations.length === 0, inconclusive: r.inconclusive, violations: r.violations };
};

/** A serializable get: whatever it returns must be the key's state at its header revision. */
export interface SerializableRead {
  member: string;
  key: string;
  value: string | null;
  modRevision: bigint;
  header: bigint;
  at: number;
}

/** A range over the `k` prefix, maybe at a past revision: it must be the keys as they were then. */
export interface RangeRead {
  member: string;
  serializable: boolean;
  /** The revision asked for (0: current). */
  rev: bigint;
  header: bigint;
  kvs: { key: string; value: string; modRevision: bigint; createRevision: bigint; version: bigint }[];
  at: number;
}

/** One event as a watcher saw it or a member applied it. */
export interface SeenEvent {
  type: 'put' | 'delete';
  key: string;
  value: string;
  modRevision: bigint;
  createRevision: bigint;
  version: bigint;
  lease: bigint;
}

export function seenEvent(e: Event): SeenEvent {
  return {
    type: e.type === 0 ? 'put' : 'delete',
    key: e.kv.key.toString(),
    value: e.kv.value.toString(),
    modRevision: e.kv.mod_revision,
    createRevision: e.kv.create_revision,
    version: e.kv.version,
    lease: e.kv.lease,
  };
}

export function describeEvent(e: SeenEvent): string {
  return e.type === 'put'
    ? `put ${e.key}=${JSON.stringify(e.value)} @${e.modRevision} (create ${e.createRevision}, version ${e.version}${e.lease !== 0n ? `, lease ${e.lease.toString(16)}` : ''})`
    : `delete ${e.key} @${e.modRevision}`;
}

export function sameEvent(a: SeenEvent, b: SeenEvent): boolean {
  return (
    a.type === b.type &&
    a.key === b.key &&
    a.modRevision === b.modRevision &&
    (a.type === 'delete' || (a.value === b.value && a.createRevision === b.createRevision && a.version === b.version && a.lease === b.lease))
  );
}

export interface WatchRecord {
  id: number;
  client: number;
  member: string;
  key: string;
  /** null: the single key; else [key, end). */
  end: string | null;
  /** Asked start revision (0: from now). */
  askedRev: bigint;
  /** The revision the watch started at (created response rev + 1 for 0). */
  startRev: bigint;
  createdAt: number;
  events: SeenEvent[];
  /** Every event up to this revision has been delivered (a progress response, or the last event). */
  syncedTo: bigint;
  /** Why the watch ended. */
  end_: 'open' | 'canceled' | 'compacted' | 'member-down';
  compactRevision: bigint;
}

export interface LeaseRecord {
  id: bigint;
  ttlMs: number;
  /** Call times of the grant and of every keepalive told it succeeded (TTL > 0). */
  aliveCalls: number[];
  /** Call time of the first revoke the client sent (whatever its outcome). */
  revokeCalledAt: number | null;
}

/** A write the client was told succeeded, with the revision it was told. */
export interface AckedWrite {
  key: string;
  /** null: a delete. */
  value: string | null;
  revision: bigint;
  opId: number;
}

export class History {
  readonly kv: KvOp[] = [];
  readonly serializable: SerializableRead[] = [];
  readonly ranges: RangeRead[] = [];
  readonly watches: WatchRecord[] = [];
  readonly leases = new Map<bigint, LeaseRecord>();
  readonly acked: AckedWrite[] = [];
  /** Revision → its events, as the first member to apply it saw them. */
  readonly truth = new Map<bigint, SeenEvent[]>();
  /** Lease id → the first time any member applied its revoke. */
  readonly revokedAt = new Map<bigint, { at: number; member: string }>();
  private nextOp = 1;

  opId(): number {
    return this.nextOp++;
  }
}

export type { KvOp as HistoryOp };
