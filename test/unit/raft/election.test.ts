import { describe, expect, it } from 'vitest';
import { StateRole } from '../../../src/raft/types.js';
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
});
