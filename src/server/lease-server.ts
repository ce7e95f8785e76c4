/**
 * The lease service of one member (etcd v3_server.go LeaseGrant/LeaseRevoke/LeaseRenew/
 * LeaseTimeToLive/LeaseLeases): owns the lessor, turns client calls into proposals, runs the
 * leader's expiry timer, and follows leadership.
 *
 * The member it runs in is seen through `LeaseCluster` only (leadership, propose, forwarding to
 * the leader), so the same code serves the single member (always leader, nothing to forward)
 * and the replicated cluster:
 *
 * - Grant/revoke are proposals; expiry is a revoke the leader's lessor proposes (LessorHost).
 * - Keepalive and time-to-live are answered by the leader's lessor only (it alone knows expiry
 *   times); a follower forwards them to the leader (`forwardToLeader`, the peer transport's
 *   generic request with the kinds `leaseKindKeepAliveBatch` (lease-forward.ts: the renewals of
 *   one event-loop turn in one request) / `leaseKindTimeToLive`), and the leader answers them in
 *   `onPeerRequest`.
 * - Leadership: the lessor is promoted when the member, as leader, applies the empty entry that
 *   opens its term (`onTermStartApplied`, etcd applyEntryNormal), extended by one election
 *   timeout; it is demoted on the role change that ends the leadership (`onRoleChange`), and at
 *   the latest by the next tick that sees the member is no longer leader.
 * - Forwarded requests are answered by the leader alone (`onPeerRequest` never forwards again,
 *   so there is no forwarding loop); a follower retries, every 50 ms, until the request timeout.
 *
 * Invariants: only a leader's lessor is primary (checked every tick); every renew/time-to-live
 * call settles within the request timeout; the expiry timer runs only between bind and stop.
 */
import { assert } from '../base/assert.js';
import { realRuntime, type Runtime, type TimerHandle } from '../base/runtime.js';
import type { Logger } from '../base/logger.js';
import { toDomain, toWire } from '../api/convert.js';
import { EtcdError, Errors } from '../api/errors.js';
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../api/lease-types.js';
import { protoRoot } from '../api/descriptor.js';
import { Lessor, minLeaseTtlSeconds, type LeaseCheckpoint, type LessorHost } from '../lease/lessor.js';
import type { Backend } from '../storage/backend.js';
import { type AuthStamp, RequestKind, type InternalRequest } from './internal-request.js';
import { leaseOverheadBytes } from './alarms.js';
import { decodeI64s, encodeI64s, KeepAliveBatcher, leaseKindKeepAliveBatch } from './lease-forward.js';

/** Peer request kinds (the transport's generic request) for forwarding to the leader. */
export const leaseKindTimeToLive = 'lease-timetolive';
export { leaseKindKeepAliveBatch };

/** How often the leader's lessor looks for expired leases and due checkpoints. */
export const leaseTickMs = 100;
/** Pause between attempts while there is no leader, or the leader is not yet primary. */
const retryPauseMs = 50;

export interface LeaseCluster {
  /** Whether this member is the Raft leader now. */
  isLeader(): boolean;
  /** Proposes an internal request; resolves with its apply result (rejects with its error). */
  propose<T>(make: (id: bigint) => InternalRequest): Promise<T>;
  /** A fresh unique id (etcd reqIDGen): server-chosen lease ids come from it. */
  nextId(): bigint;
  /** The current store revision (response headers). */
  revision(): bigint;
  /** Sends a request to the leader's `onPeerRequest`; absent on a single member. */
  forwardToLeader?(kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Resolves once everything committed so far is applied here (etcd waitAppliedIndex). */
  waitApplied?(): Promise<void>;
  /** Whether this member is still the leader, confirmed by a quorum (a ReadIndex round) in the
   *  term it led when asked (etcd ensureLeadership). Absent on a single member. */
  confirmLeadership?(): Promise<boolean>;
  /** Refuses (NOSPACE) a request of this many bytes over the backend quota (etcd quotaLeaseServer). */
  checkQuota?(costBytes: number): Promise<void>;
}

export interface LeaseServerOptions {
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  requestTimeoutMs: number;
  logger: Logger;
  /** Clocks and timers (default: Node's). */
  runtime?: Runtime;
  /** Remaining-TTL checkpoints (default on). */
  checkpoints?: boolean;
}

function encode(typeName: string, obj: unknown): Uint8Array {
  const t = protoRoot.lookupType(typeName);
  return t.encode(t.fromObject(toWire(typeName, obj))).finish();
}

function decode<T>(typeName: string, data: Uint8Array): T {
  const t = protoRoot.lookupType(typeName);
  return toDomain<T>(typeName, t.toObject(t.decode(data), { longs: String, defaults: true }));
}


export class LeaseServer implements LessorHost {
  readonly lessor: Lessor;
  private cluster: LeaseCluster | null = null;
  private batcher: KeepAliveBatcher | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private readonly rt: Runtime;

