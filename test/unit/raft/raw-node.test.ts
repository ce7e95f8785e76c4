/** RawNode: the Ready/advance contract and the typed refusals of the driving interface. */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/base/bytes.js';
import { SeededRand } from '../../../src/base/random.js';
import { ErrProposalDropped } from '../../../src/raft/errors.js';
import { RawNode } from '../../../src/raft/raw-node.js';
import { MemoryStorage } from '../../../src/raft/storage.js';
import { EntryType, MessageType, StateRole } from '../../../src/raft/types.js';

function single(storage = new MemoryStorage(), peers: bigint[] | undefined = [1n]): RawNode {
  return new RawNode({ id: 1n, peers, storage, electionTick: 10, heartbeatTick: 1, rand: new SeededRand(7) });
}

describe('RawNode', () => {
  it('the first Ready of a bootstrapped node persists the bootstrap conf change entries, committed', () => {
    const n = single();
    expect(n.hasReady()).toBe(true);
    const rd = n.ready();
    expect(rd.hardState).toEqual({ term: 1n, vote: 0n, commit: 1n });
    expect(rd.entries.map((e) => [e.index, e.term, e.type])).toEqual([[1n, 1n, EntryType.ConfChange]]);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1n]);
    expect(rd.mustSync).toBe(true);
    n.advance(rd);
    expect(n.hasReady()).toBe(false);
  });

  it('a campaign shows up as a soft state change and a synced hard state with our vote', () => {
    const s = new MemoryStorage();
    const n = single(s);
    const boot = n.ready();
    s.append(boot.entries);
    n.advance(boot);
    n.campaign();
    const rd = n.ready();
    expect(rd.softState).toEqual({ leader: 1n, role: StateRole.Leader });
    expect(rd.hardState).toEqual({ term: 2n, vote: 1n, commit: 2n });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([]);
  });

  it('a commit-only change needs no fsync', () => {
    const s = new MemoryStorage();
    const n = new RawNode({ id: 2n, peers: [1n, 2n], storage: s, electionTick: 10, heartbeatTick: 1, rand: new SeededRand(1) });
    const boot = n.ready();
    s.append(boot.entries);
    n.advance(boot);
    n.step({ type: MessageType.App, from: 1n, to: 2n, term: 1n, logTerm: 1n, index: 2n, entries: [], commit: 2n, reject: false, rejectHint: 0n, context: new Uint8Array(0) });
    // The heartbeat-like append changes nothing durable but the leader it names.
    const rd = n.ready();
    expect(rd.softState?.leader).toBe(1n);
    expect(rd.mustSync).toBe(false);
  });

  it('restarts from storage at the applied index without handing out applied entries again', () => {
    const s = new MemoryStorage();
    const n = single(s);
    let rd = n.ready();
    s.append(rd.entries);
    if (rd.hardState) s.setHardState(rd.hardState);
    n.advance(rd);
    n.campaign();
    n.propose(utf8('x'));
    rd = n.ready();
    s.append(rd.entries);
    if (rd.hardState) s.setHardState(rd.hardState);
    n.advance(rd);
    const r2 = new RawNode({ id: 1n, storage: s, electionTick: 10, heartbeatTick: 1, rand: new SeededRand(7), applied: 2n });
    const rd2 = r2.ready();
    expect(rd2.committedEntries.map((e) => e.index)).toEqual([3n]);
    expect(r2.status().term).toBe(2n);
    expect(r2.status().role).toBe(StateRole.Follower);
  });

  it('refuses proposals without a leader with ErrProposalDropped, never silently', () => {
    const n = new RawNode({ id: 1n, peers: [1n, 2n, 3n], storage: new MemoryStorage(), electionTick: 10, heartbeatTick: 1, rand: new SeededRand(3) });
    expect(() => n.propose(utf8('x'))).toThrow(ErrProposalDropped);
    n.campaign(); // now a candidate: still no leader
    expect(() => n.propose(utf8('x'))).toThrow(ErrProposalDropped);
    expect(() => n.readIndex(utf8('r'))).toThrow(ErrProposalDropped);
  });

  it('drops local-only message types arriving from the network', () => {
    const n = new RawNode({ id: 1n, peers: [1n, 2n, 3n], storage: new MemoryStorage(), electionTick: 10, heartbeatTick: 1, rand: new SeededRand(3) });
    n.advance(n.ready());
    n.step({ type: MessageType.Hup, from: 2n, to: 1n, term: 0n, logTerm: 0n, index: 0n, entries: [], commit: 0n, reject: false, rejectHint: 0n, context: new Uint8Array(0) });
    expect(n.status().role).toBe(StateRole.Follower);
    expect(n.hasReady()).toBe(false);
  });
});
