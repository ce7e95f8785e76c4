/**
 * Runtime membership (etcd's Cluster service: MemberAdd, MemberRemove, MemberUpdate,
 * MemberPromote) and MoveLeader, for one member. The server owns the Raft node and the store;
 * this file holds the membership logic and reaches the server only through ClusterHost.
 *
 * Path of a change: checks on the proposing member (peer URLs, --strict-reconfig-check as etcd's
 * mayAddMember/mayRemoveMember/mayPromoteMember, the member list for ids and URLs already used)
 * → a Raft conf change entry whose context names the request id and the member
 * (membership/conf-change.ts) → when it commits, every member applies it in applyConfChange:
 * validated against the Raft configuration as of the entry, then given to the core, and its
 * store effects (member list, removed id, conf state) written in the apply batch of the entry,
 * i.e. with the consistent index. MemberUpdate changes no Raft configuration: it is a normal
 * entry (RequestKind.MemberUpdate) applied by applyUpdate. MemberPromote is decided by the
 * leader (only it knows the learner's progress): a follower forwards it over the peer
 * transport (etcd forwards it over peer HTTP).
 *
 * A member that applies its own removal (or learns it from a peer) stops serving and says why,
 * after handing leadership over if it led (the Raft core transfers to the most up-to-date voter;
 * we wait until it is no longer leader, at most removedLeaderGraceMs).
 *
 * Invariants: membership changes only in applyConfChange/applyUpdate, from committed entries,
 * deterministically (a function of the entry and the configuration/store before it); a change
 * found invalid changes neither the core nor the store; the core's configuration and the member
 * list hold the same ids after every applied entry (a member that joined with a fetched list
 * converges once it has applied up to the point it fetched); the transport knows exactly the
 * listed members and refuses the removed ones.
 */
import type { Runtime, TimerHandle } from '../base/runtime.js';
import { hex } from '../base/int64.js';
import type { Logger } from '../base/logger.js';
import { computeMemberId } from '../base/etcd-ids.js';
import { parseGoUrls } from '../base/go-urls.js';
import { EtcdError, type ErrorSpec, Errors } from '../api/errors.js';
import { ErrProposalDropped } from '../raft/errors.js';
import type { RawNode } from '../raft/raw-node.js';
import { type ConfChange, ConfChangeType, type Entry, decodeConfChange, None, StateRole } from '../raft/types.js';
import type { WriteBatch } from '../storage/backend.js';
import { metaKey } from '../storage/schema.js';
import { decodeClusterInfo, encodeClusterInfo } from '../membership/cluster-info.js';
import { type ConfChangeContext, type ConfChangeKind, decodeContext, encodeContext, validateConfChange } from '../membership/conf-change.js';
import type { Member, MemberStore } from '../membership/member-store.js';
import { type Connectivity, learnerReadiness, mayAddMember, mayPromoteMember, mayRemoveMember } from '../membership/reconfig-check.js';
import { fetchClusterInfo, type Transport } from '../peer/transport.js';
import type { TlsMaterial } from '../base/tls.js';
import { encodeConfState } from './raft-storage.js';
import { type InternalRequest, type MemberUpdate, RequestKind } from './internal-request.js';
import { RemotePeers } from './remote-peers.js';

export type OpResult = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Peer request kind: a follower forwards MemberPromote to the leader. */
export const promoteRequestKind = 'member-promote';
/** How long a removed member waits for another member to lead before it stops anyway. */
export const removedLeaderGraceFactor = 3;
/** A member without a leader asks a peer whether it was removed every this many election timeouts. */
export const removedCheckElections = 3;
/** Timeout of one Members call to a peer. */
export const clusterInfoTimeoutMs = 2000;

export const removedReason = 'the member has been permanently removed from the cluster';

export interface ClusterHost {
  /** Clocks and timers (base/runtime.ts). */
  readonly rt: Runtime;
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly logger: Logger;
  readonly strictReconfigCheck: boolean;
  readonly requestTimeoutMs: number;
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly transport: Transport | null;
  /** Peer TLS, to ask https:// peers whether this member was removed. */
  readonly peerTls: TlsMaterial | null;
  /** The member list as of the last applied entry. */
  members(): MemberStore;
  leader(): bigint;
  nextRequestId(): bigint;
  /** Runs fn against the core between Readys (RaftNode.input); rejects once stopped. */
  withCore<T>(fn: (core: RawNode) => T): Promise<T>;
  register(id: bigint): Promise<OpResult>;
  fail(id: bigint, err: unknown): void;
  /** Propose a normal internal request and wait for its apply result. */
  propose<T>(make: (id: bigint) => InternalRequest): Promise<T>;
  /** Stop serving for good: this member was removed. */
  stopRemoved(reason: string): void;
  stopped(): boolean;
}