  private constructor(private readonly opts: LeaseServerOptions) {
    this.rt = opts.runtime ?? realRuntime;
    this.lessor = new Lessor({
      clock: this.rt.clock,
      minTtl: minLeaseTtlSeconds(opts.electionTimeoutMs, opts.heartbeatIntervalMs),
      host: this,
      checkpoints: opts.checkpoints,
    });
  }

  /** Creates the service with its lessor loaded from the backend (before KvStore.open attaches keys). */
  static async open(backend: Backend, opts: LeaseServerOptions): Promise<LeaseServer> {
    const s = new LeaseServer(opts);
    await s.lessor.load(backend);
    return s;
  }

  /** Connects the service to its member and starts the expiry timer. */
  bind(cluster: LeaseCluster): void {
    assert(this.cluster === null, 'lease server bound twice');
    this.cluster = cluster;
    const forward = cluster.forwardToLeader;
    if (forward) this.batcher = new KeepAliveBatcher((body, timeoutMs) => forward(leaseKindKeepAliveBatch, body, timeoutMs), (fn) => this.rt.soon(fn));
    this.timer = this.rt.every(leaseTickMs, () => this.tick());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    this.lessor.demote();
  }

  private get member(): LeaseCluster {
    assert(this.cluster !== null, 'lease server used before bind');
    return this.cluster;
  }

  // ---- leadership ----

  /** Called when the member applies the empty entry a leader appends at the start of its term. */
  onTermStartApplied(): void {
    if (this.cluster?.isLeader() && !this.stopped) this.lessor.promote(this.opts.electionTimeoutMs);
  }

  /**
   * Called on every Raft role change: a member that stops leading demotes its lessor at once
   * (etcd updateLeadership), so a deposed leader proposes no revoke for a lease that clients keep
   * alive through the new leader. (Promotion waits for the term's first entry to apply.)
   */
  onRoleChange(leader: boolean): void {
    if (!leader && this.lessor.isPrimary()) this.lessor.demote();
  }

  private tick(): void {
    if (this.lessor.isPrimary() && !this.member.isLeader()) this.lessor.demote();
    this.lessor.tick();
  }

  // ---- LessorHost: the primary's proposals ----

  proposeRevoke(id: bigint): void {
    if (!this.member.isLeader()) return; // the next tick demotes
    this.member
      .propose((rid) => ({ kind: RequestKind.LeaseRevoke, id: rid, req: { ID: id } }))
      .catch((err: unknown) => {
        // Not found: revoked meanwhile. Anything else: the lessor proposes it again later.
        if (err instanceof EtcdError && err.spec === Errors.LeaseNotFound) return;
        this.opts.logger.warn('failed to revoke an expired lease', { 'lease-id': id.toString(16), error: String(err) });
      });
  }

  proposeCheckpoints(cps: LeaseCheckpoint[]): void {
    if (!this.member.isLeader()) return;
    const checkpoints = cps.map((c) => ({ ID: c.id, remaining_TTL: c.remaining }));
    this.member
      .propose((rid) => ({ kind: RequestKind.LeaseCheckpoint, id: rid, req: { checkpoints } }))
      .catch((err: unknown) => {
        this.opts.logger.warn('failed to checkpoint leases', { count: cps.length, error: String(err) });
      });
  }

  // ---- client calls ----

  /** LeaseGrant: a server-chosen id is positive (etcd: reqIDGen.Next() & (1<<63 − 1)). */
  async grant(req: LeaseGrantRequest): Promise<LeaseGrantResponse> {
    await this.member.checkQuota?.(leaseOverheadBytes);
    let ID = req.ID;
    while (ID === 0n) ID = this.member.nextId() & ((1n << 63n) - 1n);
    return this.member.propose((id) => ({ kind: RequestKind.LeaseGrant, id, req: { TTL: req.TTL, ID } }));
  }

  /** `auth`: who asks (apply checks write permission on every attached key: auth-gate.ts). */
  revoke(req: LeaseRevokeRequest, auth?: AuthStamp): Promise<LeaseRevokeResponse> {
    return this.member.propose((id) => ({ kind: RequestKind.LeaseRevoke, id, req: { ID: req.ID }, auth }));
  }

  /** LeaseLeases: this member's view, without forwarding (as etcd). */
  leases(): bigint[] {
    return this.lessor.ids();
  }

