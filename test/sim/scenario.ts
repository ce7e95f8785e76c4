/**
 * One simulation run = one seed. The seed decides the cluster (1–7 voters, maybe a learner),
 * the Raft options (pre-vote, check-quorum, message size and in-flight limits), the network
 * (loss, duplication, delay/reordering) and the fault schedule (crashes at any point of the
 * Ready loop, symmetric and asymmetric partitions, slow nodes, membership changes, leader
 * transfers, snapshots with compaction), plus client proposals and reads. After the chaos phase
 * the faults stop and the liveness phase requires a leader that commits a new entry everywhere
 * within a bounded number of ticks.
 *
 * Time: a round delivers due messages, may tick, and lets each node handle its Ready; a tick is
 * roundsPerTick rounds, so messages usually arrive well within a heartbeat interval.
 */
import { SeededRand } from '../../src/base/random.js';
import { ConfChangeType, StateRole } from '../../src/raft/types.js';
import { type NetConfig, type Ready, SimCluster, type SimConfig, SimViolation, hexOf, type SimNode } from './cluster.js';

export interface SeedResult {
  seed: number;
  ok: boolean;
  error?: string;
  /** Ticks the liveness phase needed (leader elected and new entry applied everywhere). */
  livenessTicks: number;
  rounds: number;
  summary: string;
  trace?: string[];
}

export interface RunOptions {
  trace?: boolean;
}

const roundsPerTick = 4;
/** Liveness bound: a leader elected and a new entry applied on every member within this many ticks. */
export const livenessTicksMax = 400;

function pick<T>(r: SeededRand, xs: readonly T[]): T {
  return xs[r.int(xs.length)] as T;
}

/** Node ids use the high bits too (etcd member ids span all 64 bits). */
export function simNodeId(k: number): bigint {
  return 0xc0de_0000_0000_0000n | BigInt(k);
}

