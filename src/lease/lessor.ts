/**
 * The lessor (etcd lease/lessor.go): the table of leases, which keys each one holds, and — on
 * the leader only — when each one expires.
 *
 * Two kinds of state, kept apart on purpose:
 *
 * - Replicated state: the leases, their granted TTL, their last checkpointed remaining TTL and
 *   their attached keys. It changes only in apply (grant, revoke, checkpoint, and the MVCC
 *   attach/detach hooks), from the entry and the stored state alone, so every member holds the
 *   same. It is persisted in the apply batch under the schema's lease prefix (lease-record.ts)
 *   and rebuilt by `load` at start-up; attached keys are rebuilt from the MVCC records.
 * - Local state of the primary (the leader's lessor): expiry times and checkpoint times, read
 *   from the injected clock. A lessor that is not primary ("demoted", every follower) holds no
 *   expiry at all and never expires anything: expiry is decided by the leader and enters the
 *   log as a revoke (`LessorHost.proposeRevoke`), so apply stays deterministic.
 *
 * Remaining-TTL checkpoints (etcd #9888: an election must not renew every lease): the primary
 * looks at each lease every checkpoint interval and proposes its remaining TTL (rounded up, so
 * it never under-states it) when the replicated value over-states it by an interval or more;
 * a renewal proposes a checkpoint of 0 ("the whole TTL remains") if a non-zero one may have
 * been replicated, so the replicated value never says less than what truly remains. A new
 * primary (`promote`) starts each lease from its checkpoint (or its whole TTL) plus `extend`.
 * So an idle lease is checkpointed every interval, and one kept alive more often than that
 * costs no checkpoint at all.
 * Unlike etcd's 5-minute interval for leases longer than that, the interval here scales with the
 * TTL (a quarter of it, between `checkpointIntervalMinMs` and `checkpointIntervalMaxMs`), so a
 * short lease is not renewed by an election either. On by default, as the issue asks.
 *
 * Invariants:
 * - every lease has ttl ≥ minTtl and ≤ leaseTtlMaxSeconds, and remaining in [0, ttl];
 * - a key is attached to at most one lease, and to lease L iff its latest MVCC record carries L;
 * - not primary ⇒ every expiry and checkpoint time is +∞ and both queues are empty;
 * - primary ⇒ every lease has an item in the expiry queue at its expiry time (or at its revoke
 *   retry time once a revoke was proposed); stale items are skipped when they surface;
 * - nothing here reads a clock outside the primary-only paths (grant/checkpoint read it only
 *   when primary, to arm the local timers; the replicated outcome never depends on it).
 */
import { metrics } from '../base/metrics.js';
import { assert } from '../base/assert.js';
import { compareBytes } from '../base/bytes.js';
import type { Clock } from '../base/clock.js';
import { leaseTtlMaxSeconds } from '../base/limits.js';
import { EtcdError, Errors } from '../api/errors.js';
import type { Backend, WriteBatch } from '../storage/backend.js';
import { leaseKey, parseLeaseKey, prefix, prefixUpper } from '../storage/schema.js';
import { decodeLeaseRecord, encodeLeaseRecord } from './lease-record.js';
import { TimeHeap, type TimeItem } from './time-heap.js';

/** etcd leaseRevokeRate: at most this many expired leases are revoked per second. */
export const revokeRatePerSecDefault = 1000;
/** etcd expiredLeaseRetryInterval: a proposed revoke not applied by then is proposed again. */
export const expiredRetryMsDefault = 3000;
/** etcd maxLeaseCheckpointBatchSize: checkpoints per proposed entry. */
export const checkpointBatchMax = 1000;
/** etcd's default checkpoint interval (5 minutes) caps ours. */
export const checkpointIntervalMaxMsDefault = 300_000;
export const checkpointIntervalMinMsDefault = 1000;
/** A lease is checkpointed every ttl / this (within the min/max above). */
export const checkpointTtlFraction = 4;

