/** Transcript: leader election (Raft §5.2), including the single-voter and persisted-vote cases. */
import { describe, expect, it } from 'vitest';
import { MessageType, StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

describe('leader election (Raft §5.2)', () => {
  it('a campaigning node wins a three-node election and commits an empty entry of its term', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->2 Vote term=2 lastIndex=3 lastTerm=1",
        "1->3 Vote term=2 lastIndex=3 lastTerm=1",
        "2->1 VoteResp term=2 grant",
        "3->1 VoteResp term=2 grant",
        "1->2 App term=2 index=3 logTerm=1 commit=3 entries=[2/4]",
        "1->3 App term=2 index=3 logTerm=1 commit=3 entries=[2/4]",
        "2->1 AppResp term=2 index=4",
        "3->1 AppResp term=2 index=4",
        "1->2 App term=2 index=4 logTerm=2 commit=4 entries=[]",
        "1->3 App term=2 index=4 logTerm=2 commit=4 entries=[]",
        "2->1 AppResp term=2 index=4",
        "3->1 AppResp term=2 index=4",
      ]
    `);
    expect(c.role(1n)).toBe(StateRole.Leader);
    expect(c.node(2n).raw.status().leader).toBe(1n);
    expect(c.node(1n).raw.status().term).toBe(2n);
    for (const id of [1n, 2n, 3n]) expect(c.node(id).raw.status().commit).toBe(4n);
  });

  it('a follower campaigns on its own once its randomized election timeout passes', () => {
    const c = new Cluster([1n, 2n, 3n], { electionTick: 10 });
    // The timeout is randomized in [10, 20): nothing before 10 ticks, an election by 20.
    for (let t = 0; t < 9; t++) c.tickAll();
    expect(c.leader()).toBeUndefined();
    for (let t = 0; t < 11 && c.leader() === undefined; t++) c.tickAll();
    expect(c.leader()).toBeDefined();
  });

  it('a single-voter cluster elects itself and commits without sending a message', () => {
    const c = new Cluster([1n]);
    c.campaign(1n);
    c.propose(1n, 'x');
    expect(c.take()).toEqual([]);
    expect(c.role(1n)).toBe(StateRole.Leader);
    expect(c.node(1n).applied).toEqual(['x']);
  });

  it('a node rejects a candidate whose log is behind its own (§5.4.1)', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.isolate(3n);
    c.propose(1n, 'a'); // 3 misses it
    c.heal();
    c.take();
    c.node(3n).raw.campaign();
    c.drop(MessageType.App);
    c.stabilize();
    expect(c.take().filter((l) => l.includes('Vote'))).toMatchInlineSnapshot(`
      [
        "3->1 Vote term=3 lastIndex=4 lastTerm=2",
        "3->2 Vote term=3 lastIndex=4 lastTerm=2",
        "1->3 VoteResp term=3 reject",
        "2->3 VoteResp term=3 reject",
      ]
    `);
    expect(c.role(3n)).not.toBe(StateRole.Leader);
  });

  it('a node remembers its vote across a restart and does not vote twice in a term', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.cutLink(1n, 3n);
    c.campaign(1n); // 2 votes for 1 in term 2
    expect(c.node(2n).storage.initialState().hardState.vote).toBe(1n);
    c.restart(2n);
    c.heal();
    c.cutLink(1n, 2n);
    c.cutLink(1n, 3n);
    // 3 never heard of term 2 and campaigns in it as well: 2 must refuse it.
    expect(c.node(3n).raw.status().term).toBe(1n);
    c.take();
    c.node(3n).raw.campaign();
    c.stabilize();
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "3->2 Vote term=2 lastIndex=3 lastTerm=1",
        "2->3 VoteResp term=2 reject",
      ]
    `);
    expect(c.role(3n)).not.toBe(StateRole.Leader);
  });
});