export function runSeed(seed: number, opts: RunOptions = {}): SeedResult {
  const r = new SeededRand(seed >>> 0);
  const voters0 = pick(r, [1, 2, 3, 3, 3, 4, 5, 5, 5, 6, 7]);
  const learners0 = r.next() < 0.2 ? 1 : 0;
  const cfg: SimConfig = {
    electionTick: 10,
    heartbeatTick: pick(r, [1, 1, 2, 3]),
    preVote: r.next() < 0.7,
    checkQuorum: r.next() < 0.7,
    maxSizePerMsg: pick(r, [64, 256, 1024 * 1024]),
    maxInflightMsgs: pick(r, [1, 2, 4, 256]),
  };
  const chaosNet: NetConfig = {
    lossRate: pick(r, [0, 0.01, 0.05, 0.15]),
    dupRate: pick(r, [0, 0.02, 0.1]),
    delayMaxRounds: pick(r, [1, 2, 4, 8]),
    longDelayRate: pick(r, [0, 0.01, 0.03]),
    longDelayMaxRounds: 60,
  };
  const faults = {
    crash: r.next() < 0.6,
    partition: r.next() < 0.6,
    membership: r.next() < 0.5,
    transfer: r.next() < 0.4,
    snapshot: r.next() < 0.5,
    slow: r.next() < 0.3,
  };
  // A storm seed crashes and isolates leaders often, right after elections: the situations
  // of the paper's Figure 8 (entries of old terms on a minority, competing leaders).
  const storm = faults.crash && r.next() < 0.35;
  const crashRate = storm ? 0.02 : 0.004;
  const chaosTicks = 60 + r.int(140);
  const c = new SimCluster(r, seed, cfg, chaosNet, opts.trace ?? false);

  let nextId = 1;
  const peers: bigint[] = [];
  const learners: bigint[] = [];
  for (let k = 0; k < voters0; k++) peers.push(simNodeId(nextId++));
  for (let k = 0; k < learners0; k++) learners.push(simNodeId(nextId++));
  for (const id of [...peers, ...learners]) c.addNode(id, peers, learners);

  const summary =
    `voters=${voters0} learners=${learners0} preVote=${cfg.preVote} checkQuorum=${cfg.checkQuorum} hb=${cfg.heartbeatTick} ` +
    `maxMsg=${cfg.maxSizePerMsg} inflight=${cfg.maxInflightMsgs} loss=${chaosNet.lossRate} dup=${chaosNet.dupRate} ` +
    `delay=${chaosNet.delayMaxRounds} storm=${storm} faults=${Object.entries(faults).filter(([, v]) => v).map(([k]) => k).join(',')} chaosTicks=${chaosTicks}`;

  let proposalSeq = 0;
  const proposal = (): Uint8Array => {
    const extra = r.int(48);
    const d = new Uint8Array(8 + extra);
    new DataView(d.buffer).setUint32(0, seed >>> 0);
    new DataView(d.buffer).setUint32(4, ++proposalSeq);
    for (let k = 8; k < d.length; k++) d[k] = r.int(256);
    return d;
  };
  const crashedAt = new Map<bigint, number>();
  // Crash a leader right after it persisted a new commit index, before its messages go out: the
  // followers do not know the commit (the instant of the paper's Figure 8, steps c–d).
  const leaderCommitNemesis = (n: SimNode, rd: Ready): 'persist' | undefined => {
    const hs = rd.hardState;
    if (hs === undefined || n.raw?.raft.state !== StateRole.Leader || hs.commit <= n.storage.initialState().hardState.commit) return undefined;
    if (r.next() >= 0.2) return undefined;
    crashedAt.set(n.id, c.round);
    return 'persist';
  };
  let stormTerm = -1n;
  let stormAt = -1;
  let livenessTicks = 0;

  const step = (chaos: boolean): void => {
    c.round++;
    const all = [...c.nodes.values()];
    const live = all.filter((n) => n.live);
    if (chaos) {
      if (live.length > 0 && r.next() < 0.25) c.propose(pick(r, live), proposal());
      if (live.length > 0 && r.next() < 0.08) c.read(pick(r, live));
      if (faults.crash && live.length > 0 && r.next() < crashRate) {
        const l = c.leader();
        const n = l !== undefined && l.live && r.next() < 0.5 ? l : pick(r, live);
        c.crash(n);
        crashedAt.set(n.id, c.round);
      }
      if (storm) {
        // Short-lived leaders: soon after a new leader appears, crash or isolate it, so that
        // entries of many terms end up on different minorities.
        const l = c.leader();
        const term = l?.raw?.raft.term ?? 0n;
        if (l !== undefined && term !== stormTerm) {
          stormTerm = term;
          stormAt = r.next() < 0.6 ? c.round + 1 + r.int(12) : -1;
        }
        if (l !== undefined && c.round === stormAt) {
          if (r.next() < 0.5) {
            c.crash(l);
            crashedAt.set(l.id, c.round);
          } else {
            c.heal();
            for (const o of all) {
              if (o.id === l.id) continue;
              c.block(l.id, o.id);
              c.block(o.id, l.id);
            }
            c.log(() => `ISOLATE leader ${c.name(l.id)}`);
          }
        }
      }
      if (faults.partition && r.next() < 0.004) partition(c, r, all);
      if (faults.partition && r.next() < 0.006) {
        c.heal();
        c.log(() => 'HEAL');
      }
      if (faults.slow && live.length > 0 && r.next() < 0.003) {
        const n = pick(r, live);
        n.slow = !n.slow;
      }
      if (faults.membership && r.next() < 0.006) nextId = changeMembership(c, r, nextId);
      if (faults.transfer && r.next() < 0.003) {
        const l = c.leader();
        const cs = l?.raw?.raft.confState();
        if (l !== undefined && cs !== undefined && cs.voters.length > 1) {
          const to = pick(r, cs.voters);
          c.log(() => `transfer leadership ${c.name(l.id)} → ${c.name(to)}`);
          l.raw?.transferLeader(to);
        }
      }
      if (faults.snapshot && live.length > 0 && r.next() < 0.01) c.snapshotAndCompact(pick(r, live), BigInt(r.int(4)));
      if (live.length > 0 && r.next() < 0.001) pick(r, live).raw?.campaign();
    }
    for (const n of all) {
      if (n.live || n.retired) continue;
      const since = crashedAt.get(n.id) ?? 0;
      if (!chaos || (c.round - since > (storm ? 2 : 8) && r.next() < (storm ? 0.1 : 0.04))) c.start(n);
    }
    c.deliver();
    if (c.round % roundsPerTick === 0) {
      for (const n of c.liveNodes()) if (!n.slow || r.next() < 0.5) c.tick(n);
    }
    for (const n of shuffled(r, c.liveNodes())) {
      if (n.slow && r.next() < 0.7) continue;
      let crashAt: 'persist' | 'send' | undefined;
      if (chaos && faults.crash && r.next() < (storm ? 0.006 : 0.0015)) {
        crashAt = r.next() < 0.5 ? 'persist' : 'send';
        crashedAt.set(n.id, c.round);
      }
      c.processReady(n, crashAt, chaos && storm ? leaderCommitNemesis : undefined);
    }
  };

  try {
    for (let t = 0; t < chaosTicks * roundsPerTick; t++) step(true);

    // Liveness: faults stop; every member still in the configuration comes back.
    c.net = { lossRate: 0, dupRate: 0, delayMaxRounds: 1, longDelayRate: 0, longDelayMaxRounds: 0 };
    c.heal();
    c.log(() => 'LIVENESS PHASE');
    const retireRemoved = (): void => {
      // A removed member is shut down (etcd stops it) once every remaining member applied its
      // removal: until then a remaining member may still count it in its configuration.
      for (const [id, at] of c.removed) {
        const n = c.nodes.get(id);
        if (n === undefined || n.retired) continue;
        const rest = [...c.nodes.values()].filter((m) => !c.removed.has(m.id));
        if (!rest.every((m) => m.live && m.applied >= at)) continue;
        c.crash(n);
        n.retired = true;
      }
    };
    retireRemoved();
    for (const n of c.nodes.values()) {
      n.slow = false;
      if (!n.live && !n.retired) c.start(n);
    }
    const startRound = c.round;
    let marker: string | undefined;
    let markerLeader: bigint | undefined;
    for (;;) {
      step(false);
      retireRemoved();
      livenessTicks = Math.ceil((c.round - startRound) / roundsPerTick);
      if (livenessTicks > livenessTicksMax) {
        throw new SimViolation(
          `liveness: no leader committing everywhere within ${livenessTicksMax} ticks (leader ${c.leader() ? c.name((c.leader() as SimNode).id) : 'none'}, marker ${marker === undefined ? 'not proposed' : `applied at ${c.watched.get(marker)}`})\n${c.dump()}`,
        );
      }
      const l = c.leader();
      const lr = l?.raw?.raft;
      if (l === undefined || lr === undefined || !lr.voters().includes(l.id)) continue;
      if (marker === undefined || markerLeader !== l.id || c.watched.get(marker) === undefined) {
        if (marker !== undefined && c.watched.get(marker) !== 0n && c.watched.get(marker) !== undefined) {
          // already applied somewhere: keep waiting for everyone
        } else {
          const d = proposal();
          if (c.propose(l, d)) {
            marker = hexOf(d);
            markerLeader = l.id;
            c.watched.clear();
            c.watched.set(marker, 0n);
          }
          continue;
        }
      }
      const at = c.watched.get(marker as string) ?? 0n;
      if (at === 0n) continue;
      const cs = lr.confState();
      const everyone = [...cs.voters, ...cs.learners].map((id) => c.nodes.get(id));
      if (everyone.every((n) => n !== undefined && n.live && n.applied >= at)) break;
    }
  } catch (e) {
    if (e instanceof SimViolation || (e instanceof Error && opts.trace !== true)) {
      const res: SeedResult = {
        seed,
        ok: false,
        error: e instanceof SimViolation ? e.message : `${e.name}: ${e.message}\n${e.stack ?? ''}`,
        livenessTicks,
        rounds: c.round,
        summary,
      };
      if (opts.trace === true) res.trace = c.traceLines;
      return res;
    }
    throw e;
  }
  const res: SeedResult = {
    seed,
    ok: true,
    livenessTicks,
    rounds: c.round,
    summary: `${summary} | proposalsApplied=${c.proposalsApplied} readsServed=${c.readsServed} commit=${c.globalCommit}`,
  };
  if (opts.trace === true) res.trace = c.traceLines;
  return res;
}