/**
 * etcd's minimum lease TTL: 1.5 × election ticks (integer arithmetic, as etcd) × heartbeat,
 * rounded up to whole seconds. 1000/100 ms ⇒ 2 s; 500/100 ms ⇒ 1 s.
 */
export function minLeaseTtlSeconds(electionTimeoutMs: number, heartbeatIntervalMs: number): bigint {
  const ticks = Math.floor(electionTimeoutMs / heartbeatIntervalMs);
  const ms = Math.floor((3 * ticks) / 2) * heartbeatIntervalMs;
  return BigInt(Math.ceil(ms / 1000));
}

export interface LeaseCheckpoint {
  id: bigint;
  /** Seconds; 0 = the whole TTL. */
  remaining: bigint;
}

/** What the primary lessor asks of the server: proposals. Both are fire-and-forget. */
export interface LessorHost {
  proposeRevoke(id: bigint): void;
  proposeCheckpoints(cps: LeaseCheckpoint[]): void;
}

export interface LessorOptions {
  clock: Clock;
  minTtl: bigint;
  host: LessorHost;
  revokeRatePerSec?: number;
  expiredRetryMs?: number;
  checkpointIntervalMinMs?: number;
  checkpointIntervalMaxMs?: number;
  /** false = no remaining-TTL checkpoints (etcd 3.4's default); true unless said otherwise. */
  checkpoints?: boolean;
}

export type RenewResult =
  | { kind: 'ok'; ttl: bigint }
  | { kind: 'not-found' }
  | { kind: 'not-primary' }
  /** Expired, revoke under way: resolves true once revoked, false if this lessor is demoted first. */
  | { kind: 'expired'; revoked: Promise<boolean> };

export interface LeaseInfo {
  id: bigint;
  ttl: bigint;
  /** Milliseconds until expiry on the primary; +∞ elsewhere. */
  remainingMs: number;
  /** Attached keys in byte order. */
  keys: Buffer[];
}

interface Lease {
  readonly id: bigint;
  readonly ttl: bigint;
  /** Replicated: last checkpointed remaining TTL in seconds, 0 = whole TTL. */
  remaining: bigint;
  readonly keys: Map<string, Buffer>;
  // ---- primary-only ----
  expiryMs: number;
  checkpointAtMs: number;
  /** When the proposed revoke is to be proposed again; NaN when none was proposed. */
  revokeRetryAtMs: number;
  /**
   * The remaining TTL the replicated state says or will say once this primary's proposals
   * apply (seconds, 0 = whole TTL): the over-estimate a checkpoint would correct is measured
   * against it, and a renewal clears it only when it is not already 0.
   */
  assumedRemaining: bigint;
  waiters: ((revoked: boolean) => void)[];
}

export class Lessor {
  private readonly leases = new Map<bigint, Lease>();
  /** The lease of every attached key, by latin1 key id (etcd lessor itemMap): a put learns the
   *  key's old lease here instead of reading the key's previous record. Mirrors the leases' key
   *  sets exactly (checkInvariants). */
  private readonly keyLease = new Map<string, bigint>();
  private readonly expiries = new TimeHeap();
  private readonly checkpointQueue = new TimeHeap();
  private readonly pendingClears = new Set<bigint>();
  private primary = false;
  private revokeTokens = 0;
  private lastTickMs = 0;
  readonly minTtl: bigint;
  private readonly clock: Clock;
  private readonly host: LessorHost;
  private readonly revokeRate: number;
  private readonly expiredRetryMs: number;
  private readonly cpMinMs: number;
  private readonly cpMaxMs: number;
  private readonly checkpoints: boolean;

  constructor(opts: LessorOptions) {
    assert(opts.minTtl > 0n, 'minimum lease TTL must be positive');
    this.clock = opts.clock;
    this.minTtl = opts.minTtl;
    this.host = opts.host;
    this.revokeRate = opts.revokeRatePerSec ?? revokeRatePerSecDefault;
    this.expiredRetryMs = opts.expiredRetryMs ?? expiredRetryMsDefault;
    this.cpMinMs = opts.checkpointIntervalMinMs ?? checkpointIntervalMinMsDefault;
    this.cpMaxMs = opts.checkpointIntervalMaxMs ?? checkpointIntervalMaxMsDefault;
    this.checkpoints = opts.checkpoints ?? true;
  }

