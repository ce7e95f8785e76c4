/**
 * Who is calling: every peer call carries the cluster id and both member ids in its metadata
 * (16 hex digits each). A receiver accepts a call only when the cluster id is its own, the
 * sender is a member it knows (addPeer) and has not removed, and the call is addressed to it —
 * the refusal texts follow etcd's rafthttp where it has one.
 */
import * as grpc from '@grpc/grpc-js';
import { hex16 } from '../base/int64.js';
import { MessageType, isLocalMessage, type Message } from '../raft/types.js';

export const mdClusterId = 'etcdts-cluster-id';
export const mdFrom = 'etcdts-from';
export const mdTo = 'etcdts-to';
/** Trailer set when onRequest rejected (as opposed to a transport failure). */
export const mdRequestError = 'etcdts-request-error';

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

export function identityMetadata(id: CallIdentity): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(mdClusterId, hex16(id.clusterId));
  md.set(mdFrom, hex16(id.from));
  md.set(mdTo, hex16(id.to));
  return md;
}

const hexRe = /^[0-9a-f]{1,16}$/;

function parseId(md: grpc.Metadata, key: string): bigint | undefined {
  const v = md.get(key)[0];
  return typeof v === 'string' && hexRe.test(v) ? BigInt(`0x${v}`) : undefined;
}

export function readIdentity(md: grpc.Metadata): CallIdentity | undefined {
  const clusterId = parseId(md, mdClusterId);
  const from = parseId(md, mdFrom);
  const to = parseId(md, mdTo);
  if (clusterId === undefined || from === undefined || to === undefined) return undefined;
  return { clusterId, from, to };
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
