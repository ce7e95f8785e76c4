/**
 * Apply: committed entries into the store, and each request through a chain of stages in etcd's
 * order (etcd server/apply: the applierV3Corrupt and applierV3Capped wrappers an active alarm
 * puts around the authApplierV3, around the applierV3backend):
 *
 *   corrupt  — with CORRUPT active, every KV request fails ("corrupt cluster");
 *   capped   — with NOSPACE active, a put and a txn with puts fail ("database space exceeded");
 *              deletes, compaction and read-only txns go on;
 *   auth     — while auth is enabled, the entry's stamp must allow it (auth-gate.ts applyCheck);
 *   quota    — etcd's quotaApplierV3 has no stage here: the quota is checked before proposing
 *              (EtcdServer.checkQuota, etcd's quotaKVServer), which raises NOSPACE through Raft,
 *              and from then on the capped stage refuses; so apply reads no backend size and
 *              stays deterministic;
 *   backend  — the request's effects (apply-kv.ts, apply-lease.ts, alarms, members, auth).
 *              The lease requests' own alarm check (apply-lease.ts leaseAlarmCheck) runs here,
 *              after auth, as it did before this chain was split out. etcd's corrupt and capped
 *              wrappers refuse LeaseGrant/LeaseRevoke before auth, so one answer differs from
 *              etcd's: a LeaseRevoke that auth denies while CORRUPT is active gets the auth error.
 *
 * The entry loop (Applier) gives every conf change to the core, skips entries at or below the
 * consistent index, applies the rest into ONE write batch with the new consistent index, hands
 * the batch to the backend without waiting for it to land (at most applyBatchesInFlightMax
 * writes outstanding), and then settles the proposers' waiters.
 *
 * Invariants: the consistent index is written in the same batch as the effects of the entries up
 * to it, and never moves back except by a snapshot install (reset()); an entry at or below it is
 * never applied to the store again, but its conf change still reaches the core (whose
 * configuration is not in the store); apply reads only the entry and the store (deterministic);
 * a stage that refuses a request changes nothing; an EtcdError is a result, any other error a
 * bug that stops the loop (as etcd panics). Cost: no allocation per entry beyond the request's
 * decode, its result (and the pair holding it until the batch is answered) and a refusal's
 * error; the stages and their callbacks are built once.
 */
import { assert } from '../base/assert.js';
import { metrics } from '../base/metrics.js';
import { EtcdError } from '../api/errors.js';
import type { RawNode } from '../raft/raw-node.js';
import { type Entry, EntryType } from '../raft/types.js';
import { Backend, WriteBatch } from '../storage/backend.js';
import { metaKey } from '../storage/schema.js';
import type { KvStore } from '../mvcc/kv-store.js';
import type { MemberStore } from '../membership/member-store.js';
import { applyCompaction, applyDeleteRange, applyPut, applyTxn } from './apply-kv.js';
import { applyAuth } from './apply-auth.js';
import { applyLease, leaseAlarmCheck } from './apply-lease.js';
import type { AlarmStore, KvApplyKind } from './alarms.js';
import type { AuthGate } from './auth-gate.js';
import type { ClusterOps } from './cluster-ops.js';
import { fire, type Failpoints } from './failpoints.js';
import { decodeInternal, internalKind, RequestKind, type InternalRequest } from './internal-request.js';
import type { LeaseServer } from './lease-server.js';
import type { ApplyResult } from './proposer.js';

/** Apply batches written to classic-level but not yet landed (their records sit in memory). */
export const applyBatchesInFlightMax = 8;
/** etcd's --experimental-warning-apply-duration default: an entry applied slower counts as slow. */
export const slowApplyMs = 100;

/** KV requests an active alarm may refuse in apply (the corrupt and capped stages). */
const kvApplyKinds: Readonly<Record<number, KvApplyKind>> = {
  [RequestKind.Put]: 'put',
  [RequestKind.DeleteRange]: 'deleteRange',
  [RequestKind.Txn]: 'txn',
  [RequestKind.Compaction]: 'compaction',
};

/** A client's KV request (not the member's own bookkeeping such as publish). */
export function isClientRequest(data: Uint8Array): boolean {
  return internalKind(data) in kvApplyKinds;
}

/** One stage of the chain: refuses the request, or passes it on. */
export interface ApplyStage {
  apply(r: InternalRequest, batch: WriteBatch, index: bigint): ApplyResult;
}

/** etcd applierV3Corrupt. */
export class CorruptStage implements ApplyStage {
  constructor(
    private readonly alarms: Pick<AlarmStore, 'corruptError'>,
    private readonly next: ApplyStage,
  ) {}

