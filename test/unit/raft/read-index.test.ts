/** Transcript: ReadIndex (thesis §6.4): a new leader serves reads only after committing an entry of its term; concurrent reads share one heartbeat round. */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/base/bytes.js';
import { ErrProposalDropped } from '../../../src/raft/errors.js';
import { MessageType } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

const dec = new TextDecoder();

describe('ReadIndex', () => {
  it('a new leader holds reads until the empty entry of its term commits, then answers at that commit index', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.drop(MessageType.AppResp); // the new leader's empty entry cannot commit yet
    c.campaign(1n);
    expect(c.node(1n).raw.status().commit).toBe(3n);
    c.node(1n).raw.readIndex(utf8('r1'));
    c.stabilize();
    expect(c.node(1n).readStates).toEqual([]);
    c.take();
    c.heal();
    c.tickAll(1);
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->2 Heartbeat term=2 commit=0",
        "1->3 Heartbeat term=2 commit=0",
        "2->1 HeartbeatResp term=2",
        "3->1 HeartbeatResp term=2",
        "1->2 App term=2 index=3 logTerm=1 commit=3 entries=[2/4]",
        "1->3 App term=2 index=3 logTerm=1 commit=3 entries=[2/4]",
        "2->1 AppResp term=2 index=4",
        "3->1 AppResp term=2 index=4",
        "1->2 App term=2 index=4 logTerm=2 commit=4 entries=[]",
        "1->3 App term=2 index=4 logTerm=2 commit=4 entries=[]",
        "1->2 Heartbeat term=2 commit=4 read-round",
        "1->3 Heartbeat term=2 commit=4 read-round",
        "2->1 AppResp term=2 index=4",
        "2->1 HeartbeatResp term=2",
        "3->1 AppResp term=2 index=4",
        "3->1 HeartbeatResp term=2",
      ]
    `);
    expect(c.node(1n).readStates.map((r) => [r.index, dec.decode(r.ctx)])).toEqual([[4n, 'r1']]);
  });

  it('reads issued together are confirmed by one heartbeat round', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.take();
    for (const r of ['a', 'b', 'c']) c.node(1n).raw.readIndex(utf8(r));
    c.stabilize();
    const t = c.take();
    expect(t).toMatchInlineSnapshot(`
      [
        "1->2 Heartbeat term=2 commit=4 read-round",
        "1->3 Heartbeat term=2 commit=4 read-round",
        "2->1 HeartbeatResp term=2",
        "3->1 HeartbeatResp term=2",
      ]
    `);
    expect(t.filter((l) => l.includes('Heartbeat '))).toHaveLength(2);
    expect(c.node(1n).readStates.map((r) => dec.decode(r.ctx))).toEqual(['a', 'b', 'c']);
  });

  it('a follower forwards its read to the leader and gets the read index back', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.propose(1n, 'w');
    c.take();
    c.node(3n).raw.readIndex(utf8('f'));
    c.stabilize();
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "3->1 ReadIndex term=0",
        "1->2 Heartbeat term=2 commit=5 read-round",
        "1->3 Heartbeat term=2 commit=5 read-round",
        "2->1 HeartbeatResp term=2",
        "3->1 HeartbeatResp term=2",
        "1->3 ReadIndexResp term=2 index=5",
      ]
    `);
    expect(c.node(3n).readStates.map((r) => [r.index, dec.decode(r.ctx)])).toEqual([[5n, 'f']]);
  });

  it('a deposed leader cut off from the quorum cannot confirm a read', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.isolate(1n);
    c.campaign(2n);
    c.propose(2n, 'w');
    c.node(1n).raw.readIndex(utf8('stale'));
    c.tickAll(3);
    expect(c.node(1n).readStates).toEqual([]);
  });

  it('a read with no known leader is refused with ErrProposalDropped', () => {
    const c = new Cluster([1n, 2n, 3n]);
    expect(() => c.node(2n).raw.readIndex(utf8('x'))).toThrow(ErrProposalDropped);
  });
});
