/** Transcript: leadership transfer (thesis §3.10): the target catches up, then campaigns at once. */
import { describe, expect, it } from 'vitest';
import { ErrProposalDropped } from '../../../src/raft/errors.js';
import { utf8 } from '../../../src/base/bytes.js';
import { StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

describe('leader transfer', () => {
  it('a lagging target is brought up to date, receives TimeoutNow and wins the next term', () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: true, checkQuorum: true });
    c.campaign(1n);
    c.isolate(3n);
    c.propose(1n, 'a');
    c.heal();
    c.take();
    c.node(1n).raw.transferLeader(3n);
    // While the transfer is under way the leader refuses proposals.
    expect(() => c.node(1n).raw.propose(utf8('b'))).toThrow(ErrProposalDropped);
    c.stabilize();
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->3 App term=2 index=5 logTerm=2 commit=5 entries=[]",
        "3->1 AppResp term=2 reject index=5 hint=4 hintTerm=2",
        "1->3 App term=2 index=4 logTerm=2 commit=5 entries=[2/5]",
        "3->1 AppResp term=2 index=5",
        "1->3 App term=2 index=5 logTerm=2 commit=5 entries=[]",
        "1->3 TimeoutNow term=2",
        "3->1 AppResp term=2 index=5",
        "3->1 Vote term=3 lastIndex=5 lastTerm=2",
        "3->2 Vote term=3 lastIndex=5 lastTerm=2",
        "1->3 VoteResp term=3 grant",
        "2->3 VoteResp term=3 grant",
        "3->1 App term=3 index=5 logTerm=2 commit=5 entries=[3/6]",
        "3->2 App term=3 index=5 logTerm=2 commit=5 entries=[3/6]",
        "1->3 AppResp term=3 index=6",
        "2->3 AppResp term=3 index=6",
        "3->1 App term=3 index=6 logTerm=3 commit=6 entries=[]",
        "3->2 App term=3 index=6 logTerm=3 commit=6 entries=[]",
        "1->3 AppResp term=3 index=6",
        "2->3 AppResp term=3 index=6",
      ]
    `);
    expect(c.leader()?.id).toBe(3n);
    expect(c.node(3n).raw.status().term).toBe(3n);
    c.propose(3n, 'b');
    expect(c.node(1n).applied).toEqual(['a', 'b']);
  });

  it('a transfer requested at a follower is forwarded to the leader', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.node(2n).raw.transferLeader(2n);
    c.stabilize();
    expect(c.leader()?.id).toBe(2n);
  });

  it('a transfer that cannot finish within an election timeout is abandoned and proposals resume', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.isolate(3n);
    c.node(1n).raw.transferLeader(3n);
    c.stabilize();
    expect(c.node(1n).raw.status().leadTransferee).toBe(3n);
    c.tickAll(10);
    expect(c.node(1n).raw.status().leadTransferee).toBe(0n);
    expect(c.role(1n)).toBe(StateRole.Leader);
    c.propose(1n, 'after');
    expect(c.node(2n).applied).toEqual(['after']);
  });
});
