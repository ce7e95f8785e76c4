import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/api/errors.js';
import type { Member } from '../../../src/membership/member-store.js';
import { healthIntervalMs, learnerReadiness, mayAddMember, mayPromoteMember, mayRemoveMember } from '../../../src/membership/reconfig-check.js';

const m = (id: bigint, started = true, isLearner = false): Member => ({ id, name: started ? `m${id}` : '', peerURLs: [`http://h:${id}`], clientURLs: [], isLearner });
const now = 1_000_000;
/** Every peer in `connected` has been connected long enough; `recent` only just now. */
function conn(connected: bigint[], recent: bigint[] = []) {
  return {
    self: 1n,
    now,
    activeSince: (id: bigint) => (connected.includes(id) ? new Date(now - healthIntervalMs - 1) : recent.includes(id) ? new Date(now - 10) : undefined),
  };
}

describe('strict reconfiguration checks (etcd --strict-reconfig-check)', () => {
  it('adds when every voter is started and connected for the health interval', () => {
    const ms = [m(1n), m(2n), m(3n)];
    expect(mayAddMember(ms, false, conn([2n, 3n]))).toBeUndefined();
    expect(mayAddMember(ms, true, conn([2n, 3n]))).toBeUndefined();
  });

  it('refuses any add while a voter is not (long enough) connected: unhealthy cluster', () => {
    const ms = [m(1n), m(2n), m(3n)];
    expect(mayAddMember(ms, false, conn([2n], [3n]))).toBe(Errors.Unhealthy);
    expect(mayAddMember(ms, true, conn([2n]))).toBe(Errors.Unhealthy);
    // Learners do not count for connectivity.
    expect(mayAddMember([...ms, m(9n, false, true)], true, conn([2n, 3n]))).toBeUndefined();
  });

  it('refuses a voter add when a quorum of the future voters would not be started', () => {
    const ms = [m(1n), m(2n, false), m(3n, false)];
    expect(mayAddMember(ms, false, conn([2n, 3n]))).toBe(Errors.MemberNotEnoughStarted);
    // A second member for a one-member cluster is allowed.
    expect(mayAddMember([m(1n)], false, conn([]))).toBeUndefined();
  });

  it('removes a down member freely, but not one whose removal breaks the active quorum', () => {
    const ms = [m(1n), m(2n), m(3n)];
    expect(mayRemoveMember(ms, 3n, conn([2n]))).toBeUndefined(); // 3 never connected: down
    expect(mayRemoveMember(ms, 2n, conn([2n]))).toBe(Errors.Unhealthy); // 3 down: 2 is needed
    expect(mayRemoveMember(ms, 2n, conn([2n, 3n]))).toBeUndefined();
    expect(mayRemoveMember(ms, 1n, conn([2n, 3n]))).toBeUndefined(); // self (the leader)
    expect(mayRemoveMember([m(1n), m(2n, false), m(3n, false)], 1n, conn([2n, 3n]))).toBe(Errors.MemberNotEnoughStarted);
    expect(mayRemoveMember([...ms, m(9n, false, true)], 9n, conn([]))).toBeUndefined(); // a learner: no check
  });

  it('promotes a learner whose match is at least 90% of the leader’s', () => {
    const p = new Map([
      [1n, { match: 1000n }],
      [9n, { match: 900n }],
      [8n, { match: 899n }],
    ]);
    expect(learnerReadiness(p, 1n, 9n)).toBeUndefined();
    expect(learnerReadiness(p, 1n, 8n)).toBe(Errors.LearnerNotReady);
    expect(learnerReadiness(p, 1n, 7n)).toBeUndefined(); // unknown: the apply-time check answers
    expect(mayPromoteMember([m(1n), m(2n), m(3n)])).toBeUndefined();
    expect(mayPromoteMember([m(1n), m(2n, false), m(3n, false), m(4n, false)])).toBe(Errors.MemberNotEnoughStarted);
  });
});