export interface MemberAddResult {
  member: Member;
  members: Member[];
}

function kindOf(cc: ConfChange, ctx: ConfChangeContext | undefined): ConfChangeKind {
  switch (cc.type) {
    case ConfChangeType.AddNode:
      return ctx?.promote === true ? 'promote' : 'add-voter';
    case ConfChangeType.AddLearnerNode:
      return 'add-learner';
    case ConfChangeType.RemoveNode:
      return 'remove';
  }
}

function errorName(spec: ErrorSpec): string | undefined {
  return Object.entries(Errors).find(([, v]) => v === spec)?.[0];
}

function specNamed(name: string): ErrorSpec | undefined {
  return (Errors as Record<string, ErrorSpec>)[name];
}

export class ClusterOps {
  private removing = false;
  private removedCheck: TimerHandle | null = null;
  private checkingRemoved = false;
  /** Members of our cluster this member has not applied yet, reached meanwhile (remote-peers.ts). */
  readonly remotes: RemotePeers;

  constructor(private readonly h: ClusterHost) {
    this.remotes = new RemotePeers({
      rt: h.rt,
      memberId: h.memberId,
      clusterId: h.clusterId,
      logger: h.logger,
      peerTls: h.peerTls,
      transport: () => h.transport,
      members: () => h.members(),
      stopped: () => h.stopped(),
    });
  }

  // ---- proposing side ----

  private connectivity(): Connectivity {
    const t = this.h.transport;
    return { self: this.h.memberId, now: this.h.rt.now(), activeSince: (id) => t?.activeSince(id) };
  }

  private async proposeConfChange(type: ConfChangeType, nodeId: bigint, ctx: Omit<ConfChangeContext, 'reqId'>): Promise<Member[]> {
    const reqId = this.h.nextRequestId();
    const cc: ConfChange = { type, nodeId, context: encodeContext({ ...ctx, reqId }) };
    const wait = this.h.register(reqId);
    const deadline = this.h.rt.now() + this.h.requestTimeoutMs;
    let retry: TimerHandle | undefined;
    // The core refuses a conf change while it knows no leader, while another one is pending on
    // the leader, or during a leadership transfer: try again each heartbeat until the deadline.
    const attempt = (): void => {
      this.h
        .withCore((core) => {
          try {
            core.proposeConfChange(cc);
            return true;
          } catch (e) {
            if (e instanceof ErrProposalDropped) return false;
            throw e;
          }
        })
        .then(
          (ok) => {
            if (!ok && this.h.rt.now() + this.h.heartbeatIntervalMs < deadline) retry = this.h.rt.after(this.h.heartbeatIntervalMs, attempt);
          },
          (e: unknown) => this.h.fail(reqId, e),
        );
    };
    attempt();
    const timer = this.h.rt.after(this.h.requestTimeoutMs, () => this.h.fail(reqId, new EtcdError(Errors.Timeout)));
    try {
      const r = await wait;
      if (!r.ok) throw r.err;
      return r.value as Member[];
    } finally {
      timer.cancel();
      retry?.cancel();
    }
  }

  async memberAdd(peerURLs: string[], isLearner: boolean, nowMs = this.h.rt.now()): Promise<MemberAddResult> {
    const parsed = parseGoUrls(peerURLs);
    if (!parsed.ok) throw new EtcdError(Errors.MemberBadURLs);
    const id = computeMemberId(parsed.urls, '', BigInt(Math.floor(nowMs / 1000)));
    const member: Member = { id, name: '', peerURLs: parsed.urls, clientURLs: [], isLearner };
    const store = this.h.members();
    if (this.h.strictReconfigCheck) {
      const e = mayAddMember(store.all(), isLearner, this.connectivity());
      if (e) throw new EtcdError(e);
    }
    // etcd checks these when applying; only the proposer can (they need the member list).
    if (store.isRemoved(id)) throw new EtcdError(Errors.MemberNotFound);
    if (store.get(id) !== undefined) throw new EtcdError(Errors.MemberExist);
    const used = new Set(store.all().flatMap((m) => m.peerURLs));
    if (parsed.urls.some((u) => used.has(u))) throw new EtcdError(Errors.PeerURLExist);
    const members = await this.proposeConfChange(isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, id, { member });
    return { member, members };
  }

