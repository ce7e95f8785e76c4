/** Transcript: a follower with a divergent log is repaired by the leader (Raft §5.3, fast backtracking). */
import { describe, expect, it } from 'vitest';
import { StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

describe('divergent log repair', () => {
  it("an old leader's uncommitted entries are replaced by the new leader's log in one backtracking step", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.isolate(1n);
    // Stranded leader 1 appends five entries nobody else gets.
    for (const x of ['a', 'b', 'c', 'd', 'e']) c.propose(1n, x);
    c.campaign(2n);
    c.propose(2n, 'X');
    c.propose(2n, 'Y');
    // 3 takes over from 2 (1 still cut off): its first probe of 1 starts at its own last index.
    c.campaign(3n);
    expect(c.logOf(1n).slice(3)).toMatchInlineSnapshot(`
      [
        "2/4",
        "2/5",
        "2/6",
        "2/7",
        "2/8",
        "2/9",
      ]
    `);
    expect(c.logOf(3n).slice(3)).toMatchInlineSnapshot(`
      [
        "2/4",
        "3/5",
        "3/6",
        "3/7",
        "4/8",
      ]
    `);
    c.take();
    c.heal();
    c.tickAll(1); // a heartbeat from 3 makes 1 a follower; the leader probes it
    const t = c.take();
    expect(t).toMatchInlineSnapshot(`
      [
        "1->2 Heartbeat term=2 commit=4",
        "1->3 Heartbeat term=2 commit=4",
        "3->1 Heartbeat term=4 commit=0",
        "3->2 Heartbeat term=4 commit=8",
        "1->3 HeartbeatResp term=4",
        "2->3 HeartbeatResp term=4",
        "3->1 App term=4 index=7 logTerm=3 commit=8 entries=[4/8]",
        "1->3 AppResp term=4 reject index=7 hint=7 hintTerm=2",
        "3->1 App term=4 index=4 logTerm=2 commit=8 entries=[3/5 3/6 3/7 4/8]",
        "1->3 AppResp term=4 index=8",
        "3->1 App term=4 index=8 logTerm=4 commit=8 entries=[]",
        "1->3 AppResp term=4 index=8",
      ]
    `);
    // Fast backtracking: one rejection carries a hint past all five term-2 entries.
    expect(t.filter((l) => l.includes('reject')).length).toBe(1);
    expect(c.role(1n)).toBe(StateRole.Follower);
    expect(c.logOf(1n)).toEqual(c.logOf(3n));
    expect(c.node(1n).applied).toEqual(['X', 'Y']);
  });
});
