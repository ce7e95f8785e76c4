/**
 * etcd's checks before proposing a membership change (etcdserver mayAddMember, mayRemoveMember,
 * mayPromoteMember, isLearnerReady, and RaftCluster.IsReadyTo*; --strict-reconfig-check), as pure
 * functions of the member list, which peers the transport has been connected to and since when,
 * and the leader's replication progress. "Started" = the member has published its name.
 *
 * Order and outcomes follow etcd 3.4/3.5: an add of a voter needs a quorum of the future voters
 * started; any add needs every voter connected for at least healthIntervalMs; a remove of a voter
 * keeps a quorum of started voters and of connected voters (a peer never connected counts as
 * safe to remove); a promotion needs the learner's match ≥ 90% of the leader's and a quorum of
 * the future voters started.
 */
import type { ErrorSpec } from '../api/errors.js';
import { Errors } from '../api/errors.js';
import type { Member } from './member-store.js';

/** etcd HealthInterval: a peer counts as connected once its stream has been up this long. */
export const healthIntervalMs = 5000;
/** etcd readyPercent: a learner is in sync when its match is at least this share of the leader's. */
export const learnerReadyPercent = 0.9;

export interface Connectivity {
  self: bigint;
  /** When the stream to `id` last became active, or undefined when not connected. */
  activeSince(id: bigint): Date | undefined;
  now: number;
}

const started = (m: Member): boolean => m.name !== '';
const voting = (ms: readonly Member[]): Member[] => ms.filter((m) => !m.isLearner);

/** Self counts as connected; a peer once connected for healthIntervalMs. */
function numConnectedSince(c: Connectivity, members: readonly Member[]): number {
  let n = 0;
  for (const m of members) {
    if (m.id === c.self) {
      n++;
      continue;
    }
    const t = c.activeSince(m.id);
    if (t !== undefined && t.getTime() <= c.now - healthIntervalMs) n++;
  }
  return n;
}

export function isReadyToAddVotingMember(members: readonly Member[]): boolean {
  let nmembers = 1;
  let nstarted = 0;
  for (const m of voting(members)) {
    if (started(m)) nstarted++;
    nmembers++;
  }
  // Adding a second member to a one-member cluster (restoring a cluster) is allowed.
  if (nstarted === 1 && nmembers === 2) return true;
  return nstarted >= Math.floor(nmembers / 2) + 1;
}

export function isReadyToRemoveVotingMember(members: readonly Member[], id: bigint): boolean {
  let nmembers = 0;
  let nstarted = 0;
  for (const m of voting(members)) {
    if (m.id === id) continue;
    if (started(m)) nstarted++;
    nmembers++;
  }
  return nstarted >= Math.floor(nmembers / 2) + 1;
}

export function isReadyToPromoteMember(members: readonly Member[]): boolean {
  let nmembers = 1; // the learner to promote counts for the future quorum
  let nstarted = 1; // and as started
  for (const m of voting(members)) {
    if (started(m)) nstarted++;
    nmembers++;
  }
  return nstarted >= Math.floor(nmembers / 2) + 1;
}

export function mayAddMember(members: readonly Member[], isLearner: boolean, c: Connectivity): ErrorSpec | undefined {
  if (!isLearner && !isReadyToAddVotingMember(members)) return Errors.MemberNotEnoughStarted;
  const v = voting(members);
  if (numConnectedSince(c, v) !== v.length) return Errors.Unhealthy;
  return undefined;
}

export function mayRemoveMember(members: readonly Member[], id: bigint, c: Connectivity): ErrorSpec | undefined {
  const target = members.find((m) => m.id === id);
  if (target?.isLearner) return undefined;
  if (!isReadyToRemoveVotingMember(members, id)) return Errors.MemberNotEnoughStarted;
  // A member that is down is not part of the active quorum: safe to remove.
  if (id !== c.self && c.activeSince(id) === undefined) return undefined;
  const v = voting(members);
  const active = numConnectedSince(c, v);
  if (active - 1 < 1 + Math.floor((v.length - 1) / 2)) return Errors.Unhealthy;
  return undefined;
}

/**
 * etcd isLearnerReady, on the leader: undefined when `id` has no progress (not a member: the
 * apply-time check answers) or its match is within learnerReadyPercent of the leader's.
 */
export function learnerReadiness(progress: ReadonlyMap<bigint, { match: bigint }>, leader: bigint, id: bigint): ErrorSpec | undefined {
  const p = progress.get(id);
  if (p === undefined) return undefined;
  const leaderMatch = progress.get(leader)?.match ?? 0n;
  return Number(p.match) < Number(leaderMatch) * learnerReadyPercent ? Errors.LearnerNotReady : undefined;
}

export function mayPromoteMember(members: readonly Member[]): ErrorSpec | undefined {
  return isReadyToPromoteMember(members) ? undefined : Errors.MemberNotEnoughStarted;
}