  async memberRemove(id: bigint): Promise<Member[]> {
    if (this.h.strictReconfigCheck) {
      const e = mayRemoveMember(this.h.members().all(), id, this.connectivity());
      if (e) {
        this.h.logger.warn('rejecting member remove request; not enough healthy members', { 'local-member-id': hex(this.h.memberId), 'requested-member-remove-id': hex(id), error: e.message });
        throw new EtcdError(e);
      }
    }
    return this.proposeConfChange(ConfChangeType.RemoveNode, id, {});
  }

  async memberUpdate(id: bigint, peerURLs: string[]): Promise<Member[]> {
    // etcd 3.4 takes any text here and then fails to apply it (a panic); 3.5 checks it first.
    const parsed = parseGoUrls(peerURLs);
    if (!parsed.ok) throw new EtcdError(Errors.MemberBadURLs);
    return this.h.propose<Member[]>((reqId) => ({ kind: RequestKind.MemberUpdate, id: reqId, req: { memberId: id, peerURLs: parsed.urls } }));
  }

  /** etcd PromoteMember: decided on the leader; a follower forwards it there. */
  async memberPromote(id: bigint): Promise<Member[]> {
    try {
      return await this.promoteHere(id);
    } catch (e) {
      if (!(e instanceof EtcdError && e.spec === Errors.NotLeader)) throw e;
    }
    const deadline = this.h.rt.now() + this.h.requestTimeoutMs;
    const body = Buffer.from(JSON.stringify({ id: id.toString() }));
    while (this.h.rt.now() < deadline && !this.h.stopped()) {
      const lead = this.h.leader();
      const t = this.h.transport;
      if (lead !== None && lead !== this.h.memberId && t !== null) {
        try {
          const reply = JSON.parse(Buffer.from(await t.request(lead, promoteRequestKind, body, Math.max(1, deadline - this.h.rt.now()))).toString()) as { error?: string; members?: Parameters<typeof decodeClusterInfo>[0] };
          if (reply.error !== undefined) throw new EtcdError(specNamed(reply.error) ?? Errors.Timeout);
          return decodeClusterInfo(Buffer.from(JSON.stringify(reply.members))).members;
        } catch (e) {
          if (e instanceof EtcdError) throw e;
          // The leader changed or is unreachable: ask again.
        }
      }
      await this.h.rt.sleep(this.h.heartbeatIntervalMs);
    }
    throw new EtcdError(this.h.stopped() ? Errors.Stopped : Errors.Timeout);
  }

  private async promoteHere(id: bigint): Promise<Member[]> {
    const st = await this.h.withCore((core) => core.status());
    if (st.role !== StateRole.Leader) throw new EtcdError(Errors.NotLeader);
    const notReady = learnerReadiness(st.progress, st.id, id);
    if (notReady) throw new EtcdError(notReady);
    if (this.h.strictReconfigCheck) {
      const e = mayPromoteMember(this.h.members().all());
      if (e) throw new EtcdError(e);
    }
    return this.proposeConfChange(ConfChangeType.AddNode, id, { promote: true });
  }

  /** A peer's request (PeerHandler.onRequest) of a kind this file serves, else undefined. */
  onPeerRequest(kind: string, body: Uint8Array): Promise<Uint8Array> | undefined {
    if (kind !== promoteRequestKind) return undefined;
    return (async () => {
      const { id } = JSON.parse(Buffer.from(body).toString()) as { id: string };
      try {
        const members = await this.promoteHere(BigInt(id));
        const info = JSON.parse(Buffer.from(encodeClusterInfo({ clusterId: this.h.clusterId, members, removed: [] })).toString()) as unknown;
        return Buffer.from(JSON.stringify({ members: info }));
      } catch (e) {
        const name = e instanceof EtcdError ? errorName(e.spec) : undefined;
        if (name === undefined) throw e;
        return Buffer.from(JSON.stringify({ error: name }));
      }
    })();
  }

  /** etcd MoveLeader: on the leader only, to a voter; waits until the leader changed. */
  async moveLeader(target: bigint): Promise<void> {
    if (this.h.leader() !== this.h.memberId) throw new EtcdError(Errors.NotLeader);
    const m = this.h.members().get(target);
    if (m === undefined || m.isLearner) throw new EtcdError(Errors.BadLeaderTransferee);
    this.h.logger.info('leadership transfer starting', { 'local-member-id': hex(this.h.memberId), 'current-leader-member-id': hex(this.h.memberId), 'transferee-member-id': hex(target) });
    const start = this.h.rt.now();
    await this.h.withCore((core) => core.transferLeader(target));
    const deadline = start + this.h.requestTimeoutMs;
    while (this.h.leader() !== target) {
      if (this.h.rt.now() >= deadline || this.h.stopped()) throw new EtcdError(Errors.TimeoutLeaderTransfer);
      await this.h.rt.sleep(this.h.heartbeatIntervalMs);
    }
    this.h.logger.info('leadership transfer finished', { 'local-member-id': hex(this.h.memberId), 'old-leader-member-id': hex(this.h.memberId), 'new-leader-member-id': hex(target), took: `${this.h.rt.now() - start}ms` });
  }

