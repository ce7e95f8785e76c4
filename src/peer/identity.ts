/**
 * Who is calling: every peer connection starts with a HELLO carrying the cluster id and both
 * member ids (frames.ts). A receiver accepts a call only when the cluster id is its own, the
 * sender is a member it knows (addPeer) and has not removed, and the call is addressed to it —
 * the refusal texts follow etcd's rafthttp where it has one.
 */
import { MessageType, isLocalMessage, type Message } from '../raft/types.js';

export type RefusalReason = 'cluster-mismatch' | 'removed-sender' | 'unknown-sender' | 'to-mismatch' | 'bad-identity';

export interface Refusal {
  reason: RefusalReason;
  /** Sent back as the status details. */
  message: string;
}

export const refusalMessages: Record<RefusalReason, string> = {
  'cluster-mismatch': 'request cluster ID mismatch',
  'removed-sender': 'the member has been permanently removed from the cluster',
  'unknown-sender': 'error sender not found',
  'to-mismatch': 'to field mismatch',
  'bad-identity': 'missing or malformed peer identity',
};

export interface CallIdentity {
  clusterId: bigint;
  from: bigint;
  to: bigint;
}

export interface LocalIdentity {
  memberId: bigint;
  clusterId: bigint;
  isKnown(id: bigint): boolean;
  isRemoved(id: bigint): boolean;
}

/** Undefined when the call is acceptable. Order as etcd's stream handler: cluster, sender, receiver. */
export function checkIdentity(id: CallIdentity | undefined, local: LocalIdentity): Refusal | undefined {
  const refuse = (reason: RefusalReason): Refusal => ({ reason, message: refusalMessages[reason] });
  if (id === undefined) return refuse('bad-identity');
  if (id.clusterId !== local.clusterId) return refuse('cluster-mismatch');
  if (local.isRemoved(id.from)) return refuse('removed-sender');
  if (!local.isKnown(id.from)) return refuse('unknown-sender');
  if (id.to !== local.memberId) return refuse('to-mismatch');
  return undefined;
}

/**
 * Messages a follower relays to its leader with the original sender's `from` kept, as etcd's
 * raft does (stepFollower): a proposal or a ReadIndex request that reached a member which is no
 * longer the leader (the leader answers a ReadIndex straight to `from`), and a TransferLeader,
 * whose `from` names the transferee. Every other message is its sender's own.
 */
export function isRelayable(t: MessageType): boolean {
  return t === MessageType.Prop || t === MessageType.ReadIndex || t === MessageType.TransferLeader;
}

/** Whether a member may hand `m` to its transport: its own message, or one it relays. */
export function mayOriginate(memberId: bigint, m: Message): boolean {
  return m.from === memberId || (isRelayable(m.type) && m.from !== 0n);
}

/**
 * Whether a message that came on `from`'s stream may reach process(): addressed to us, not a
 * local message type, not MsgSnap (which has its own call), and from that sender — or relayed
 * by it (isRelayable) on behalf of another member we know (`isKnown`) and have not removed.
 */
export function belongsOnStream(memberId: bigint, from: bigint, m: Message, isKnown: (id: bigint) => boolean): boolean {
  if (m.to !== memberId || isLocalMessage(m.type) || m.type === MessageType.Snap) return false;
  if (m.from === from) return true;
  return isRelayable(m.type) && m.from !== memberId && isKnown(m.from);
}
