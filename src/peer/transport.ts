/** The peer transport contract (the server side of it; the gRPC implementation is src/peer/). */
import type { Logger } from '../base/logger.js';
import type { Message } from '../raft/types.js';

export interface PeerHandler {
  /** A Raft message from a peer, already checked (same cluster, known sender, addressed to us). */
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
}

export interface TransportOptions {
  memberId: bigint;
  clusterId: bigint;
  listenPeerUrls: string[];          // e.g. ['http://127.0.0.1:2380'] — bind all of them
  logger: Logger;                    // src/base/logger.ts
  handler: PeerHandler;

}

export interface Transport {
  start(): Promise<void>;                       // listens; rejects with a clear error if a port is taken
  addPeer(id: bigint, peerUrls: string[]): void;
  updatePeer(id: bigint, peerUrls: string[]): void;
  removePeer(id: bigint): void;
  /** Non-blocking. Messages to the same peer keep their order and go out batched on that peer's
   *  one long-lived stream. A bounded per-peer queue: on overflow drop and reportUnreachable.
   *  MsgSnap never goes through here. Messages to unknown peers are dropped (logged once). */
  send(msgs: Message[]): void;
  /** MsgSnap: streams msg + data() on the separate snapshot call; calls reportSnapshot once. */
  sendSnapshot(msg: Message, data: () => AsyncIterable<Uint8Array>): void;
  /** Unary request to a peer (see onRequest); rejects on connection failure/timeout. */
  request(to: bigint, kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** When the stream to `id` last became active, or undefined if it is not connected now. */
  activeSince(id: bigint): Date | undefined;
  stop(): Promise<void>;                         // closes listeners and streams, idempotent
}

