/**
 * The Raft paper's safety properties (Figure 3) and the commit rule of §5.4.2 with its Figure 8
 * scenario, each checked on the real core. The randomized checks run a small seeded schedule
 * of campaigns, proposals, partitions and restarts over the synchronous test cluster; the
 * deterministic simulator (test/sim) runs the same properties at scale.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../../src/base/random.js';
import { ErrProposalDropped } from '../../../src/raft/errors.js';
import { type Message, MessageType, StateRole } from '../../../src/raft/types.js';
import { Cluster } from './network.js';

/** Run a seeded schedule of faults and record every (term → leader) seen, after every step. */
function chaos(seed: number, steps: number): { c: Cluster; leaders: Map<bigint, Set<bigint>>; committedAt: Map<bigint, string> } {
  const rand = new SeededRand(seed);
  const ids = [1n, 2n, 3n, 4n, 5n];
  const c = new Cluster(ids, { seed });
  const leaders = new Map<bigint, Set<bigint>>();
  const committedAt = new Map<bigint, string>();
  const observe = (): void => {
    for (const n of c.nodes.values()) {
      const st = n.raw.status();
      if (st.role === StateRole.Leader) {
        const s = leaders.get(st.term) ?? new Set<bigint>();
        s.add(n.id);
        leaders.set(st.term, s);
      }
      // Remember the term of each committed index as first seen; it must never change.
      const log = n.raw.raft.log;
      for (let i = log.firstIndex(); i <= st.commit; i++) {
        const key = `${log.term(i)}`;
        const had = committedAt.get(i);
        if (had === undefined) committedAt.set(i, key);
        else expect(key, `committed entry ${i} changed on node ${n.id}`).toBe(had);
      }
    }
  };
  for (let s = 0; s < steps; s++) {
    const id = ids[rand.int(ids.length)] as bigint;
    const r = rand.int(10);
    if (r < 3) {
      c.node(id).raw.campaign();
    } else if (r < 7) {
      try {
        c.node(id).raw.propose(new TextEncoder().encode(`v${s}`));
      } catch (e) {
        if (!(e instanceof ErrProposalDropped)) throw e;
      }
    } else if (r < 9) {
      c.heal();
      const cut = ids.filter(() => rand.next() < 0.4);
      for (const a of cut) c.isolate(a);
    } else {
      c.restart(id);
    }
    c.stabilize();
    c.tickAll(1);
    observe();
  }
  c.heal();
  for (let t = 0; t < 200 && c.leader() === undefined; t++) c.tickAll();
  c.tickAll(5);
  observe();
  return { c, leaders, committedAt };
}

const runs = new Map<number, ReturnType<typeof chaos>>();
function chaosRun(seed: number): ReturnType<typeof chaos> {
  let r = runs.get(seed);
  if (r === undefined) {
    r = chaos(seed, 60);
    runs.set(seed, r);
  }
  return r;
}
const chaosSeeds = Array.from({ length: 12 }, (_, k) => k + 1);

describe('Raft paper safety properties (Figure 3)', () => {
  it('election safety: at most one leader is elected in a given term (§5.2)', () => {
    for (const seed of chaosSeeds) {
      const { leaders } = chaosRun(seed);
      for (const [term, who] of leaders) expect(who.size, `term ${term} had leaders ${[...who].join(',')} (seed ${seed})`).toBe(1);
    }
  });

  it('log matching: logs that share an entry (index and term) are identical up to it (§5.3)', () => {
    for (const seed of chaosSeeds) {
      const { c } = chaosRun(seed);
      const logs = [...c.nodes.values()].map((n) => n.raw.raft.log);
      for (const a of logs) {
        for (const b of logs) {
          const hi = a.lastIndex() < b.lastIndex() ? a.lastIndex() : b.lastIndex();
          const lo = a.firstIndex() > b.firstIndex() ? a.firstIndex() : b.firstIndex();
          for (let i = hi; i >= lo; i--) {
            if (a.term(i) !== b.term(i)) continue;
            // Same (i, term): every earlier entry must agree, payload included.
            for (let j = lo; j <= i; j++) {
              const ea = a.slice(j, j + 1n, Infinity)[0];
              const eb = b.slice(j, j + 1n, Infinity)[0];
              expect(ea?.term).toBe(eb?.term);
              expect(Buffer.from(ea?.data ?? []).equals(Buffer.from(eb?.data ?? []))).toBe(true);
            }
            break;
          }
        }
      }
    }
  });

  it('leader completeness: a node whose log lacks a committed entry cannot be elected (§5.4.1)', () => {
    const c = new Cluster([1n, 2n, 3n, 4n, 5n]);
    c.campaign(1n);
    c.isolate(4n);
    c.isolate(5n);
    c.propose(1n, 'committed'); // on 1, 2, 3: a quorum
    expect(c.node(1n).applied).toEqual(['committed']);
    c.heal();
    c.isolate(1n);
    c.drop(MessageType.App);
    // 4 and 5 lack the entry; 2 and 3 must refuse them, so neither reaches three votes.
    c.campaign(4n);
    c.campaign(5n);
    expect(c.role(4n)).not.toBe(StateRole.Leader);
    expect(c.role(5n)).not.toBe(StateRole.Leader);
    c.heal();
    c.isolate(1n);
    c.campaign(2n);
    expect(c.role(2n)).toBe(StateRole.Leader);
    c.propose(2n, 'next');
    for (const id of [2n, 3n, 4n, 5n]) expect(c.node(id).applied).toEqual(['committed', 'next']);
  });

  it('state machine safety: every node applies the same sequence of entries (§5.4.3)', () => {
    for (const seed of chaosSeeds) {
      const { c } = chaosRun(seed);
      const all = [...c.nodes.values()].map((n) => n.applied);
      const longest = all.reduce((a, b) => (a.length >= b.length ? a : b));
      for (const a of all) expect(a, `seed ${seed}`).toEqual(longest.slice(0, a.length));
    }
  });

  it('against a dumb model: applied values were all proposed, each at most once, in one order for everybody', () => {
    for (const seed of chaosSeeds) {
      const { c } = chaosRun(seed);
      const proposed = new Set(Array.from({ length: 60 }, (_, s) => `v${s}`));
      for (const n of c.nodes.values()) {
        expect(n.applied.every((v) => proposed.has(v)), `seed ${seed}`).toBe(true);
        expect(new Set(n.applied).size, `seed ${seed}: a value applied twice`).toBe(n.applied.length);
      }
    }
  });

  it('committed entries never change once any node saw them committed (§5.4)', () => {
    for (const seed of chaosSeeds) chaosRun(seed); // observe() asserts on every step
  });
});