  // ---- start-up ----

  /** Rebuilds the lease table from the backend (start-up, or after installing a snapshot). */
  async load(backend: Backend): Promise<void> {
    this.demote();
    this.leases.clear();
    this.keyLease.clear();
    for await (const [k, v] of backend.entries(prefix.lease, prefixUpper(prefix.lease))) {
      const id = parseLeaseKey(k);
      const r = decodeLeaseRecord(v);
      this.leases.set(id, newLease(id, r.ttl, r.remaining));
    }
  }

  // ---- MVCC hooks (LeaseHooks) ----

  exists(id: bigint): boolean {
    return this.leases.has(id);
  }

  /** Every key with a lease: latin1 key id → lease id (index checkpoints). */
  attachedKeys(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const [id, l] of this.leases) for (const k of l.keys.keys()) out.set(k, id);
    return out;
  }

  attach(id: bigint, key: Buffer): void {
    // The store attaches only leases checked to exist (apply) or found in its records
    // (start-up; revoke deletes a lease's keys in the batch that deletes the lease).
    const l = this.leases.get(id);
    if (l) {
      const k = key.toString('latin1');
      l.keys.set(k, key);
      this.keyLease.set(k, id);
    }
  }

  detach(id: bigint, key: Buffer): void {
    const k = key.toString('latin1');
    const l = this.leases.get(id);
    if (l?.keys.delete(k)) this.keyLease.delete(k);
  }

  /** The lease `keyId` (a latin1 key) is attached to, 0n if none (etcd lessor.GetLease). */
  leaseOf(keyId: string): bigint {
    if (this.keyLease.size === 0) return 0n;
    return this.keyLease.get(keyId) ?? 0n;
  }

  // ---- replicated changes (apply) ----

  /** etcd lessor.Grant: id 0 ⇒ not found; TTL above the maximum ⇒ too large; raised to minTtl. */
  grant(id: bigint, ttl: bigint, batch: WriteBatch): { id: bigint; ttl: bigint } {
    if (id === 0n) throw new EtcdError(Errors.LeaseNotFound);
    if (ttl > leaseTtlMaxSeconds) throw new EtcdError(Errors.LeaseTTLTooLarge);
    if (this.leases.has(id)) throw new EtcdError(Errors.LeaseExist);
    const effective = ttl < this.minTtl ? this.minTtl : ttl;
    const l = newLease(id, effective, 0n);
    this.leases.set(id, l);
    batch.put(leaseKey(id), encodeLeaseRecord({ ttl: effective, remaining: 0n }));
    metrics.lease.granted++;
    if (this.primary) {
      const now = this.clock.nowMs();
      this.arm(l, now + Number(effective) * 1000);
      this.scheduleCheckpoint(l, now);
    }
    return { id, ttl: effective };
  }

  /** The keys revoking `id` must delete, in byte order (the same order on every member). */
  keysOf(id: bigint): Buffer[] {
    const l = this.leases.get(id);
    if (!l) return [];
    return [...l.keys.values()].sort(compareBytes);
  }

  /** Removes a lease whose keys the caller has deleted in the same batch (etcd lessor.Revoke). */
  revoke(id: bigint, batch: WriteBatch): void {
    const l = this.leases.get(id);
    if (!l) throw new EtcdError(Errors.LeaseNotFound);
    assert(l.keys.size === 0, `revoking lease ${id} with ${l.keys.size} keys still attached`);
    this.leases.delete(id);
    this.pendingClears.delete(id);
    batch.del(leaseKey(id));
    metrics.lease.revoked++;
    for (const w of l.waiters.splice(0)) w(true);
  }

  /** etcd lessor.Checkpoint: records the remaining TTL of a lease that still exists. */
  checkpoint(id: bigint, remaining: bigint, batch: WriteBatch): void {
    const l = this.leases.get(id);
    if (!l) return;
    l.remaining = remaining < 0n ? 0n : remaining > l.ttl ? l.ttl : remaining;
    batch.put(leaseKey(id), encodeLeaseRecord({ ttl: l.ttl, remaining: l.remaining }));
    if (this.primary) this.scheduleCheckpoint(l, this.clock.nowMs());
  }

  // ---- reads ----

  lookup(id: bigint): LeaseInfo | undefined {
    const l = this.leases.get(id);
    if (!l) return undefined;
    const remainingMs = this.primary ? l.expiryMs - this.clock.nowMs() : Number.POSITIVE_INFINITY;
    return { id, ttl: l.ttl, remainingMs, keys: this.keysOf(id) };
  }

  /** Every lease id, soonest expiry first (etcd Leases sorts by expiry), then by id. */
  ids(): bigint[] {
    return [...this.leases.values()]
      .sort((a, b) => (a.expiryMs !== b.expiryMs ? a.expiryMs - b.expiryMs : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((l) => l.id);
  }

  get size(): number {
    return this.leases.size;
  }

  /** Replicated state of one lease (tests, and hashing of members' state). */
  state(id: bigint): { ttl: bigint; remaining: bigint; keys: Buffer[] } | undefined {
    const l = this.leases.get(id);
    return l ? { ttl: l.ttl, remaining: l.remaining, keys: this.keysOf(id) } : undefined;
  }

  // ---- primary (leader) only ----

  isPrimary(): boolean {
    return this.primary;
  }

  /**
   * etcd lessor.Renew: only the primary renews; an expired lease is not renewed but waited for
   * (its revoke is under way) — the caller answers TTL 0 once it is revoked.
   */
  renew(id: bigint): RenewResult {
    if (!this.primary) return { kind: 'not-primary' };
    const l = this.leases.get(id);
    if (!l) return { kind: 'not-found' };
    const now = this.clock.nowMs();
    if (l.expiryMs <= now) {
      return { kind: 'expired', revoked: new Promise<boolean>((resolve) => l.waiters.push(resolve)) };
    }
    if (this.checkpoints && l.assumedRemaining > 0n) {
      this.pendingClears.add(id);
      l.assumedRemaining = 0n;
    }
    this.arm(l, now + Number(l.ttl) * 1000);
    metrics.lease.renewed++;
    if (!(l.checkpointAtMs > now && Number.isFinite(l.checkpointAtMs))) this.scheduleCheckpoint(l, now);
    return { kind: 'ok', ttl: l.ttl };
  }

  /**
   * Becomes primary (etcd Promote, on the new leader once it applied its first entry of the
   * term): every lease expires after its checkpointed remaining TTL (or whole TTL) plus
   * `extendMs`, spread so that no more than 3/4 of the revoke rate expire in any second.
   */
  promote(extendMs: number): void {
    const now = this.clock.nowMs();
    this.primary = true;
    this.expiries.clear();
    this.checkpointQueue.clear();
    this.pendingClears.clear();
    this.revokeTokens = this.revokeRate / 2;
    this.lastTickMs = now;
    const all = [...this.leases.values()];
    for (const l of all) {
      const secs = l.remaining > 0n ? l.remaining : l.ttl;
      l.expiryMs = now + extendMs + Number(secs) * 1000;
      l.revokeRetryAtMs = Number.NaN;
      l.checkpointAtMs = Number.POSITIVE_INFINITY;
      l.assumedRemaining = l.remaining;
    }
    if (all.length >= this.revokeRate) {
      // No pile-up of expiries right after an election: space them at least gapMs apart.
      const gapMs = 1000 / ((3 * this.revokeRate) / 4);
      all.sort((a, b) => a.expiryMs - b.expiryMs);
      let prev = Number.NEGATIVE_INFINITY;
      for (const l of all) {
        if (l.expiryMs < prev + gapMs) l.expiryMs = prev + gapMs;
        prev = l.expiryMs;
      }
    }
    for (const l of all) {
      this.expiries.push({ id: l.id, at: l.expiryMs });
      this.scheduleCheckpoint(l, now);
    }
  }

  /** Stops being primary (etcd Demote): no expiry, no checkpoint; waiters for revokes give up. */
  demote(): void {
    this.primary = false;
    this.expiries.clear();
    this.checkpointQueue.clear();
    this.pendingClears.clear();
    for (const l of this.leases.values()) {
      l.expiryMs = Number.POSITIVE_INFINITY;
      l.checkpointAtMs = Number.POSITIVE_INFINITY;
      l.revokeRetryAtMs = Number.NaN;
      l.assumedRemaining = l.remaining;
      for (const w of l.waiters.splice(0)) w(false);
    }
  }

  /**
   * The primary's periodic work: propose revokes for expired leases (rate-limited, retried if
   * not applied in time) and checkpoints that are due (batched). No-op when not primary.
   */
  tick(): void {
    if (!this.primary) return;
    const now = this.clock.nowMs();
    const elapsed = Math.max(0, now - this.lastTickMs);
    this.lastTickMs = now;
    this.revokeTokens = Math.min(this.revokeRate / 2, this.revokeTokens + (elapsed * this.revokeRate) / 1000);
    this.expire(now);
    if (this.checkpoints) this.checkpointDue(now);
    this.compactQueues();
  }

  /** Queue sizes, for tests and the bench (stale items included). */
  queueSizes(): { expiries: number; checkpoints: number; pendingClears: number } {
    return { expiries: this.expiries.size, checkpoints: this.checkpointQueue.size, pendingClears: this.pendingClears.size };
  }

  /** Asserts the invariants of the file header (tests call it after every step). */
  checkInvariants(): void {
    const owner = new Map<string, bigint>();
    const live = new Set<bigint>();
    if (this.primary) {
      // every lease has a live item in the expiry queue (the heap is walked by popping a copy)
      const copy = new TimeHeap();
      for (let it = this.expiries.pop(); it; it = this.expiries.pop()) copy.push(it);
      for (let it = copy.pop(); it; it = copy.pop()) {
        this.expiries.push(it);
        const l = this.leases.get(it.id);
        if (l && (it.at === l.expiryMs || it.at === l.revokeRetryAtMs)) live.add(it.id);
      }
      this.expiries.check();
      this.checkpointQueue.check();
    } else {
      assert(this.expiries.size === 0 && this.checkpointQueue.size === 0 && this.pendingClears.size === 0, 'demoted lessor with queued work');
    }
    assert(this.keyLease.size === [...this.leases.values()].reduce((n, l) => n + l.keys.size, 0), 'key lease map holds keys of no lease');
    for (const l of this.leases.values()) {
      assert(l.ttl > 0n && l.ttl <= leaseTtlMaxSeconds, `lease ${l.id} ttl ${l.ttl}`);
      assert(l.remaining >= 0n && l.remaining <= l.ttl, `lease ${l.id} remaining ${l.remaining}`);
      for (const k of l.keys.keys()) {
        assert(!owner.has(k), `key attached to leases ${owner.get(k)} and ${l.id}`);
        owner.set(k, l.id);
        assert(this.keyLease.get(k) === l.id, `key lease map says ${this.keyLease.get(k)} for a key of lease ${l.id}`);
      }
      if (this.primary) assert(live.has(l.id), `lease ${l.id} has no live expiry item`);
      else assert(l.expiryMs === Number.POSITIVE_INFINITY, `demoted lease ${l.id} has an expiry`);
    }
  }

  // ---- internals ----

  private arm(l: Lease, at: number): void {
    l.expiryMs = at;
    l.revokeRetryAtMs = Number.NaN;
    this.expiries.push({ id: l.id, at });
  }

  private checkpointIntervalMs(l: Lease): number {
    const byTtl = (Number(l.ttl) * 1000) / checkpointTtlFraction;
    return Math.min(this.cpMaxMs, Math.max(this.cpMinMs, byTtl));
  }

  /** etcd scheduleCheckpointIfNeeded: only while more than one interval remains. */
  private scheduleCheckpoint(l: Lease, now: number): void {
    if (!this.checkpoints) return;
    const interval = this.checkpointIntervalMs(l);
    if (l.expiryMs - now <= interval) return;
    if (l.checkpointAtMs > now && Number.isFinite(l.checkpointAtMs)) return;
    l.checkpointAtMs = now + interval;
    this.checkpointQueue.push({ id: l.id, at: l.checkpointAtMs });
  }

  private expire(now: number): void {
    for (;;) {
      const top = this.expiries.peek();
      if (!top || top.at > now || this.revokeTokens < 1) return;
      this.expiries.pop();
      const l = this.leases.get(top.id);
      if (!l || !(top.at === l.expiryMs || top.at === l.revokeRetryAtMs)) continue; // stale item
      if (top.at === l.expiryMs && !Number.isNaN(l.revokeRetryAtMs)) continue; // retry item is the live one
      this.revokeTokens -= 1;
      l.revokeRetryAtMs = now + this.expiredRetryMs;
      this.expiries.push({ id: l.id, at: l.revokeRetryAtMs });
      metrics.lease.expired++;
      this.host.proposeRevoke(l.id);
    }
  }

  private checkpointDue(now: number): void {
    const cps = new Map<bigint, bigint>();
    for (const id of this.pendingClears) if (this.leases.has(id)) cps.set(id, 0n);
    this.pendingClears.clear();
    const dueMax = 10 * checkpointBatchMax;
    let due = 0;
    for (;;) {
      const top = this.checkpointQueue.peek();
      if (!top || top.at > now || due >= dueMax) break;
      this.checkpointQueue.pop();
      const l = this.leases.get(top.id);
      if (!l || l.checkpointAtMs !== top.at) continue;
      due++;
      l.checkpointAtMs = Number.POSITIVE_INFINITY;
      const leftMs = l.expiryMs - now;
      if (leftMs <= 0) continue; // expiring: the revoke decides
      // Only when the replicated value over-states what remains by an interval or more: an idle
      // lease is checkpointed every interval, one renewed more often than that never is.
      const assumedMs = Number(l.assumedRemaining > 0n ? l.assumedRemaining : l.ttl) * 1000;
      const remaining = BigInt(Math.ceil(leftMs / 1000));
      if (assumedMs - leftMs >= this.checkpointIntervalMs(l) && remaining < l.ttl) {
        cps.set(l.id, remaining);
        l.assumedRemaining = remaining;
      }
      this.scheduleCheckpoint(l, now);
    }
    if (cps.size === 0) return;
    const all = [...cps].map(([id, remaining]) => ({ id, remaining }));
    for (let i = 0; i < all.length; i += checkpointBatchMax) this.host.proposeCheckpoints(all.slice(i, i + checkpointBatchMax));
  }

  /** Keeps the queues within a constant factor of the number of leases. */
  private compactQueues(): void {
    const bound = 2 * this.leases.size + 1024;
    if (this.expiries.size > bound) {
      this.expiries.rebuild((it: TimeItem) => {
        const l = this.leases.get(it.id);
        return !!l && (it.at === l.expiryMs || it.at === l.revokeRetryAtMs);
      });
    }
    if (this.checkpointQueue.size > bound) {
      this.checkpointQueue.rebuild((it: TimeItem) => this.leases.get(it.id)?.checkpointAtMs === it.at);
    }
  }
}

function newLease(id: bigint, ttl: bigint, remaining: bigint): Lease {
  return {
    id,
    ttl,
    remaining,
    keys: new Map(),
    expiryMs: Number.POSITIVE_INFINITY,
    checkpointAtMs: Number.POSITIVE_INFINITY,
    revokeRetryAtMs: Number.NaN,
    assumedRemaining: remaining,
    waiters: [],
  };
}
