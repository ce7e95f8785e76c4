/**
 * The member's side of the peer transport (peer/): what peers send is dispatched — Raft messages
 * and reports into the loop's input, snapshot streams to raft-snapshots.ts, peer requests to the
 * corruption checker (HashKV), cluster-ops.ts (membership) or the lease server (forwarded lease
 * calls) — and the loop's messages go out, a MsgSnap with its state streamed beside it.
 *
 * Invariants: the core is touched only through the loop's input (never from a transport
 * callback directly); a peer request no handler claims fails with an error naming its kind and
 * sender; with no transport (a member that talks to nobody) sending is a no-op.
 */
import { hex } from '../base/int64.js';
import type { RawNode } from '../raft/raw-node.js';
import { type Message, MessageType } from '../raft/types.js';
import { createPeerTransport, type PeerHandler, type Transport } from '../peer/transport.js';
import type { ClusterOps } from './cluster-ops.js';
import { hashKvPeerRequest, type CorruptionChecker } from './corruption-check.js';
import type { LeaseServer } from './lease-server.js';
import type { RaftSnapshots } from './raft-snapshots.js';
import type { ServerOptions } from './server-options.js';

export interface PeerDispatch {
  /** RaftNode.input: fn runs against the core now or right after the Ready in flight. */
  input(fn: () => void): void;
  /** Getters: built after the transport (they need it). */
  readonly core: RawNode;
  readonly snapshots: RaftSnapshots;
  readonly corruption: Pick<CorruptionChecker, 'answer'>;
  readonly cluster: Pick<ClusterOps, 'onPeerRequest' | 'clusterInfo' | 'remotes'>;
  readonly leases: Pick<LeaseServer, 'onPeerRequest'>;
}

/** The transport of this member (opts.transport, or gRPC on --listen-peer-urls, or none). */
export function openTransport(opts: ServerOptions, memberId: bigint, clusterId: bigint, d: PeerDispatch): Transport | null {
  const handler: PeerHandler = {
    process: (m) => d.input(() => d.core.step(m)),
    reportUnreachable: (id) => d.input(() => d.core.reportUnreachable(id)),
    reportSnapshot: (id, ok) => d.input(() => d.core.reportSnapshot(id, ok)),
    receiveSnapshot: (m, data) => d.snapshots.receive(m, data),
    onRequest: async (from, kind, body) => {
      if (kind === hashKvPeerRequest) return d.corruption.answer(body);
      const membership = d.cluster.onPeerRequest(kind, body);
      if (membership !== undefined) return membership;
      const answer = await d.leases.onPeerRequest(kind, body);
      if (answer === undefined) throw new Error(`unknown peer request ${kind} from ${hex(from)}`);
      return answer;
    },
    clusterInfo: () => d.cluster.clusterInfo(),
    // A sender of our cluster we do not know yet (a member added behind our back): look it up.
    unknownPeer: (id) => d.cluster.remotes.onUnknownPeer(id),
  };
  const self = { memberId, clusterId };
  if (opts.transport) return opts.transport({ ...self, handler });
  if (opts.listenPeerUrls && opts.listenPeerUrls.length > 0) {
    return createPeerTransport({ ...self, listenPeerUrls: opts.listenPeerUrls, logger: opts.logger, handler, tls: opts.peerTls });
  }
  return null;
}

/** The loop's messages of one Ready, the plain ones in one batch; a MsgSnap carries metadata only, its state streams beside it. */
export function sendMessages(transport: Transport | null, snapshots: RaftSnapshots, msgs: Message[]): void {
  if (!transport) return;
  const plain: Message[] = [];
  for (const m of msgs) {
    if (m.type === MessageType.Snap) snapshots.send(transport, m);
    else plain.push(m);
  }
  if (plain.length > 0) transport.send(plain);
}