function withoutTerm4(m: Message): boolean {
  if (m.type === MessageType.App) m.entries = m.entries.filter((e) => e.term !== 4n);
  return true;
}

describe('the commit rule (§5.4.2, Figure 8)', () => {
  /**
   * Figure 8 with S1..S5 = nodes 1..5. After the bootstrap entries (1..5, term 1) and the first
   * leader's empty entry (6), the figure's index 2 is our index 7.
   */
  function figure8(): Cluster {
    const c = new Cluster([1n, 2n, 3n, 4n, 5n]);
    // (a) S1 leads term 2 and replicates the entry at index 7 to S2 only.
    c.campaign(1n);
    c.isolate(1n);
    c.reconnect(1n);
    c.isolate(3n);
    c.isolate(4n);
    c.isolate(5n);
    c.propose(1n, 'term2');
    expect(c.logOf(2n).at(-1)).toBe('2/7');
    // (b) S1 crashes; S5 wins term 3 with S3 and S4 and appends index 7 in term 3 on itself only.
    c.restart(1n);
    c.heal();
    c.isolate(1n);
    c.isolate(2n);
    c.drop(MessageType.App);
    c.campaign(5n);
    expect(c.role(5n)).toBe(StateRole.Leader);
    expect(c.logOf(5n).at(-1)).toBe('3/7');
    // (c) S5 crashes; S1 restarts and wins term 4 with S2 and S3.
    c.restart(5n);
    c.heal();
    c.isolate(5n);
    c.isolate(4n);
    c.drop(MessageType.App);
    c.campaign(1n); // term 3: S3 already voted for S5, so S1 loses...
    c.campaign(1n); // ...and wins term 4
    expect(c.role(1n)).toBe(StateRole.Leader);
    expect(c.node(1n).raw.status().term).toBe(4n);
    return c;
  }

  it('a leader does not commit an entry of an older term even once it is on a majority', () => {
    const c = figure8();
    c.heal();
    c.isolate(5n);
    c.isolate(4n);
    // S1 replicates the term-2 entry at 7 to S3, but nothing of term 4 yet (it is at 8): the
    // network loses the term-4 part of every append, as if it travelled in a separate message.
    c.filter = withoutTerm4;
    c.tickAll(1);
    expect(['1', '2', '3'].map((id) => c.logOf(BigInt(id))[6])).toEqual(['2/7', '2/7', '2/7']);
    const progress = c.node(1n).raw.status().progress;
    expect([1n, 2n, 3n].map((id) => progress.get(id)?.match)).toEqual([8n, 7n, 7n]); // S1 knows 7 is on a majority
    expect(c.node(1n).raw.status().commit).toBe(6n); // ...and still does not commit it
    expect(c.node(1n).applied).toEqual([]);
  });

  it('(d) the uncommitted older-term entry may be overwritten by a later leader — so it must not have been applied', () => {
    const c = figure8();
    c.heal();
    c.isolate(5n);
    c.isolate(4n);
    c.filter = withoutTerm4;
    c.tickAll(1);
    // S1 crashes again; S5 (last entry term 3) is more up to date than S2, S3, S4 and wins.
    c.restart(1n);
    c.heal();
    c.isolate(1n);
    c.campaign(5n); // term 4: S2 and S3 already voted for S1
    c.campaign(5n); // term 5
    expect(c.role(5n)).toBe(StateRole.Leader);
    for (const id of [2n, 3n, 4n, 5n]) expect(c.logOf(id)[6]).toBe('3/7');
    for (const n of c.nodes.values()) expect(n.applied).not.toContain('term2');
  });

  it('(e) once an entry of its own term is on a majority, the leader commits it and every entry before it', () => {
    const c = figure8();
    c.heal();
    c.isolate(5n);
    c.isolate(4n);
    c.tickAll(1);
    expect(c.node(1n).raw.status().commit).toBe(8n);
    expect(c.node(1n).applied).toEqual(['term2']);
    // S5 can no longer win: S1, S2 and S3 hold a term-4 entry.
    c.heal();
    c.isolate(1n);
    c.drop(MessageType.App);
    c.campaign(5n);
    expect(c.role(5n)).not.toBe(StateRole.Leader);
  });
});
