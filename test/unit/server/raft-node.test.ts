/**
 * The raft loop's leader sends its messages before its own write has landed (it writes in
 * parallel with its followers, Raft thesis §10.2.1), but the core counts the leader's own new
 * entries toward commit at once. So the commit index in those early messages could name
 * entries that were on no disk but the followers' being written: with one voter and a learner,
 * the learner applied an entry the leader then lost in a crash, and the leader wrote another
 * entry at that index — the members diverged (found by the whole-member simulator, seed 818).
 * No message may leave the leader with a commit index beyond what the leader itself holds on
 * disk (or a majority of followers confirmed, which the leader cannot tell apart here).
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { RawNode } from '../../../src/raft/raw-node.js';
import { MemoryStorage } from '../../../src/raft/storage.js';
import { decodeConfChange, EntryType, message, MessageType, StateRole, type Message } from '../../../src/raft/types.js';
import { RaftNode } from '../../../src/server/raft-node.js';

/** The loop effects these tests do not look at. */
const idle = {
  onSoftState: (): void => undefined,
  onReadStates: (): void => undefined,
  afterAdvance: async (): Promise<void> => undefined,
  onFatal: (e: unknown): void => {
    throw e;
  },
};

/** Lets the event loop turn n times (the loop runs on setImmediate). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('raft loop: what the leader sends before its own write lands', () => {
  it('never carries a commit index beyond the entries on the leader\'s disk (one voter and a learner)', async () => {
    const storage = new MemoryStorage();
    const core = new RawNode({ id: 1n, peers: [1n], learners: [2n], electionTick: 10, heartbeatTick: 1, storage, rand: new SeededRand(7) });
    let durable = 0n;
    const sent: { m: Message; durable: bigint; committed: bigint }[] = [];
    const writes: (() => void)[] = [];
    const node = new RaftNode(core, {
      persist: (rd) =>
        new Promise<void>((resolve) => {
          // The write lands when the test says so.
          writes.push(() => {
            if (rd.snapshot) storage.applySnapshot(rd.snapshot);
            if (rd.entries.length > 0) storage.append(rd.entries);
            if (rd.hardState) storage.setHardState(rd.hardState);
            const last = rd.entries[rd.entries.length - 1];
            if (last) durable = last.index;
            resolve();
          });
        }),
      send: (msgs) => {
        for (const m of msgs) sent.push({ m, durable, committed: core.raft.log.committed });
      },
      restore: async () => undefined,
      apply: async (entries) => {
        for (const e of entries) if (e.type === EntryType.ConfChange) core.applyConfChange(decodeConfChange(e.data));
      },
      ...idle,
    });
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setImmediate(r));
        const w = writes.shift();
        if (w) w();
      }
    };
    node.kick(); // the bootstrap entries: persisted and applied first
    await settle();
    node.input(() => core.campaign());
    await settle();
    expect(core.raft.state).toBe(StateRole.Leader);
    for (let i = 0; i < 5; i++) {
      node.input(() => core.propose(new Uint8Array([i])));
      await settle();
      node.input(() => core.tick());
      await settle();
    }
    const toLearner = sent.filter(({ m }) => m.to === 2n && (m.type === MessageType.App || m.type === MessageType.Heartbeat));
    expect(toLearner.length).toBeGreaterThan(0);
    const early = toLearner.filter(({ m, durable: d }) => m.commit > d).map(({ m, durable: d }) => `${MessageType[m.type]} commit ${m.commit} with ${d} on the leader's disk`);
    expect(early).toEqual([]);
    // The situation did arise: the core counted unwritten entries as committed when it sent.
    expect(toLearner.some(({ durable: d, committed }) => committed > d)).toBe(true);
  });
});

describe('raft loop: pipelining (apply overlaps the next write)', () => {
  it("applies a Ready's newly durable entries after the next Ready's write is issued, never before they are durable; conf changes before advance", async () => {
    const storage = new MemoryStorage();
    const core = new RawNode({ id: 1n, peers: [1n], electionTick: 10, heartbeatTick: 1, storage, rand: new SeededRand(3) });
    let durable = 0n;
    const events: string[] = [];
    const writes: (() => void)[] = [];
    const applied: bigint[] = [];
    const node = new RaftNode(core, {
      persist: (rd) =>
        new Promise<void>((resolve) => {
          const last = rd.entries[rd.entries.length - 1];
          if (last) events.push(`write ${last.index}`);
          writes.push(() => {
            if (rd.entries.length > 0) storage.append(rd.entries);
            if (rd.hardState) storage.setHardState(rd.hardState);
            if (last) durable = last.index;
            resolve();
          });
        }),
      send: () => undefined,
      restore: async () => undefined,
      apply: async (entries) => {
        for (const e of entries) {
          // Never an entry that is not on this member's disk.
          expect(e.index <= durable).toBe(true);
          applied.push(e.index);
          if (e.type === EntryType.ConfChange) core.applyConfChange(decodeConfChange(e.data));
        }
        events.push(`apply ${entries[0]?.index}..${entries[entries.length - 1]?.index}`);
      },
      ...idle,
    });
    const land = async (): Promise<void> => {
      await turns(3);
      writes.shift()?.();
      await turns(3);
    };
    node.kick();
    await land(); // bootstrap conf change (index 1): written, then applied before advance
    expect(events).toEqual(['write 1', 'apply 1..1']);
    node.input(() => core.campaign());
    for (let i = 0; i < 4; i++) await land();
    expect(core.raft.state).toBe(StateRole.Leader);
    const lead = core.raft.log.lastIndex(); // the new term's empty entry
    await turns(5);
    events.length = 0;
    node.input(() => core.propose(new Uint8Array([1])));
    await turns(3);
    expect(events).toEqual([`write ${lead + 1n}`]);
    // A second proposal arrives while the first is being written: it goes out in the next Ready.
    node.input(() => core.propose(new Uint8Array([2])));
    writes.shift()?.();
    await turns(5);
    // The first entry is applied only once the second Ready's write was issued.
    expect(events).toEqual([`write ${lead + 1n}`, `write ${lead + 2n}`, `apply ${lead + 1n}..${lead + 1n}`]);
    writes.shift()?.();
    await turns(5);
    // No Ready follows: the second entry is applied at once.
    expect(events[events.length - 1]).toBe(`apply ${lead + 2n}..${lead + 2n}`);
    expect(applied.slice(-2)).toEqual([lead + 1n, lead + 2n]);
    await node.stop();
  });
});

describe('raft loop: a snapshot after deferred entries', () => {
  it("applies a follower's deferred entries before the snapshot that follows them is persisted", async () => {
    const storage = new MemoryStorage();
    const core = new RawNode({ id: 2n, peers: [1n, 2n], electionTick: 10, heartbeatTick: 1, storage, rand: new SeededRand(5) });
    const events: string[] = [];
    let hold: (() => void) | null = null;
    let holding = false;
    const node = new RaftNode(core, {
      persist: async (rd) => {
        if (rd.snapshot) {
          events.push(`persist snapshot ${rd.snapshot.metadata.index}`);
          storage.applySnapshot(rd.snapshot);
        }
        // The test holds a write in flight when it asks to.
        if (holding) await new Promise<void>((resolve) => (hold = resolve));
        if (rd.entries.length > 0) storage.append(rd.entries);
        if (rd.hardState) storage.setHardState(rd.hardState);
      },
      send: () => undefined,
      restore: async (snap) => void events.push(`restore ${snap.metadata.index}`),
      apply: async (entries) => {
        for (const e of entries) if (e.type === EntryType.ConfChange) core.applyConfChange(decodeConfChange(e.data));
        events.push(`apply ${entries[0]?.index}..${entries[entries.length - 1]?.index}`);
      },
      ...idle,
    });
    node.kick();
    await turns(5); // the bootstrap conf changes (1, 2)
    events.length = 0;
    // The leader (1) appends entry 3 and commits it in one message: applied by the next Ready.
    const e3 = { term: 2n, index: 3n, type: EntryType.Normal, data: new Uint8Array([3]) };
    const app = message({ type: MessageType.App, from: 1n, to: 2n, term: 2n, logTerm: 1n, index: 2n, entries: [e3], commit: 3n });
    // …and right behind it, a snapshot at 10 (the follower is to catch up from it).
    const snap = message({
      type: MessageType.Snap,
      from: 1n,
      to: 2n,
      term: 2n,
      snapshot: { metadata: { index: 10n, term: 2n, confState: { voters: [1n, 2n], learners: [] } }, data: new Uint8Array(0) },
    });
    holding = true;
    node.input(() => core.step(app));
    await turns(2);
    expect(hold).not.toBeNull(); // entry 3's write is in flight…
    holding = false;
    node.input(() => core.step(snap)); // …when the snapshot arrives: it waits for the next Ready
    (hold as unknown as () => void)();
    await turns(10);
    expect(events).toEqual(['apply 3..3', 'persist snapshot 10', 'restore 10']);
  });
});
