/**
 * Transcript: pre-vote (thesis §9.6) and check-quorum (thesis §6.2). A partitioned node that
 * rejoins does not disrupt the leader; a leader cut off from its quorum steps down.
 */
import { describe, expect, it } from 'vitest';
import { StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

describe('pre-vote and check-quorum', () => {
  it('with pre-vote, a partitioned follower does not raise its term and rejoins without disrupting the leader', () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: true, checkQuorum: true });
    c.campaign(1n);
    c.isolate(3n);
    for (let t = 0; t < 50; t++) c.tickAll();
    expect(c.node(3n).raw.status().term).toBe(2n); // pre-votes failed, the term stayed
    c.take();
    c.heal();
    c.tickAll(3);
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->2 Heartbeat term=2 commit=4",
        "1->3 Heartbeat term=2 commit=4",
        "2->1 HeartbeatResp term=2",
        "3->1 HeartbeatResp term=2",
        "1->2 Heartbeat term=2 commit=4",
        "1->3 Heartbeat term=2 commit=4",
        "2->1 HeartbeatResp term=2",
        "3->1 HeartbeatResp term=2",
        "1->2 Heartbeat term=2 commit=4",
        "1->3 Heartbeat term=2 commit=4",
        "2->1 HeartbeatResp term=2",
        "3->1 HeartbeatResp term=2",
      ]
    `);
    expect(c.leader()?.id).toBe(1n);
    expect(c.node(1n).raw.status().term).toBe(2n);
    expect(c.node(3n).raw.status().leader).toBe(1n);
  });

  it('without pre-vote, the same rejoining follower forces a new election at a higher term', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.isolate(3n);
    for (let t = 0; t < 50; t++) c.tickAll();
    expect(c.node(3n).raw.status().term).toBeGreaterThan(2n);
    c.heal();
    c.tickAll(3);
    for (let t = 0; t < 100 && c.leader() === undefined; t++) c.tickAll();
    expect(c.leader()?.raw.status().term).toBeGreaterThan(2n);
  });

  it('with check-quorum, a leader that hears from no quorum for an election timeout steps down', () => {
    const c = new Cluster([1n, 2n, 3n], { checkQuorum: true, preVote: true });
    c.campaign(1n);
    c.isolate(1n);
    c.take();
    // Within the first election timeout 1 may still count the acks it had; by the second it must go.
    for (let t = 0; t < 20; t++) c.tickAll();
    expect(c.role(1n)).toBe(StateRole.Follower);
    for (let t = 0; t < 100 && c.leader() === undefined; t++) c.tickAll();
    const newLeader = c.leader();
    expect(newLeader?.id === 2n || newLeader?.id === 3n).toBe(true);
    c.heal();
    c.tickAll(5);
    expect(c.node(1n).raw.status().leader).toBe(newLeader?.id);
    expect(c.node(1n).raw.status().term).toBe(newLeader?.raw.status().term);
  });

  it('with check-quorum, followers ignore vote requests while they hear from a leader (lease)', () => {
    const c = new Cluster([1n, 2n, 3n], { checkQuorum: true });
    c.campaign(1n);
    c.tickAll(2);
    c.take();
    // 3 campaigns on its own (as a partitioned node would) while 1 is alive.
    c.node(3n).raw.campaign();
    c.stabilize();
    expect(c.take().filter((l) => l.includes('Vote'))).toMatchInlineSnapshot(`
      [
        "3->1 Vote term=3 lastIndex=4 lastTerm=2",
        "3->2 Vote term=3 lastIndex=4 lastTerm=2",
      ]
    `);
    expect(c.node(2n).raw.status().term).toBe(2n);
  });
});