  apply(r: InternalRequest, batch: WriteBatch, index: bigint): ApplyResult {
    if (kvApplyKinds[r.kind] !== undefined) {
      const err = this.alarms.corruptError();
      if (err) return { ok: false, err };
    }
    return this.next.apply(r, batch, index);
  }
}

/** etcd applierV3Capped. */
export class CappedStage implements ApplyStage {
  constructor(
    private readonly alarms: Pick<AlarmStore, 'cappedError'>,
    private readonly next: ApplyStage,
  ) {}

  apply(r: InternalRequest, batch: WriteBatch, index: bigint): ApplyResult {
    const kind = kvApplyKinds[r.kind];
    if (kind !== undefined) {
      const err = this.alarms.cappedError(kind, r.kind === RequestKind.Txn ? r.req : undefined);
      if (err) return { ok: false, err };
    }
    return this.next.apply(r, batch, index);
  }
}

/** etcd authApplierV3: one boolean while auth is off. */
export class AuthStage implements ApplyStage {
  constructor(
    private readonly gate: () => Pick<AuthGate, 'applyCheck'>,
    /** The keys attached to a lease (a put with a lease, a revoke need write permission on them). */
    private readonly leaseKeys: (id: bigint) => Buffer[],
    private readonly next: ApplyStage,
  ) {}

  apply(r: InternalRequest, batch: WriteBatch, index: bigint): ApplyResult {
    const denied = this.gate().applyCheck(r, this.leaseKeys);
    if (denied) return { ok: false, err: denied };
    return this.next.apply(r, batch, index);
  }
}

/** What the backend stage and the entry loop work on (getters: kv and members change on a snapshot install). */
export interface ApplyHost {
  readonly alarms: AlarmStore;
  readonly backend: Backend;
  readonly kv: KvStore;
  readonly leases: LeaseServer;
  readonly auth: AuthGate;
  readonly members: MemberStore;
  readonly cluster: Pick<ClusterOps, 'applyConfChange' | 'applyUpdate' | 'afterApply'>;
  readonly core: RawNode;
  readonly failpoints: Failpoints | undefined;
  /** Settles the proposer's waiter of request `id` (a no-op for another member's request). */
  /** entry: the applied entry's bytes (a waiter settles only on the entry it proposed). */
  trigger(id: bigint, res: ApplyResult, entry?: Uint8Array): void;
  /** The applied index moved: release the reads waiting for it. */
  releaseReads(): void;
  /** The member cannot go on (an apply batch failed to land). */
  onFatal(err: unknown): void;
}

/** etcd applierV3backend: the request's effects, into the batch. */
export class BackendStage implements ApplyStage {
  private readonly hasAlarm = (a: number): boolean => this.h.alarms.has(a);

  constructor(private readonly h: ApplyHost) {}

  apply(r: InternalRequest, batch: WriteBatch, index: bigint): ApplyResult {
    switch (r.kind) {
      case RequestKind.Alarm:
        return { ok: true, value: this.h.alarms.apply(r.req, batch) };
      case RequestKind.Put:
        metrics.mvcc.put++;
        return { ok: true, value: applyPut(this.h.kv, batch, r.req).resp };
      case RequestKind.DeleteRange:
        metrics.mvcc.delete++;
        return { ok: true, value: applyDeleteRange(this.h.kv, batch, r.req).resp };
      case RequestKind.Txn:
        metrics.mvcc.txn++;
        return { ok: true, value: applyTxn(this.h.kv, batch, r.req).resp };
      case RequestKind.Compaction:
        return { ok: true, value: applyCompaction(this.h.kv, batch, r.req) };
      case RequestKind.LeaseGrant:
      case RequestKind.LeaseRevoke:
      case RequestKind.LeaseCheckpoint: {
        const refused = leaseAlarmCheck(this.hasAlarm, r.kind);
        if (refused) return { ok: false, err: refused };
        return { ok: true, value: applyLease(this.h.leases.lessor, this.h.kv, batch, r).resp };
      }
      case RequestKind.MemberPublish:
        return { ok: true, value: this.h.members.setAttributes(r.req.memberId, r.req.name, r.req.clientURLs, batch) };
      case RequestKind.MemberUpdate:
        return { ok: true, value: this.h.cluster.applyUpdate(r.req, batch) };
      case RequestKind.Auth:
        return { ok: true, value: applyAuth(this.h.auth, r.req, batch, index) };
    }
  }
}

/** The chain in etcd's order: corrupt → capped → auth → `backend` (see the header for quota). */
export function applyStages(
  alarms: Pick<AlarmStore, 'corruptError' | 'cappedError'>,
  gate: () => Pick<AuthGate, 'applyCheck'>,
  leaseKeys: (id: bigint) => Buffer[],
  backend: ApplyStage,
): ApplyStage {
  return new CorruptStage(alarms, new CappedStage(alarms, new AuthStage(gate, leaseKeys, backend)));
}

