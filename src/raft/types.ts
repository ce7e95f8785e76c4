/**
 * The data the Raft core exchanges with its driver: log entries, durable state, snapshots,
 * messages and membership changes. Everything here is plain serializable data (bigint, boolean,
 * Uint8Array, arrays) so the peer transport can encode it and the simulator can copy it.
 * Node ids, terms and indexes are bigint; 0n (None) means "no node".
 */
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';

export const None = 0n;

export enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  term: bigint;
  index: bigint;
  type: EntryType;
  data: Uint8Array;
}

/** What must be on disk before a message that depends on it is sent (Raft paper Figure 2). */
export interface HardState {
  term: bigint;
  /** The candidate voted for in `term`; None = no vote. */
  vote: bigint;
  commit: bigint;
}

export interface ConfState {
  voters: bigint[];
  learners: bigint[];
}

export interface SnapshotMetadata {
  index: bigint;
  term: bigint;
  /** The configuration as of `index`. */
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export enum MessageType {
  /** Local: start an election (the election timer fired, or campaign()). */
  Hup = 0,
  /** Local: the leader's heartbeat timer fired. */
  Beat = 1,
  /** A proposal: local, or forwarded by a follower to its leader (term 0, as etcd). */
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  PreVote = 7,
  PreVoteResp = 8,
  Snap = 9,
  /** Local: the application reports whether sending a snapshot to `from` succeeded (reject = failed). */
  SnapStatus = 10,
  /** Local: the transport could not reach `from`. */
  Unreachable = 11,
  /** Local: the leader's check-quorum timer fired (thesis §6.2). */
  CheckQuorum = 12,
  Heartbeat = 13,
  HeartbeatResp = 14,
  /** A read request: local, or forwarded by a follower to its leader (term 0). */
  ReadIndex = 15,
  ReadIndexResp = 16,
  /** Local or forwarded: hand leadership to `from` (etcd's convention for this message). */
  TransferLeader = 17,
  TimeoutNow = 18,
}

export interface Message {
  type: MessageType;
  from: bigint;
  to: bigint;
  term: bigint;
  /** App: term of the entry at `index`; vote requests: term of the candidate's last entry;
   *  rejected AppResp: term of the follower's entry at `rejectHint` (fast backtracking). */
  logTerm: bigint;
  index: bigint;
  entries: Entry[];
  commit: bigint;
  reject: boolean;
  rejectHint: bigint;
  snapshot?: Snapshot;
  /** Heartbeat(Resp): the ReadIndex round; ReadIndex(Resp): the caller's request context;
   *  Vote/PreVote: campaignTransferContext when leadership is being handed over. */
  context: Uint8Array;
}

/** A message with every field defaulted except those given. */
export function message(m: Partial<Message> & { type: MessageType }): Message {
  return {
    from: None,
    to: None,
    term: 0n,
    logTerm: 0n,
    index: 0n,
    entries: [],
    commit: 0n,
    reject: false,
    rejectHint: 0n,
    context: new Uint8Array(0),
    ...m,
  };
}

/** Messages a node generates for itself; never accepted from the network. */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus ||
    t === MessageType.CheckQuorum
  );
}

/** Responses: only meaningful from a member of our configuration. */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.PreVoteResp
  );
}

export enum ConfChangeType {
  AddNode = 0,
  AddLearnerNode = 1,
  RemoveNode = 2,
}

/** One membership step. Promotion of a learner is AddNode on a learner. */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
}

export enum StateRole {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

/** Volatile state the application may want to observe (not persisted). */
export interface SoftState {
  leader: bigint;
  role: StateRole;
}

/** A confirmed linearizable read point: serve the read once applied >= index. */
export interface ReadState {
  index: bigint;
  ctx: Uint8Array;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** ConfChange entry payload: 1 byte type, 8 bytes node id (big-endian), then the context. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(9 + cc.context.length);
  out[0] = cc.type;
  u64ToBytesBE(cc.nodeId, out, 1);
  out.set(cc.context, 9);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.length >= 9, 'conf change entry too short');
  const type = data[0] as number;
  assert(type === ConfChangeType.AddNode || type === ConfChangeType.AddLearnerNode || type === ConfChangeType.RemoveNode, `unknown conf change type ${type}`);
  return { type: type as ConfChangeType, nodeId: u64FromBytesBE(data, 1), context: data.slice(9) };
}

/** Bytes an entry counts for against maxSizePerMsg: its payload plus a fixed header estimate. */
export const entryOverheadBytes = 24;
export function entrySize(e: Entry): number {
  return e.data.length + entryOverheadBytes;
}
