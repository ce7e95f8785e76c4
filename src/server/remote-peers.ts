/**
 * Remote peers: members of our cluster that joined after what this member has applied.
 *
 * A member cut off while another joined (or a learner that fell behind) does not know the new
 * member until it applies the conf change that added it — and when the new member leads, that
 * entry can only come from it. Refusing its calls ("error sender not found") then leaves the
 * lagging member stuck for good (whole-member simulator, seed 1651: a learner partitioned while
 * a voter joined, which later led). etcd gets out of this with its rafthttp "remotes": a stream
 * from an unknown sender is refused, but the sender is added as a remote (from its X-PeerURLs
 * header) so that the lagging member can answer the messages the leader sends it through the
 * pipeline. Here a call from an unknown sender of our cluster makes the member ask its known
 * peers for the member list (the peer Members call) and add every member it lists that we do
 * not know, have not removed and that nobody removed, as a transport peer: the next call from
 * it is accepted, answers reach it, and once the conf change applies it is an ordinary peer.
 * Trust is no wider than etcd's: a peer of our cluster vouches for the id and its URLs.
 *
 * Bounded: one lookup at a time, at most one per `unknownPeerLookupIntervalMs` whatever the
 * sender (a flood of forged ids costs one member list per interval), each call with a timeout.
 */
import { idField, type Logger } from '../base/logger.js';
import type { Runtime } from '../base/runtime.js';
import type { TlsMaterial } from '../base/tls.js';
import { decodeClusterInfo } from '../membership/cluster-info.js';
import type { MemberStore } from '../membership/member-store.js';
import { fetchClusterInfo, type Transport } from '../peer/transport.js';

/** At most one member-list lookup per this interval (and one at a time). */
export const unknownPeerLookupIntervalMs = 1000;
/** Deadline of one Members call during a lookup. */
export const unknownPeerFetchTimeoutMs = 1000;

export interface RemotePeersHost {
  readonly rt: Runtime;
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly logger: Logger;
  readonly peerTls: TlsMaterial | null;
  transport(): Transport | null;
  /** The member list as of the last applied entry. */
  members(): MemberStore;
  stopped(): boolean;
}

export class RemotePeers {
  /** Ids added to the transport that the member list does not hold (yet). */
  private readonly remotes = new Set<bigint>();
  private lookingUp = false;
  private lastLookupMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly h: RemotePeersHost) {}

  /** Transport hook (PeerHandler.unknownPeer): a call from `id`, a sender of our cluster we do not know. */
  onUnknownPeer(id: bigint): void {
    if (this.lookingUp || this.h.stopped() || id === this.h.memberId || this.h.members().isRemoved(id)) return;
    const now = this.h.rt.clock.nowMs();
    if (now - this.lastLookupMs < unknownPeerLookupIntervalMs) return;
    this.lastLookupMs = now;
    this.lookingUp = true;
    this.h.rt.soon(() => {
      void this.lookUp(id).finally(() => {
        this.lookingUp = false;
      });
    });
  }

  /** After the member list changed: a remote that is now a member is an ordinary peer; one removed goes. */
  afterMembersChanged(): void {
    for (const id of [...this.remotes]) {
      const store = this.h.members();
      if (store.get(id) !== undefined) this.remotes.delete(id);
      else if (store.isRemoved(id)) {
        this.remotes.delete(id);
        this.h.transport()?.removePeer(id);
      }
    }
  }

  isRemote(id: bigint): boolean {
    return this.remotes.has(id);
  }

  private async lookUp(asked: bigint): Promise<void> {
    const t = this.h.transport();
    if (t === null) return;
    const peers = this.h.members().all().filter((m) => m.id !== this.h.memberId);
    for (const p of peers) {
      for (const url of p.peerURLs) {
        if (this.h.stopped()) return;
        let added = 0;
        try {
          // The transport's own Members call when it has one (the in-memory one: no socket).
          const raw = t.fetchMembers ? await t.fetchMembers(url, unknownPeerFetchTimeoutMs) : await fetchClusterInfo(url, unknownPeerFetchTimeoutMs, this.h.peerTls);
          const info = decodeClusterInfo(raw);
          if (info.clusterId !== this.h.clusterId) continue;
          const store = this.h.members();
          for (const m of info.members) {
            if (m.id === this.h.memberId || m.peerURLs.length === 0 || store.get(m.id) !== undefined || store.isRemoved(m.id) || info.removed.includes(m.id) || this.remotes.has(m.id)) continue;
            if (this.h.stopped()) return;
            t.addPeer(m.id, m.peerURLs);
            this.remotes.add(m.id);
            added++;
            this.h.logger.info('added a member this member has not applied yet as a remote peer', {
              'local-member-id': idField(this.h.memberId),
              'remote-peer-id': idField(m.id),
              'remote-peer-urls': m.peerURLs,
              'asked-about': idField(asked),
              'member-list-from': idField(p.id),
            });
          }
        } catch {
          continue; // try the next URL
        }
        // One answer from our cluster per peer; stop at the first that taught us something.
        if (added > 0) return;
        break;
      }
    }
  }
}
