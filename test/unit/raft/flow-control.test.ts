/**
 * Replication flow control (etcd's progress tracker): probe → replicate states, at most
 * maxInflightMsgs unacknowledged appends per follower, entries batched per message up to
 * maxSizePerMsg, and recovery when appends in flight are lost.
 */
import { describe, expect, it } from 'vitest';
import { ProgressState } from '../../../src/raft/progress.js';
import { type Message, MessageType } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

describe('flow control', () => {
  it('a follower in replicate state gets at most maxInflightMsgs unacknowledged appends', () => {
    const c = new Cluster([1n, 2n], { maxInflightMsgs: 2, maxSizePerMsg: 1 });
    c.campaign(1n);
    expect(c.node(1n).raw.status().progress.get(2n)?.state).toBe(ProgressState.Replicate);
    c.drop(MessageType.AppResp); // acks are lost: nothing gets acknowledged
    c.take();
    for (let k = 0; k < 5; k++) c.propose(1n, `e${k}`);
    const apps = c.take().filter((l) => l.startsWith('1->2 App '));
    expect(apps).toMatchInlineSnapshot(`
      [
        "1->2 App term=2 index=3 logTerm=2 commit=3 entries=[2/4]",
        "1->2 App term=2 index=4 logTerm=2 commit=3 entries=[2/5]",
      ]
    `);
    expect(c.node(1n).raw.status().progress.get(2n)?.inflight).toBe(2);
  });

  it('entries are batched per message up to maxSizePerMsg', () => {
    const c = new Cluster([1n, 2n], { maxSizePerMsg: 100 });
    c.campaign(1n);
    c.isolate(2n);
    for (let k = 0; k < 6; k++) c.propose(1n, 'x'.repeat(30)); // 54 bytes each with the header estimate
    c.heal();
    const sizes: number[] = [];
    c.filter = (m: Message) => {
      if (m.type === MessageType.App && m.entries.length > 0) sizes.push(m.entries.length);
      return true;
    };
    c.tickAll(2);
    expect(sizes.every((n) => n <= 2)).toBe(true); // two entries fit in 100 bytes, three do not
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(6);
    expect(c.node(2n).applied).toHaveLength(6);
  });

  it('lost appends are recovered: a heartbeat response frees a slot, the gap is rejected, the leader probes and resends', () => {
    const c = new Cluster([1n, 2n], { maxInflightMsgs: 1, maxSizePerMsg: 1 });
    c.campaign(1n);
    c.drop(MessageType.App);
    c.propose(1n, 'a');
    c.propose(1n, 'b');
    expect(c.node(1n).raw.status().progress.get(2n)?.inflight).toBe(1);
    c.heal();
    c.take();
    c.tickAll(1);
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->2 Heartbeat term=2 commit=3",
        "2->1 HeartbeatResp term=2",
        "1->2 App term=2 index=4 logTerm=2 commit=3 entries=[2/5]",
        "2->1 AppResp term=2 reject index=4 hint=3 hintTerm=2",
        "1->2 App term=2 index=3 logTerm=2 commit=3 entries=[2/4]",
        "2->1 AppResp term=2 index=4",
        "1->2 App term=2 index=4 logTerm=2 commit=4 entries=[2/5]",
        "2->1 AppResp term=2 index=5",
        "1->2 App term=2 index=5 logTerm=2 commit=5 entries=[]",
        "2->1 AppResp term=2 index=5",
      ]
    `);
    expect(c.node(2n).applied).toEqual(['a', 'b']);
  });

  it('a follower that restarts and lost nothing persisted is re-probed from its acknowledged index', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.propose(1n, 'a');
    c.restart(3n);
    c.propose(1n, 'b');
    expect(c.node(3n).applied).toEqual(['a', 'b']);
  });
});