  // ---- applying side (called by the server's apply, inside a Ready) ----

  /**
   * Apply one committed ConfChange entry. `batch` is null when the store already holds the
   * entry's effects (index ≤ consistent index): then only the core's configuration changes.
   * Returns the proposer's request id and result, if someone may wait for it.
   */
  applyConfChange(core: RawNode, e: Entry, batch: WriteBatch | null): [bigint, OpResult] | undefined {
    const cc = decodeConfChange(e.data);
    const ctx = decodeContext(cc.context);
    const kind = kindOf(cc, ctx);
    const err = validateConfChange(kind, cc.nodeId, core.raft.confState());
    if (err === undefined) core.applyConfChange(cc);
    if (batch !== null) {
      // Always: a restarted core takes its configuration from here (bootstrap entries, which
      // the core applied when it bootstrapped, are found redundant but still recorded).
      batch.put(metaKey.confState, encodeConfState(core.raft.confState()));
      if (err === undefined) this.applyToStore(kind, cc.nodeId, ctx, batch, e.index);
    }
    if (ctx === undefined || ctx.reqId === 0n) return undefined;
    if (err !== undefined) {
      if (batch !== null) this.h.logger.warn('rejected a membership change', { index: e.index.toString(), change: kind, 'member-id': hex(cc.nodeId), error: err.message });
      return [ctx.reqId, { ok: false, err: new EtcdError(err) }];
    }
    return [ctx.reqId, { ok: true, value: this.h.members().all() }];
  }

  private applyToStore(kind: ConfChangeKind, id: bigint, ctx: ConfChangeContext | undefined, batch: WriteBatch, index: bigint): void {
    const store = this.h.members();
    const fields = { 'cluster-id': hex(this.h.clusterId), 'local-member-id': hex(this.h.memberId), index: index.toString() };
    switch (kind) {
      case 'add-voter':
      case 'add-learner':
        // Bootstrap entries carry no member: the bootstrap wrote the list.
        if (ctx?.member === undefined) return;
        store.add(ctx.member, batch);
        this.h.logger.info(kind === 'add-learner' ? 'added member (learner)' : 'added member', { ...fields, 'added-peer-id': hex(id), 'added-peer-peer-urls': ctx.member.peerURLs });
        break;
      case 'promote':
        store.promote(id, batch);
        this.h.logger.info('promote member', { ...fields, 'promoted-member-id': hex(id) });
        break;
      case 'remove':
        store.remove(id, batch);
        this.h.logger.info('removed member', { ...fields, 'removed-remote-peer-id': hex(id) });
        break;
    }
    this.syncTransport();
  }

  /** Apply a committed MemberUpdate (etcd ConfChangeUpdateNode, checked at apply as etcd does). */
  applyUpdate(req: MemberUpdate, batch: WriteBatch): Member[] {
    const store = this.h.members();
    if (store.isRemoved(req.memberId) || store.get(req.memberId) === undefined) throw new EtcdError(Errors.MemberNotFound);
    const used = new Set(store.all().filter((m) => m.id !== req.memberId).flatMap((m) => m.peerURLs));
    if (req.peerURLs.some((u) => used.has(u))) throw new EtcdError(Errors.PeerURLExist);
    store.updatePeerURLs(req.memberId, req.peerURLs, batch);
    this.h.logger.info('updated member', { 'cluster-id': hex(this.h.clusterId), 'local-member-id': hex(this.h.memberId), 'updated-remote-peer-id': hex(req.memberId), 'updated-remote-peer-urls': req.peerURLs });
    this.syncTransport();
    return store.all();
  }

  /** The transport knows every listed member at its current URLs and refuses removed ones. */
  syncTransport(): void {
    const t = this.h.transport;
    if (t === null) return;
    const store = this.h.members();
    for (const m of store.all()) if (m.id !== this.h.memberId && m.peerURLs.length > 0) t.addPeer(m.id, m.peerURLs);
    for (const id of store.removedIds()) if (id !== this.h.memberId) t.removePeer(id);
  }

