/**
 * Single-step membership changes (one at a time, effective when applied, as etcd): the guards
 * that keep apply-time changes safe (thesis §4.1 and the single-server change fix).
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { ErrProposalDropped } from '../../../src/raft/errors.js';
import { RawNode } from '../../../src/raft/raw-node.js';
import { MemoryStorage } from '../../../src/raft/storage.js';
import { ConfChangeType, encodeConfChange, EntryType, message, MessageType, StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

const cc = (type: ConfChangeType, nodeId: bigint) => ({ type, nodeId, context: new Uint8Array(0) });

describe('membership changes', () => {
  it('a node with a committed conf change it has not applied yet does not campaign', () => {
    const s = new MemoryStorage();
    const n = new RawNode({ id: 2n, peers: [1n, 2n, 3n], storage: s, electionTick: 10, heartbeatTick: 1, rand: new SeededRand(1) });
    let rd = n.ready();
    s.append(rd.entries);
    n.advance(rd);
    // The leader (1, term 1) appends and commits a conf change at index 4.
    const entry = { term: 1n, index: 4n, type: EntryType.ConfChange, data: encodeConfChange(cc(ConfChangeType.AddNode, 4n)) };
    n.step(message({ type: MessageType.App, from: 1n, to: 2n, term: 1n, index: 3n, logTerm: 1n, entries: [entry], commit: 4n }));
    rd = n.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([4n]);
    s.append(rd.entries);
    // Before the application applies it (between ready and advance), a campaign is refused.
    n.campaign();
    expect(n.status().role).toBe(StateRole.Follower);
    n.applyConfChange(cc(ConfChangeType.AddNode, 4n));
    n.advance(rd);
    n.campaign();
    expect(n.status().role).toBe(StateRole.Candidate);
  });

  it('a new leader accepts no conf change until the empty entry of its term is applied', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.drop(MessageType.AppResp); // the new leader cannot commit its empty entry yet
    c.campaign(1n);
    expect(() => c.node(1n).raw.proposeConfChange(cc(ConfChangeType.RemoveNode, 3n))).toThrow(ErrProposalDropped);
    c.heal();
    c.tickAll(1);
    c.proposeConfChange(1n, cc(ConfChangeType.RemoveNode, 3n));
    expect(c.node(1n).confState.voters).toEqual([1n, 2n]);
  });

  it('adding a voter grows the quorum at once: four voters need three acks', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.campaign(1n);
    c.addNode(4n);
    c.proposeConfChange(1n, cc(ConfChangeType.AddNode, 4n));
    expect(c.node(1n).confState.voters).toEqual([1n, 2n, 3n, 4n]);
    c.isolate(3n);
    c.isolate(4n);
    c.reconnect(1n);
    c.isolate(3n);
    c.isolate(4n);
    c.propose(1n, 'x'); // only 1 and 2 have it: 2 of 4 is no quorum
    expect(c.node(1n).applied).toEqual([]);
    c.heal();
    c.tickAll(2);
    expect(c.node(1n).applied).toEqual(['x']);
    expect(c.node(4n).applied).toEqual(['x']);
  });

  it('removing a voter shrinks the quorum: a pending entry commits once the removal applies', () => {
    const c = new Cluster([1n, 2n, 3n, 4n]);
    c.campaign(1n);
    c.proposeConfChange(1n, cc(ConfChangeType.RemoveNode, 4n));
    c.isolate(3n);
    c.isolate(4n);
    c.propose(1n, 'y'); // 1 and 2 of {1, 2, 3}: a quorum
    expect(c.node(2n).applied).toEqual(['y']);
  });

  it('removing the last voter is refused (the cluster would have nobody to elect)', () => {
    const c = new Cluster([1n]);
    c.campaign(1n);
    c.proposeConfChange(1n, cc(ConfChangeType.RemoveNode, 1n));
    expect(c.node(1n).confState.voters).toEqual([1n]);
    expect(c.role(1n)).toBe(StateRole.Leader);
  });
});