/** The member's chain, built once. */
export function buildApplyChain(h: ApplyHost): ApplyStage {
  return applyStages(h.alarms, () => h.auth, (id) => h.leases.lessor.keysOf(id), new BackendStage(h));
}

/** Runs one request through the chain: operating errors (EtcdError) are results. */
export function applyRequest(chain: ApplyStage, r: InternalRequest, batch: WriteBatch, index: bigint): ApplyResult {
  try {
    return chain.apply(r, batch, index);
  } catch (err) {
    // Operating errors (compacted, lease not found...) are results; anything else is a bug
    // that would make members diverge, so it stops the loop (as etcd panics).
    if (err instanceof EtcdError) return { ok: false, err };
    throw err;
  }
}

/** The entry loop: committed entries → one apply batch → results to the waiters. */
export class Applier {
  /** Index of the last entry whose effects are in the store (the consistent index). */
  consistentIndex: bigint;
  /** Index of the last entry applied (≥ consistentIndex: conf changes and empty entries count). */
  appliedIndex: bigint;
  /** The consistent index when the Ready in flight started (crash points only count new entries). */
  readyBaseIndex = 0n;
  private inFlight: Promise<void>[] = [];
  private readonly chain: ApplyStage;

  constructor(
    private readonly h: ApplyHost,
    consistentIndex: bigint,
  ) {
    this.consistentIndex = consistentIndex;
    this.appliedIndex = consistentIndex;
    this.chain = buildApplyChain(h);
  }

  /** A snapshot was installed: the store is the leader's as of its consistent index. */
  reset(consistentIndex: bigint, snapshotIndex: bigint): void {
    assert(consistentIndex >= snapshotIndex, `installed state at ${consistentIndex} is older than snapshot ${snapshotIndex}`);
    this.consistentIndex = consistentIndex;
    this.appliedIndex = consistentIndex;
  }

  async applyEntries(entries: Entry[]): Promise<void> {
    const h = this.h;
    const batch = new WriteBatch();
    const results: [bigint, ApplyResult, Uint8Array?][] = [];
    let last: bigint | undefined;
    for (const e of entries) {
      if (e.type === EntryType.ConfChange) {
        // The core's configuration is not in the store: give it every conf change, even one
        // whose store effects the consistent index says are already there (after a snapshot
        // install the core's configuration is the snapshot's, older than the installed store).
        const res = h.cluster.applyConfChange(h.core, e, e.index > this.consistentIndex ? batch : null);
        if (res && e.index > this.consistentIndex) results.push(res);
      }
      if (e.index <= this.consistentIndex) continue;
      last = e.index;
      // etcd applyEntryNormal: a leader's lessor is promoted when its term's empty entry applies.
      if (e.type === EntryType.Normal && e.data.length === 0) h.leases.onTermStartApplied();
      if (e.type !== EntryType.Normal || e.data.length === 0) continue;
      const r = decodeInternal(e.data);
      const t0 = performance.now();
      results.push([r.id, applyRequest(this.chain, r, batch, e.index), e.data]);
      if (performance.now() - t0 > slowApplyMs) metrics.server.slowApply++;
    }
    if (last !== undefined) {
      batch.put(metaKey.consistentIndex, Backend.u64(last));
      // The raft log is the durable record, so apply answers as soon as the effects are in the
      // store's memory (its overlay serves reads until the batch lands), without waiting for
      // classic-level — etcd likewise answers before its backend batch commits. The backend
      // gathers apply batches into one write per --backend-batch-interval or -limit; writes land
      // in order; at most applyBatchesInFlightMax writes wait, bounding the overlay's memory.
      const fp = h.failpoints?.get('backendBeforeCommit');
      if (fp !== undefined && entries.some((e) => e.index > this.readyBaseIndex && e.type === EntryType.Normal && isClientRequest(e.data))) fire('backendBeforeCommit', fp);
      const landed = h.backend.commit(batch);
      if (this.inFlight[this.inFlight.length - 1] !== landed) {
        // A new write (group): count it once.
        landed.catch((e: unknown) => h.onFatal(e));
        this.inFlight.push(landed);
        void landed.then(() => {
          const k = this.inFlight.indexOf(landed);
          if (k >= 0) this.inFlight.splice(k, 1);
        });
        if (this.inFlight.length >= applyBatchesInFlightMax) await this.inFlight.shift();
      }
      this.consistentIndex = last;
    }
    this.appliedIndex = (entries[entries.length - 1] as Entry).index;
    if (this.appliedIndex < this.consistentIndex) this.appliedIndex = this.consistentIndex;
    for (const [id, res, entry] of results) h.trigger(id, res, entry);
    h.releaseReads();
    h.cluster.afterApply();
  }
}