  /**
   * After a snapshot install replaced the member list: peers added, re-addressed or gone since
   * `before` (the list before the install) are told to the transport, then syncTransport().
   */
  syncPeersSince(before: Member[]): void {
    const t = this.h.transport;
    if (t !== null) {
      const self = this.h.memberId;
      const now = this.h.members().all();
      for (const m of now) {
        if (m.id === self) continue;
        const old = before.find((b) => b.id === m.id);
        if (!old) t.addPeer(m.id, m.peerURLs);
        else if (old.peerURLs.join(',') !== m.peerURLs.join(',')) t.updatePeer(m.id, m.peerURLs);
      }
      for (const b of before) if (b.id !== self && !now.some((m) => m.id === b.id)) t.removePeer(b.id);
    }
    this.syncTransport();
  }

  /** After each apply (and snapshot install): a member that sees itself removed stops. */
  afterApply(): void {
    this.remotes.afterMembersChanged();
    if (this.h.members().isRemoved(this.h.memberId)) this.onRemoved();
  }

  // ---- this member removed ----

  /** etcd: "the member has been permanently removed from the cluster"; exits after a delay. */
  onRemoved(): void {
    if (this.removing) return;
    this.removing = true;
    this.h.logger.warn('server error', { error: removedReason });
    this.h.logger.warn('data-dir used by this member must be removed');
    void (async () => {
      // We stay until another member leads (or the grace runs out). A removed leader hands over
      // first (the core transfers leadership and steps down), and the answers to the removal and
      // the TimeoutNow must leave before we stop; if they are lost, a survivor that has not seen
      // the removal commit still counts us among the voters — in a two-voter cluster it cannot
      // win an election without our vote, so we must still be there to give it.
      // On the monotonic clock: a wall clock stepped back must not keep a removed member serving.
      const clock = this.h.rt.clock;
      const until = clock.nowMs() + removedLeaderGraceFactor * this.h.electionTimeoutMs;
      const self = this.h.memberId;
      const startTerm = await this.h.withCore((core) => core.raft.term).catch(() => undefined);
      while (startTerm !== undefined && clock.nowMs() < until && !this.h.stopped()) {
        const seen = await this.h.withCore((core) => ({ term: core.raft.term, lead: core.raft.lead })).catch(() => undefined);
        if (seen === undefined || (seen.lead !== None && seen.lead !== self && seen.term >= startTerm)) break;
        await this.h.rt.sleep(this.h.heartbeatIntervalMs);
      }
      await this.h.rt.sleep(10 * this.h.heartbeatIntervalMs);
      this.h.stopRemoved(removedReason);
    })();
  }

  /** The member list for the peer Members call. */
  clusterInfo(): Uint8Array {
    const s = this.h.members();
    return encodeClusterInfo({ clusterId: this.h.clusterId, members: s.all(), removed: s.removedIds() });
  }

  /**
   * A removed member may never apply its own removal (the leader stops replicating to it once
   * the removal applies there): while it knows no leader, or as a learner (which never
   * campaigns, so never loses its leader), it asks a peer now and then, as etcd learns it from
   * its peers' "removed" answers.
   */
  startRemovedCheck(): void {
    const every = removedCheckElections * this.h.electionTimeoutMs;
    this.removedCheck = this.h.rt.every(every, () => void this.checkRemoved());
  }

  stop(): void {
    this.removedCheck?.cancel();
    this.removedCheck = null;
  }

  private async checkRemoved(): Promise<void> {
    if (this.checkingRemoved || this.removing || this.h.stopped()) return;
    // A voter cut off from its leader campaigns and so knows no leader; a learner never
    // campaigns and keeps the last leader it knew, even one that stopped replicating to it
    // because it was removed: it asks whatever it believes.
    if (this.h.leader() !== None && !(this.h.members().get(this.h.memberId)?.isLearner ?? false)) return;
    this.checkingRemoved = true;
    try {
      const peers = this.h.members().all().filter((m) => m.id !== this.h.memberId);
      for (const p of peers) {
        for (const url of p.peerURLs) {
          try {
            const t = this.h.transport;
            // The transport's own Members call when it has one (the in-memory one: no socket).
            const raw = t?.fetchMembers ? await t.fetchMembers(url, clusterInfoTimeoutMs) : await fetchClusterInfo(url, clusterInfoTimeoutMs, this.h.peerTls);
            const info = decodeClusterInfo(raw);
            if (info.clusterId !== this.h.clusterId) continue;
            if (info.removed.includes(this.h.memberId)) this.onRemoved();
            return;
          } catch {
            // try the next URL
          }
        }
      }
    } finally {
      this.checkingRemoved = false;
    }
  }
}
