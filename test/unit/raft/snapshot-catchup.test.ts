/** Transcript: a lagging follower whose entries were compacted is caught up by a snapshot (Raft §7). */
import { describe, expect, it } from 'vitest';
import { ProgressState } from '../../../src/raft/progress.js';
import { MessageType } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

describe('snapshot catch-up', () => {
  it('the leader sends its snapshot to a follower that needs compacted entries; the follower installs it and replicates on', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.isolate(3n);
    for (const x of ['a', 'b', 'c']) c.propose(1n, x);
    c.snapshotAndCompact(1n);
    expect(c.node(1n).storage.firstIndex()).toBe(8n);
    c.take();
    c.heal();
    c.tickAll(1);
    expect(c.take()).toMatchInlineSnapshot(`
      [
        "1->2 Heartbeat term=2 commit=7",
        "1->3 Heartbeat term=2 commit=4",
        "2->1 HeartbeatResp term=2",
        "3->1 HeartbeatResp term=2",
        "1->3 App term=2 index=7 logTerm=2 commit=7 entries=[]",
        "3->1 AppResp term=2 reject index=7 hint=4 hintTerm=2",
        "1->3 Snap term=2 snapshot=2/7",
        "3->1 AppResp term=2 index=7",
        "1->3 App term=2 index=7 logTerm=2 commit=7 entries=[]",
        "3->1 AppResp term=2 index=7",
      ]
    `);
    expect(c.node(3n).storage.snapshot().metadata.index).toBe(7n);
    expect(c.node(3n).applied).toEqual(['a', 'b', 'c']);
    expect(c.node(1n).raw.status().progress.get(3n)?.state).toBe(ProgressState.Replicate);
    c.propose(1n, 'd');
    expect(c.node(3n).applied).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a failed snapshot send is reported and the leader tries again', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.isolate(3n);
    c.propose(1n, 'a');
    c.snapshotAndCompact(1n);
    c.heal();
    c.drop(MessageType.Snap); // the snapshot is lost on the way
    c.tickAll(1);
    expect(c.node(1n).raw.status().progress.get(3n)?.state).toBe(ProgressState.Snapshot);
    c.node(1n).raw.reportSnapshot(3n, false);
    expect(c.node(1n).raw.status().progress.get(3n)?.state).toBe(ProgressState.Probe);
    c.heal();
    c.tickAll(2);
    expect(c.node(3n).applied).toEqual(['a']);
  });
});
