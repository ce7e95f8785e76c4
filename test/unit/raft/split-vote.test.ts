/** Transcript: a split vote (Raft §5.2) leaves the term without a leader; randomized timeouts resolve it. */
import { describe, expect, it } from 'vitest';
import { StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

describe('split vote', () => {
  it('two simultaneous candidates split four voters, and a later term elects exactly one leader', () => {
    const c = new Cluster([1n, 2n, 3n, 4n]);
    // 3 hears only candidate 1 first, 4 only candidate 2.
    c.cutLink(1n, 4n);
    c.cutLink(2n, 3n);
    c.node(1n).raw.campaign();
    c.node(2n).raw.campaign();
    c.stabilize();
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->2 Vote term=2 lastIndex=4 lastTerm=1",
        "1->3 Vote term=2 lastIndex=4 lastTerm=1",
        "2->1 Vote term=2 lastIndex=4 lastTerm=1",
        "2->4 Vote term=2 lastIndex=4 lastTerm=1",
        "1->2 VoteResp term=2 reject",
        "2->1 VoteResp term=2 reject",
        "3->1 VoteResp term=2 grant",
        "4->2 VoteResp term=2 grant",
      ]
    `);
    expect(c.role(1n)).toBe(StateRole.Candidate);
    expect(c.role(2n)).toBe(StateRole.Candidate);
    c.heal();
    for (let t = 0; t < 100 && c.leader() === undefined; t++) c.tickAll();
    const leader = c.leader();
    expect(leader).toBeDefined();
    const term = leader?.raw.status().term ?? 0n;
    expect(term).toBeGreaterThan(2n);
    const leaders = [...c.nodes.values()].filter((n) => n.raw.status().role === StateRole.Leader);
    expect(leaders).toHaveLength(1);
  });
});
