/** Transcript: adding a learner (it replicates but never votes or counts) and promoting it. */
import { describe, expect, it } from 'vitest';
import { ConfChangeType, StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

const cc = (type: ConfChangeType, nodeId: bigint) => ({ type, nodeId, context: new Uint8Array(0) });

describe('learners', () => {
  it('a new learner catches up from the log, never campaigns, and its acks do not count toward commit; promoted, it votes', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.propose(1n, 'a');
    c.addNode(4n); // a fresh member process with no configuration of its own
    c.take();
    c.proposeConfChange(1n, cc(ConfChangeType.AddLearnerNode, 4n));
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->2 App term=2 index=5 logTerm=2 commit=5 entries=[2/6]",
        "1->3 App term=2 index=5 logTerm=2 commit=5 entries=[2/6]",
        "2->1 AppResp term=2 index=6",
        "3->1 AppResp term=2 index=6",
        "1->2 App term=2 index=6 logTerm=2 commit=6 entries=[]",
        "1->3 App term=2 index=6 logTerm=2 commit=6 entries=[]",
        "1->4 App term=2 index=6 logTerm=2 commit=6 entries=[]",
        "2->1 AppResp term=2 index=6",
        "3->1 AppResp term=2 index=6",
        "4->1 AppResp term=2 reject index=6 hint=0 hintTerm=0",
        "1->4 App term=2 index=0 logTerm=0 commit=6 entries=[1/1 1/2 1/3 2/4 2/5 2/6]",
        "4->1 AppResp term=2 index=6",
        "1->4 App term=2 index=6 logTerm=2 commit=6 entries=[]",
        "4->1 AppResp term=2 index=6",
      ]
    `);
    expect(c.node(1n).confState).toEqual({ voters: [1n, 2n, 3n], learners: [4n] });
    expect(c.node(4n).applied).toEqual(['a']);
    expect(c.node(4n).confState).toEqual({ voters: [1n, 2n, 3n], learners: [4n] });

    // A learner never campaigns.
    c.isolate(4n);
    for (let t = 0; t < 50; t++) c.tick(4n);
    c.stabilize();
    expect(c.role(4n)).toBe(StateRole.Follower);
    c.heal();

    // Only voters count: with 2 and 3 cut off, the learner's ack cannot commit anything.
    c.isolate(2n);
    c.isolate(3n);
    c.reconnect(4n);
    c.reconnect(1n);
    c.isolate(2n);
    c.isolate(3n);
    c.propose(1n, 'b');
    expect(c.node(4n).raw.raft.log.lastIndex()).toBe(c.node(1n).raw.raft.log.lastIndex());
    expect(c.node(1n).applied).toEqual(['a']);
    c.heal();
    c.tickAll(2);
    expect(c.node(1n).applied).toEqual(['a', 'b']);

    // Promote: AddNode on a learner.
    c.proposeConfChange(1n, cc(ConfChangeType.AddNode, 4n));
    expect(c.node(1n).confState).toEqual({ voters: [1n, 2n, 3n, 4n], learners: [] });
    expect(c.node(4n).confState).toEqual({ voters: [1n, 2n, 3n, 4n], learners: [] });
    // Now 4 counts: with 1 isolated, 2, 3 and 4 form a quorum of four and 4 can win.
    c.isolate(1n);
    c.campaign(4n);
    expect(c.role(4n)).toBe(StateRole.Leader);
  });

  it('a leader has at most one conf change pending: a second proposal is refused until the first applies', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.addNode(4n);
    c.addNode(5n);
    c.isolate(2n);
    c.isolate(3n);
    c.node(1n).raw.proposeConfChange(cc(ConfChangeType.AddLearnerNode, 4n));
    expect(() => c.node(1n).raw.proposeConfChange(cc(ConfChangeType.AddLearnerNode, 5n))).toThrow('pending');
    c.heal();
    c.stabilize();
    c.proposeConfChange(1n, cc(ConfChangeType.AddLearnerNode, 5n));
    expect(c.node(1n).confState.learners).toEqual([4n, 5n]);
  });
});
