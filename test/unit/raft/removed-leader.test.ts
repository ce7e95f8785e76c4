/** Transcript: a leader that applies its own removal steps down and hands leadership to a caught-up voter. */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/base/bytes.js';
import { ErrProposalDropped } from '../../../src/raft/errors.js';
import { ConfChangeType, StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

describe('removed leader', () => {
  it('steps down when it applies its removal, hands off with TimeoutNow, and never campaigns again', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.take();
    c.proposeConfChange(1n, { type: ConfChangeType.RemoveNode, nodeId: 1n, context: new Uint8Array(0) });
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->2 App term=2 index=4 logTerm=2 commit=4 entries=[2/5]",
        "1->3 App term=2 index=4 logTerm=2 commit=4 entries=[2/5]",
        "2->1 AppResp term=2 index=5",
        "3->1 AppResp term=2 index=5",
        "1->2 App term=2 index=5 logTerm=2 commit=5 entries=[]",
        "1->3 App term=2 index=5 logTerm=2 commit=5 entries=[]",
        "1->2 TimeoutNow term=2",
        "2->1 AppResp term=2 index=5",
        "3->1 AppResp term=2 index=5",
        "2->3 Vote term=3 lastIndex=5 lastTerm=2",
        "3->2 VoteResp term=3 grant",
        "2->3 App term=3 index=5 logTerm=2 commit=5 entries=[3/6]",
        "3->2 AppResp term=3 index=6",
        "2->3 App term=3 index=6 logTerm=3 commit=6 entries=[]",
        "3->2 AppResp term=3 index=6",
      ]
    `);
    expect(c.role(1n)).toBe(StateRole.Follower);
    expect(c.node(1n).confState.voters).toEqual([2n, 3n]);
    expect(() => c.node(1n).raw.propose(utf8('x'))).toThrow(ErrProposalDropped);
    for (let t = 0; t < 60 && c.leader() === undefined; t++) c.tickAll();
    const l = c.leader();
    expect(l?.id === 2n || l?.id === 3n).toBe(true);
    c.isolate(1n);
    for (let t = 0; t < 60; t++) c.tick(1n);
    c.stabilize();
    expect(c.role(1n)).toBe(StateRole.Follower);
    c.heal();
    c.propose(l?.id ?? 0n, 'after');
    expect(c.node(2n).applied).toEqual(['after']);
  });

  it('a removed follower stops counting toward the quorum', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.proposeConfChange(1n, { type: ConfChangeType.RemoveNode, nodeId: 3n, context: new Uint8Array(0) });
    c.isolate(3n);
    c.propose(1n, 'x'); // 1 and 2 are a quorum of the two remaining voters
    expect(c.node(2n).applied).toEqual(['x']);
  });
});
