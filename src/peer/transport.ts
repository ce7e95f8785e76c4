/**
 * The peer transport: how a member's Raft messages, snapshots and small requests reach the other
 * members of its cluster (DESIGN.md, issue 4). The server talks to it only through these
 * interfaces; createPeerTransport is the real one (frames.ts on --listen-peer-urls), memory-transport.ts
 * a same-semantics in-process one for tests.
 *
 * Contract shared by every implementation:
 * - Messages to one peer arrive in the order given to send(), or not at all (Raft tolerates loss,
 *   not reordering within a stream it considers live). Each peer has a bounded queue: when it is
 *   full the NEW message is dropped and reportUnreachable(peer) follows (queue-full policy, see
 *   peer-link.ts).
 * - The handler is never called synchronously from inside a Transport method (the server may call
 *   send() in the middle of handling a Ready), and never after stop() resolves.
 * - reportSnapshot is called exactly once per sendSnapshot call (a snapshot cut short by stop()
 *   or removePeer() is reported false).
 * - Incoming traffic is checked before the handler sees it: same cluster id, a sender added with
 *   addPeer and not removed since, addressed to this member; a refused call is answered
 *   with a REFUSE frame and nothing of it reaches the handler.
 */
import type { TlsMaterial } from '../base/tls.js';
import type { Logger } from '../base/logger.js';
import type { Rand } from '../base/random.js';
import type { Message } from '../raft/types.js';
import { SocketTransport } from './socket-transport.js';

export interface PeerHandler {
  /** A Raft message from a peer, already checked (same cluster, known sender, addressed to us;
   *  `from` is the sender's id, or a known member's whose proposal/read the sender relays). */
  process(msg: Message): void;
  /** Sending to `id` failed or its stream broke; the server calls rawNode.reportUnreachable(id). */
  reportUnreachable(id: bigint): void;
  /** Outcome of a snapshot given to sendSnapshot (exactly once per call). */
  reportSnapshot(id: bigint, ok: boolean): void;
  /** An incoming snapshot: the MsgSnap message and the data stream sent with it. Resolves once the
   *  data is durably stored by the server; only then does the transport call process(msg) and
   *  acknowledge to the sender. Rejects ⇒ the sender gets a failure (reportSnapshot(id,false)). */
  receiveSnapshot(msg: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
  /** A generic request from a peer (used for lease keepalive forwarding to the leader, hash checks,
   *  and similar): `kind` names it; resolve with the answer bytes, reject with an Error whose
   *  message is sent back. */
  onRequest(from: bigint, kind: string, body: Uint8Array): Promise<Uint8Array>;
  /** The cluster's member list for the Members call (etcd's peer /members): answered to any
   *  caller, known or not — a member joining an existing cluster learns its own id and the
   *  cluster id from it. Absent ⇒ the call is refused (UNIMPLEMENTED). */
  clusterInfo?(): Uint8Array;
  /** A call from `id`, a sender of our cluster we do not know (refused with "error sender not
   *  found"): a member that joined after what we have applied (server/remote-peers.ts looks it
   *  up and adds it, as etcd's rafthttp adds a remote). Must not block; may be called often. */
  unknownPeer?(id: bigint): void;
}

/** Named limits; every one has a default (transportDefaults in options.ts). */
export interface TransportLimits {
  /** Messages waiting for one peer (etcd's streamBufSize). */
  queueMessagesMax?: number;
  /** Encoded bytes waiting for one peer. */
  queueBytesMax?: number;
  /** A stream frame is closed once it holds this many bytes (at least one message per frame). */
  batchBytesMax?: number;
  /** Largest frame, both directions; a single message larger than this is dropped. */
  frameBytesMax?: number;
  /** Snapshot data goes out in chunks of at most this size. */
  snapshotChunkBytes?: number;
  /** Deadline of one whole snapshot transfer, acknowledgement included. */
  snapshotTimeoutMs?: number;
  /** How long one connection attempt may take. */
  dialTimeoutMs?: number;
  /** Reconnect delay: first retry, then doubling up to the cap, with jitter (backoff.ts). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Keepalive pings on an idle stream: a peer that does not answer within the timeout is disconnected. */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
}

export interface TransportOptions extends TransportLimits {
  memberId: bigint;
  clusterId: bigint;
  /** e.g. ['http://127.0.0.1:2380'] — every one is bound. */
  listenPeerUrls: string[];
  logger: Logger;
  handler: PeerHandler;
  /** Jitter for the reconnect backoff (default: Math.random). */
  random?: Rand;
  /** Peer TLS (base/tls.ts): serves the https:// listen URLs and dials https:// peer URLs. */
  tls?: TlsMaterial | null;
}

export interface Transport {
  /** Listens; rejects with a clear error (PeerListenError) if a port is taken or a URL unsupported. */
  start(): Promise<void>;
  addPeer(id: bigint, peerUrls: string[]): void;
  updatePeer(id: bigint, peerUrls: string[]): void;
  removePeer(id: bigint): void;
  /** Non-blocking. Messages to the same peer keep their order and go out batched on that peer's
   *  one long-lived stream. A bounded per-peer queue: on overflow drop and reportUnreachable.
   *  MsgSnap never goes through here. Messages to unknown peers are dropped (logged once).
   *  Each message is ours (`from` = this member) or one we relay (identity.ts mayOriginate). */
  send(msgs: Message[]): void;
  /** MsgSnap: streams msg + data() on the separate snapshot call; calls reportSnapshot once. */
  sendSnapshot(msg: Message, data: () => AsyncIterable<Uint8Array>): void;
  /** Unary request to a peer (see onRequest); rejects on connection failure/timeout
   *  (PeerUnavailableError) or with the peer's answer (PeerRequestError). */
  request(to: bigint, kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** When the stream to `id` last became active, or undefined if it is not connected now. */
  activeSince(id: bigint): Date | undefined;
  /** The peer Members call to a peer URL (cluster-info.ts): the member list it answers. Absent:
   *  callers use fetchClusterInfo over a socket of their own. */
  fetchMembers?(peerUrl: string, timeoutMs: number): Promise<Uint8Array>;
  /** Closes listeners and streams; idempotent. */
  stop(): Promise<void>;
}

export function createPeerTransport(opts: TransportOptions): Transport {
  return new SocketTransport(opts);
}

export { fetchClusterInfo } from './cluster-info.js';
export { PeerListenError, PeerRequestError, PeerUnavailableError } from './errors.js';
