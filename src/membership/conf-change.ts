/**
 * Runtime membership changes as Raft conf change entries (etcd's ConfigChangeContext): the
 * entry's `context` carries JSON naming the proposer's request id (so the proposing member can
 * answer its caller) and, for an add, the new member; a promotion is AddNode with `promote`.
 * Bootstrap entries (written by the Raft core when a new cluster starts) carry no context.
 *
 * Validity is decided from the Raft configuration as of the entry (voters, learners) and
 * nothing else, so that every member — and a member replaying entries whose store effects it
 * already has (after a snapshot install), or one that joined with a member list fetched from
 * its peers — decides the same for the same entry. A change found invalid changes neither the
 * Raft configuration nor the member list; its error goes to the proposer (etcd's
 * ValidateConfigurationChange, checked at apply). Checks that need the member list (peer URLs
 * already used, id removed) are made by the proposer before proposing.
 */
import type { ErrorSpec } from '../api/errors.js';
import { Errors } from '../api/errors.js';
import type { Member } from './member-store.js';

/** etcd 3.4/3.5: at most one learner (3.6 makes it --max-learners). */
export const maxLearners = 1;

export type ConfChangeKind = 'add-voter' | 'add-learner' | 'promote' | 'remove';

export interface ConfChangeContext {
  /** The proposer's request id (0 = nobody waits). */
  reqId: bigint;
  /** The member being added (add-voter, add-learner). */
  member?: Member;
  promote?: boolean;
}

interface WireContext {
  reqId: string;
  member?: { id: string; peerURLs: string[]; isLearner: boolean };
  promote?: boolean;
}

export function encodeContext(c: ConfChangeContext): Uint8Array {
  const w: WireContext = { reqId: c.reqId.toString() };
  if (c.member) w.member = { id: c.member.id.toString(), peerURLs: c.member.peerURLs, isLearner: c.member.isLearner };
  if (c.promote) w.promote = true;
  return Buffer.from(JSON.stringify(w));
}

/** Undefined for an entry without context (bootstrap). */
export function decodeContext(b: Uint8Array): ConfChangeContext | undefined {
  if (b.length === 0) return undefined;
  const w = JSON.parse(Buffer.from(b).toString()) as WireContext;
  const out: ConfChangeContext = { reqId: BigInt(w.reqId) };
  if (w.member) out.member = { id: BigInt(w.member.id), name: '', peerURLs: w.member.peerURLs, clientURLs: [], isLearner: w.member.isLearner };
  if (w.promote) out.promote = true;
  return out;
}

export interface Configuration {
  voters: readonly bigint[];
  learners: readonly bigint[];
}

/**
 * The error an applied change gets, or undefined when it takes effect. `kind` says what the
 * entry asks; `id` is its node id.
 */
export function validateConfChange(kind: ConfChangeKind, id: bigint, conf: Configuration): ErrorSpec | undefined {
  const isVoter = conf.voters.includes(id);
  const isLearner = conf.learners.includes(id);
  switch (kind) {
    case 'add-voter':
      return isVoter || isLearner ? Errors.MemberExist : undefined;
    case 'add-learner':
      if (isVoter || isLearner) return Errors.MemberExist;
      return conf.learners.length + 1 > maxLearners ? Errors.TooManyLearners : undefined;
    case 'promote':
      if (!isVoter && !isLearner) return Errors.MemberNotFound;
      return isLearner ? undefined : Errors.MemberNotLearner;
    case 'remove':
      if (!isVoter && !isLearner) return Errors.MemberNotFound;
      // The Raft core keeps its last voter; so must the member list (a cluster without voters
      // can elect no one). etcd's strict check refuses this too (not enough started members).
      return isVoter && conf.voters.length === 1 ? Errors.MemberNotEnoughStarted : undefined;
  }
}