function shuffled<T>(r: SeededRand, xs: T[]): T[] {
  const out = xs.slice();
  for (let k = out.length - 1; k > 0; k--) {
    const j = r.int(k + 1);
    const t = out[k] as T;
    out[k] = out[j] as T;
    out[j] = t;
  }
  return out;
}

/** A symmetric split into two sides, or an asymmetric one where one side cannot reach the other. */
function partition(c: SimCluster, r: SeededRand, all: SimNode[]): void {
  c.heal();
  const side = new Set(all.filter(() => r.next() < 0.5).map((n) => n.id));
  const symmetric = r.next() < 0.6;
  for (const a of all) {
    for (const b of all) {
      if (side.has(a.id) && !side.has(b.id)) {
        c.block(a.id, b.id);
        if (symmetric) c.block(b.id, a.id);
      }
    }
  }
  c.log(() => `PARTITION ${symmetric ? 'sym' : 'asym'} [${[...side].map((id) => c.name(id)).join(',')}]`);
}

const votersMax = 7;

function changeMembership(c: SimCluster, r: SeededRand, nextId: number): number {
  const l = c.leader();
  const raft = l?.raw?.raft;
  if (l === undefined || raft === undefined || raft.state !== StateRole.Leader) return nextId;
  const cs = raft.confState();
  const choice = r.int(4);
  if (choice === 0 && cs.voters.length + cs.learners.length < 9) {
    // add a learner (a new node that starts empty and learns everything from the leader)
    const id = simNodeId(nextId);
    if (c.proposeConfChange(l, { type: ConfChangeType.AddLearnerNode, nodeId: id, context: new Uint8Array(0) })) {
      c.addNode(id, [], []);
      return nextId + 1;
    }
  } else if (choice === 1 && cs.voters.length < votersMax) {
    if (cs.learners.length > 0) {
      c.proposeConfChange(l, { type: ConfChangeType.AddNode, nodeId: pick(r, cs.learners), context: new Uint8Array(0) });
    } else {
      const id = simNodeId(nextId);
      if (c.proposeConfChange(l, { type: ConfChangeType.AddNode, nodeId: id, context: new Uint8Array(0) })) {
        c.addNode(id, [], []);
        return nextId + 1;
      }
    }
  } else if (choice === 2 && cs.voters.length > 2) {
    // Not 2 → 1: with apply-time single-step changes (etcd's), a removed member that knows it is
    // removed no longer campaigns, and the survivor that has not yet learned the removal committed
    // still needs its vote — the cluster can stall (a limitation etcd shares; see raft.ts).
    c.proposeConfChange(l, { type: ConfChangeType.RemoveNode, nodeId: pick(r, cs.voters), context: new Uint8Array(0) });
  } else if (choice === 3 && cs.learners.length > 0) {
    c.proposeConfChange(l, { type: ConfChangeType.RemoveNode, nodeId: pick(r, cs.learners), context: new Uint8Array(0) });
  }
  return nextId;
}