  /**
   * LeaseRenew: the TTL granted again, or 0 when the lease does not exist (etcd's keepalive
   * answers an unknown lease with TTL 0). Forwarded to the leader from a follower.
   */
  async renew(id: bigint, forward = true): Promise<bigint> {
    const until = this.rt.now() + this.opts.requestTimeoutMs;
    let waitedApply = false;
    while (this.rt.now() < until && !this.stopped) {
      // etcd ensureLeadership (3.5.8 / 3.4.25): a leader that was paused or cut off may not know
      // yet that it was deposed; renewing in its lessor then tells the client "alive" while the
      // real leader's lessor lets the lease expire (whole-member simulator, seed 56386: a
      // keepalive that waited in a paused old leader, answered when it resumed). Renew only
      // after a quorum confirmed the leadership; else look for the leader again.
      if (this.member.isLeader() && this.member.confirmLeadership !== undefined && !(await this.member.confirmLeadership())) {
        await this.rt.sleep(retryPauseMs);
        continue;
      }
      if (this.member.isLeader()) {
        const r = this.lessor.renew(id);
        switch (r.kind) {
          case 'ok':
            return r.ttl;
          case 'not-found':
            if (!waitedApply && this.member.waitApplied) {
              waitedApply = true;
              await this.member.waitApplied();
              continue;
            }
            return 0n;
          case 'expired':
            if (await withTimeout(this.rt, r.revoked, until - this.rt.now(), false)) return 0n;
            continue;
          case 'not-primary':
            break; // elected, term's first entry not applied yet
        }
      } else if (!forward) {
        throw new EtcdError(Errors.NotLeader);
      } else if (this.batcher) {
        try {
          return await this.batcher.renew(id, Math.max(1, until - this.rt.now()));
        } catch {
          /* leader changed or unreachable: try again */
        }
      }
      await this.rt.sleep(retryPauseMs);
    }
    throw new EtcdError(this.stopped ? Errors.Stopped : Errors.Timeout);
  }

  /** LeaseTimeToLive: TTL −1 for an unknown lease (etcd v3rpc); forwarded from a follower. */
  async timeToLive(req: LeaseTimeToLiveRequest, forward = true): Promise<LeaseTimeToLiveResponse> {
    const until = this.rt.now() + this.opts.requestTimeoutMs;
    let waitedApply = false;
    while (this.rt.now() < until && !this.stopped) {
      if (this.member.isLeader() && this.lessor.isPrimary()) {
        const l = this.lessor.lookup(req.ID);
        if (!l && !waitedApply && this.member.waitApplied) {
          waitedApply = true;
          await this.member.waitApplied();
          continue;
        }
        const header = { revision: this.member.revision() };
        if (!l) return { header, ID: req.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
        // etcd: int64(Remaining().Seconds()), i.e. truncated toward zero.
        return { header, ID: req.ID, TTL: BigInt(Math.trunc(l.remainingMs / 1000)), grantedTTL: l.ttl, keys: req.keys ? l.keys : [] };
      }
      if (!this.member.isLeader() && !forward) throw new EtcdError(Errors.NotLeader);
      if (!this.member.isLeader() && this.member.forwardToLeader) {
        try {
          const body = encode('etcdserverpb.LeaseTimeToLiveRequest', req);
          const answer = await this.member.forwardToLeader(leaseKindTimeToLive, body, Math.max(1, until - this.rt.now()));
          const r = decode<LeaseTimeToLiveResponse>('etcdserverpb.LeaseTimeToLiveResponse', answer);
          return { ...r, header: { revision: this.member.revision() } };
        } catch {
          /* leader changed or unreachable: try again */
        }
      }
      await this.rt.sleep(retryPauseMs);
    }
    throw new EtcdError(this.stopped ? Errors.Stopped : Errors.Timeout);
  }

  /**
   * The leader's side of forwarding (wire into the peer transport's onRequest). Answers only
   * as leader (never forwards again, so no loop); the caller retries elsewhere on an error.
   */
  async onPeerRequest(kind: string, body: Uint8Array): Promise<Uint8Array | undefined> {
    if (kind !== leaseKindKeepAliveBatch && kind !== leaseKindTimeToLive) return undefined;
    if (!this.member.isLeader()) throw new EtcdError(Errors.NotLeader);
    if (kind === leaseKindKeepAliveBatch) {
      const ttls = await Promise.all(decodeI64s(body).map((id) => this.renew(id, false)));
      return encodeI64s(ttls);
    }
    const req = decode<LeaseTimeToLiveRequest>('etcdserverpb.LeaseTimeToLiveRequest', body);
    const r = await this.timeToLive(req, false);
    return encode('etcdserverpb.LeaseTimeToLiveResponse', { ...r, header: null });
  }
}

function withTimeout<T>(rt: Runtime, p: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const t = rt.after(ms, () => resolve(onTimeout));
    void p.then((v) => {
      t.cancel();
      resolve(v);
    });
  });
}
