/**
 * The simulated cluster: N RawNodes, each with durable MemoryStorage (survives crashes) and a
 * volatile state machine, a lossy/reordering/duplicating network with partitions, all driven by
 * one seeded scheduler (scenario.ts). Every node follows the RawNode contract exactly
 * (persist → send → apply → advance); a crash discards the RawNode and its unhanded state, and
 * may strike between persist and send or between send and apply.
 *
 * Checks (SimViolation on failure), run after every step:
 * - election safety: at most one leader per term (§5.2);
 * - log matching: equal (index, term) in two persisted logs ⇒ identical prefixes (chain hash, §5.3);
 * - committed entries never change: every node's commit index covers the same terms;
 * - leader completeness: a new leader holds every entry committed so far (§5.4.1);
 * - state machine safety: every member applies the same sequence (applied-hash per index, §5.4.3),
 *   including through snapshots;
 * - reads: a ReadState never names an index below what was committed when the read started.
 */
import { SeededRand } from '../../src/base/random.js';
import { u64FromBytesBE, u64ToBytesBE, hex } from '../../src/base/int64.js';
import { ErrProposalDropped } from '../../src/raft/errors.js';
import { RawNode, type Ready } from '../../src/raft/raw-node.js';
export type { Ready };
import { MemoryStorage } from '../../src/raft/storage.js';
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type Snapshot,
  StateRole,
} from '../../src/raft/types.js';
import { bytesHash, mix } from './hash.js';

export class SimViolation extends Error {
  override name = 'SimViolation';
}

export interface SimConfig {
  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
}

export interface NetConfig {
  lossRate: number;
  dupRate: number;
  /** Normal delivery delay in rounds is uniform in [0, delayMaxRounds]. */
  delayMaxRounds: number;
  /** Probability that a message is held back much longer (reordering across many rounds). */
  longDelayRate: number;
  longDelayMaxRounds: number;
}

interface InFlight {
  m: Message;
  at: number;
}

export class SimNode {
  readonly storage = new MemoryStorage();
  raw: RawNode | undefined;
  /** Chain hash of the persisted log by index (durable along with storage). */
  chain = new Map<bigint, number>([[0n, 0]]);
  // volatile state machine
  applied = 0n;
  appHash = 0;
  confState: ConfState = { voters: [], learners: [] };
  lastCommitSeen = 0n;
  leaderTerm = 0n;
  slow = false;
  /** Removed from the cluster for good (liveness phase): never restarted. */
  retired = false;
  restarts = 0;

  constructor(
    readonly id: bigint,
    readonly bootstrapPeers: bigint[],
    readonly bootstrapLearners: bigint[],
  ) {}

  get live(): boolean {
    return this.raw !== undefined;
  }
}

function snapData(index: bigint, hash: number): Uint8Array {
  const out = new Uint8Array(12);
  u64ToBytesBE(index, out, 0);
  new DataView(out.buffer).setUint32(8, hash);
  return out;
}

function readSnapData(d: Uint8Array): { index: bigint; hash: number } {
  if (d.length < 12) return { index: 0n, hash: 0 };
  return { index: u64FromBytesBE(d, 0), hash: new DataView(d.buffer, d.byteOffset).getUint32(8) };
}

export class SimCluster {
  readonly nodes = new Map<bigint, SimNode>();
  round = 0;
  /** Messages sent and not yet delivered or dropped. */
  private inflight: InFlight[] = [];
  /** Directed links that drop everything: "from>to". */
  private blocked = new Set<string>();

  // global records for the checks
  private leaderOfTerm = new Map<bigint, bigint>();
  private chainAt = new Map<string, number>();
  private committedTerm = new Map<bigint, bigint>();
  globalCommit = 0n;
  private appliedHashAt = new Map<bigint, number>();
  private reads = new Map<string, { minIndex: bigint; node: bigint }>();
  readsServed = 0;
  proposalsApplied = 0;
  private nextReadId = 1n;
  /** Data of entries the scenario wants to see applied (liveness marker) → index where applied. */
  readonly watched = new Map<string, bigint>();
  /** Ids whose removal some member has applied → index of that entry (the sim never reuses an id). */
  readonly removed = new Map<bigint, bigint>();
  traceLines: string[] = [];

  constructor(
    readonly rand: SeededRand,
    readonly seed: number,
    readonly cfg: SimConfig,
    public net: NetConfig,
    private readonly trace: boolean,
  ) {}

  log(f: () => string): void {
    if (!this.trace) return;
    this.traceLines.push(`[r${this.round}] ${f()}`);
    if (this.traceLines.length > 200_000) this.traceLines.splice(0, 50_000);
  }

  private fail(msg: string): never {
    throw new SimViolation(`${msg} (round ${this.round})`);
  }

  name(id: bigint): string {
    return `n${Number(id & 0xffn)}`;
  }

  // ------------------------------------------------------------------ membership of the sim

  addNode(id: bigint, peers: bigint[], learners: bigint[]): SimNode {
    const n = new SimNode(id, peers, learners);
    this.nodes.set(id, n);
    this.start(n);
    return n;
  }

  start(n: SimNode): void {
    const st = n.storage;
    const snap = st.snapshot();
    const emptyStorage = st.lastIndex() === 0n && snap.metadata.index === 0n;
    const bootstrap = emptyStorage && (n.bootstrapPeers.length > 0 || n.bootstrapLearners.length > 0);
    const d = readSnapData(snap.data);
    n.applied = snap.metadata.index;
    n.appHash = snap.metadata.index === 0n ? 0 : d.hash;
    n.confState = { voters: [...snap.metadata.confState.voters], learners: [...snap.metadata.confState.learners] };
    n.raw = new RawNode({
      id: n.id,
      peers: bootstrap ? n.bootstrapPeers : undefined,
      learners: bootstrap ? n.bootstrapLearners : undefined,
      electionTick: this.cfg.electionTick,
      heartbeatTick: this.cfg.heartbeatTick,
      storage: st,
      rand: new SeededRand((this.seed * 7919 + Number(n.id & 0xffffn) * 104729 + n.restarts * 15485863) >>> 0),
      preVote: this.cfg.preVote,
      checkQuorum: this.cfg.checkQuorum,
      maxSizePerMsg: this.cfg.maxSizePerMsg,
      maxInflightMsgs: this.cfg.maxInflightMsgs,
      applied: snap.metadata.index > 0n ? snap.metadata.index : undefined,
    });
    n.lastCommitSeen = n.raw.raft.log.committed;
    n.leaderTerm = 0n;
    this.log(() => `${this.name(n.id)} start (restart #${n.restarts}) applied=${n.applied} last=${st.lastIndex()}`);
  }

  crash(n: SimNode): void {
    if (n.raw === undefined) return;
    n.raw = undefined;
    n.restarts++;
    this.log(() => `${this.name(n.id)} CRASH`);
  }

  // ------------------------------------------------------------------ network

  block(from: bigint, to: bigint): void {
    this.blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  private send(m: Message): void {
    const lost = this.blocked.has(`${m.from}>${m.to}`) || (this.net.lossRate > 0 && this.rand.next() < this.net.lossRate);
    if (lost) {
      // The transport notices a failed snapshot send and reports it (the contract of reportSnapshot).
      if (m.type === MessageType.Snap) this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, false);
      return;
    }
    const copies = this.net.dupRate > 0 && this.rand.next() < this.net.dupRate ? 2 : 1;
    for (let k = 0; k < copies; k++) {
      let delay = this.rand.int(this.net.delayMaxRounds + 1);
      if (this.net.longDelayRate > 0 && this.rand.next() < this.net.longDelayRate) delay += this.rand.int(this.net.longDelayMaxRounds + 1);
      this.inflight.push({ m, at: this.round + delay });
    }
  }

  /** Deliver every message due this round, in random order among those due. */
  deliver(): void {
    if (this.inflight.length === 0) return;
    const due: InFlight[] = [];
    const rest: InFlight[] = [];
    for (const f of this.inflight) (f.at <= this.round ? due : rest).push(f);
    this.inflight = rest;
    for (let k = due.length - 1; k > 0; k--) {
      const j = this.rand.int(k + 1);
      const t = due[k] as InFlight;
      due[k] = due[j] as InFlight;
      due[j] = t;
    }
    for (const f of due) {
      const m = f.m;
      const n = this.nodes.get(m.to);
      const ok = n?.raw !== undefined && !this.blocked.has(`${m.from}>${m.to}`);
      if (ok) {
        this.log(() => `deliver ${describe(m, this)}`);
        n?.raw?.step({ ...m });
        this.check();
      }
      if (m.type === MessageType.Snap) {
        this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, ok);
        this.check();
      }
    }
  }

  pendingMessages(): number {
    return this.inflight.length;
  }

  // ------------------------------------------------------------------ driving nodes

  tick(n: SimNode): void {
    n.raw?.tick();
    this.check();
  }

  /**
   * Handle one Ready of n per the contract. crashAt: 'persist' crashes after persisting
   * (before sending), 'send' after sending (before applying); undefined completes it.
   */
  processReady(n: SimNode, crashAt?: 'persist' | 'send', nemesis?: (n: SimNode, rd: Ready) => 'persist' | undefined): void {
    const raw = n.raw;
    if (raw === undefined || !raw.hasReady()) return;
    const rd = raw.ready();
    this.check();
    if (crashAt === undefined && nemesis !== undefined) crashAt = nemesis(n, rd);
    // 1. persist
    const st = n.storage;
    if (rd.snapshot !== undefined) {
      const s = rd.snapshot.metadata;
      st.applySnapshot(rd.snapshot);
      const h = this.chainAt.get(`${s.index}:${s.term}`);
      if (h === undefined) this.fail(`snapshot at ${s.index}/${s.term} names an entry nobody persisted`);
      n.chain = new Map([[s.index, h]]);
    }
    if (rd.entries.length > 0) {
      this.chainEntries(n, rd.entries);
      st.append(rd.entries);
    }
    if (rd.hardState !== undefined) {
      st.setHardState(rd.hardState);
      this.checkCommit(n);
    }
    if (crashAt === 'persist') {
      this.crash(n);
      return;
    }
    // 2. send
    for (const m of rd.messages) this.send(m);
    if (crashAt === 'send') {
      this.crash(n);
      return;
    }
    // 3. apply
    if (rd.snapshot !== undefined) this.restoreApp(n, rd.snapshot);
    for (const e of rd.committedEntries) this.applyEntry(n, e);
    for (const rs of rd.readStates) this.checkRead(n, rs.index, rs.ctx);
    // 4. advance
    raw.advance(rd);
    this.check();
  }

  private chainEntries(n: SimNode, ents: Entry[]): void {
    const first = ents[0] as Entry;
    let h = n.chain.get(first.index - 1n);
    if (h === undefined) {
      // Entries at or below the compaction point are skipped by storage.append.
      if (first.index - 1n < n.storage.firstIndex() - 1n) return;
      this.fail(`${this.name(n.id)} persists entries from ${first.index} without entry ${first.index - 1n} in its log`);
    }
    for (const e of ents) {
      h = mix(h, e.term, bytesHash(e.data));
      const key = `${e.index}:${e.term}`;
      const g = this.chainAt.get(key);
      if (g === undefined) this.chainAt.set(key, h);
      else if (g !== h) this.fail(`log matching violated at index ${e.index} term ${e.term} on ${this.name(n.id)}`);
      n.chain.set(e.index, h);
    }
    // The storage drops everything after the last appended entry.
    for (let i = (ents[ents.length - 1] as Entry).index + 1n; n.chain.delete(i); i++) {
      // deleted
    }
  }

  private restoreApp(n: SimNode, s: Snapshot): void {
    const d = readSnapData(s.data);
    if (d.index !== s.metadata.index) this.fail(`snapshot data index ${d.index} ≠ metadata index ${s.metadata.index}`);
    const g = this.appliedHashAt.get(d.index);
    if (g !== undefined && g !== d.hash) this.fail(`snapshot state at ${d.index} differs from the applied history`);
    n.applied = s.metadata.index;
    n.appHash = d.hash;
    n.confState = { voters: [...s.metadata.confState.voters], learners: [...s.metadata.confState.learners] };
    this.log(() => `${this.name(n.id)} restored snapshot @${s.metadata.index}`);
  }

  private applyEntry(n: SimNode, e: Entry): void {
    if (e.index <= n.applied) return; // already in the restored snapshot
    if (e.index !== n.applied + 1n) this.fail(`${this.name(n.id)} applies ${e.index} after ${n.applied}`);
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      n.confState = (n.raw as RawNode).applyConfChange(cc);
      if (cc.type === ConfChangeType.RemoveNode && !this.removed.has(cc.nodeId)) this.removed.set(cc.nodeId, e.index);
      this.log(() => `${this.name(n.id)} applied conf change ${ccText(cc, this)} @${e.index} → voters=${n.confState.voters.map((v) => this.name(v))} learners=${n.confState.learners.map((v) => this.name(v))}`);
    } else if (e.data.length > 0) {
      this.proposalsApplied++;
    }
    n.appHash = mix(n.appHash, e.term, bytesHash(e.data));
    n.applied = e.index;
    const g = this.appliedHashAt.get(e.index);
    if (g === undefined) this.appliedHashAt.set(e.index, n.appHash);
    else if (g !== n.appHash) this.fail(`state machine divergence at index ${e.index} on ${this.name(n.id)}`);
    if (e.data.length > 0 && this.watched.size > 0) {
      const k = hexOf(e.data);
      if (this.watched.has(k) && this.watched.get(k) === 0n) this.watched.set(k, e.index);
    }
  }

  // ------------------------------------------------------------------ client operations

  propose(n: SimNode, data: Uint8Array): boolean {
    if (n.raw === undefined) return false;
    try {
      n.raw.propose(data);
      this.check();
      return true;
    } catch (e) {
      if (e instanceof ErrProposalDropped) return false;
      throw e;
    }
  }

  proposeConfChange(n: SimNode, cc: ConfChange): boolean {
    if (n.raw === undefined) return false;
    try {
      n.raw.proposeConfChange(cc);
      this.log(() => `${this.name(n.id)} proposes ${ccText(cc, this)}`);
      this.check();
      return true;
    } catch (e) {
      if (e instanceof ErrProposalDropped) return false;
      throw e;
    }
  }

  read(n: SimNode): boolean {
    if (n.raw === undefined) return false;
    const id = this.nextReadId++;
    const ctx = u64ToBytesBE(id);
    try {
      n.raw.readIndex(ctx);
    } catch (e) {
      if (e instanceof ErrProposalDropped) return false;
      throw e;
    }
    // Everything committed anywhere by now must be visible to this read.
    this.reads.set(hex(id), { minIndex: this.globalCommit, node: n.id });
    this.check();
    return true;
  }

  private checkRead(n: SimNode, index: bigint, ctx: Uint8Array): void {
    const key = hex(u64FromBytesBE(ctx));
    const r = this.reads.get(key);
    if (r === undefined) this.fail(`${this.name(n.id)} got a read state for an unknown read ${key}`);
    if (r.node !== n.id) this.fail(`read ${key} of ${this.name(r.node)} answered on ${this.name(n.id)}`);
    if (index < r.minIndex) this.fail(`stale read: read index ${index} < ${r.minIndex} committed before the read started`);
    if (index > this.globalCommit) this.fail(`read index ${index} beyond anything committed (${this.globalCommit})`);
    // Kept (not deleted): a duplicated ReadIndexResp yields the read state again, checked the same way.
    this.readsServed++;
  }

  /** Application snapshot at the applied index, then compaction keeping `keep` entries. */
  snapshotAndCompact(n: SimNode, keep: bigint): void {
    if (n.raw === undefined) return;
    const st = n.storage;
    if (n.applied <= st.snapshot().metadata.index || n.applied > st.lastIndex()) return;
    st.createSnapshot(n.applied, n.confState, snapData(n.applied, n.appHash));
    const to = n.applied - keep;
    if (to >= st.firstIndex()) st.compact(to);
    this.log(() => `${this.name(n.id)} snapshot @${n.applied}, compact to ${to}`);
  }

  // ------------------------------------------------------------------ checks

  /**
   * A commit index becomes a fact once persisted (a single voter commits in memory before its
   * entries are written; nothing can observe that commit before the Ready is persisted): from
   * then on every node must agree on the term of every entry up to it.
   */
  private checkCommit(n: SimNode): void {
    const log = (n.raw as RawNode).raft.log;
    if (log.committed > n.lastCommitSeen) {
      const from = n.lastCommitSeen + 1n > log.firstIndex() ? n.lastCommitSeen + 1n : log.firstIndex();
      for (let i = from; i <= log.committed; i++) {
        const t = log.term(i);
        if (t === undefined) continue;
        const g = this.committedTerm.get(i);
        if (g === undefined) this.committedTerm.set(i, t);
        else if (g !== t) this.fail(`committed entry ${i} changed: term ${g} then ${t} on ${this.name(n.id)}`);
      }
      n.lastCommitSeen = log.committed;
      if (log.committed > this.globalCommit) this.globalCommit = log.committed;
    }
  }

  /** Cheap invariants over every live node; called after every step. */
  check(): void {
    for (const n of this.nodes.values()) {
      const raw = n.raw;
      if (raw === undefined) continue;
      const r = raw.raft;
      const log = r.log;
      if (r.state === StateRole.Leader) {
        const prev = this.leaderOfTerm.get(r.term);
        if (prev === undefined) this.leaderOfTerm.set(r.term, n.id);
        else if (prev !== n.id) this.fail(`two leaders in term ${r.term}: ${this.name(prev)} and ${this.name(n.id)}`);
        if (n.leaderTerm !== r.term) {
          n.leaderTerm = r.term;
          this.log(() => `${this.name(n.id)} became LEADER of term ${r.term} (last ${log.lastIndex()}, commit ${log.committed})`);
          this.checkLeaderCompleteness(n);
        }
      }
    }
  }

  private checkLeaderCompleteness(n: SimNode): void {
    const log = (n.raw as RawNode).raft.log;
    if (log.lastIndex() < this.globalCommit) {
      this.fail(`leader ${this.name(n.id)} of term ${(n.raw as RawNode).raft.term} lacks committed entries (last ${log.lastIndex()} < ${this.globalCommit})`);
    }
    for (let i = log.firstIndex(); i <= this.globalCommit; i++) {
      const g = this.committedTerm.get(i);
      const t = log.term(i);
      if (g !== undefined && t !== undefined && g !== t) this.fail(`leader ${this.name(n.id)} has term ${t} at committed index ${i} (was ${g})`);
    }
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      const r = n.raw?.raft;
      if (r?.state === StateRole.Leader && (best === undefined || r.term > (best.raw as RawNode).raft.term)) best = n;
    }
    return best;
  }

  /** One line per node: role, term, indexes, and the leader's view of each follower. */
  dump(): string {
    const lines: string[] = [];
    for (const n of this.nodes.values()) {
      const raw = n.raw;
      if (raw === undefined) {
        lines.push(`${this.name(n.id)} down${n.retired ? ' (retired)' : ''}`);
        continue;
      }
      const st = raw.status();
      let line = `${this.name(n.id)} ${st.role} conf=${n.confState.voters.map((v) => this.name(v))}/${n.confState.learners.map((v) => this.name(v))} t${st.term} lead=${this.name(st.leader)} commit=${st.commit} applied=${st.applied}/${n.applied} last=${st.lastIndex} first=${raw.raft.log.firstIndex()} voters=${st.confState.voters.map((v) => this.name(v))} learners=${st.confState.learners.map((v) => this.name(v))}`;
      for (const [id, p] of st.progress) line += `\n    ${this.name(id)}: match=${p.match} next=${p.next} state=${p.state} paused? inflight=${p.inflight} active=${p.recentActive} pendingSnap=${p.pendingSnapshot}`;
      lines.push(line);
    }
    return lines.join('\n');
  }

  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.live);
  }
}

export function hexOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function ccText(cc: ConfChange, c: SimCluster): string {
  return `${ConfChangeType[cc.type]}(${c.name(cc.nodeId)})`;
}

export function describe(m: Message, c: SimCluster): string {
  let s = `${c.name(m.from)}->${c.name(m.to)} ${MessageType[m.type]} t${m.term}`;
  if (m.type === MessageType.App) s += ` i${m.index}/t${m.logTerm} c${m.commit} n=${m.entries.length}`;
  if (m.type === MessageType.AppResp) s += ` i${m.index}${m.reject ? ` REJ hint=${m.rejectHint}/${m.logTerm}` : ''}`;
  if (m.type === MessageType.Vote || m.type === MessageType.PreVote) s += ` last=${m.index}/${m.logTerm}`;
  if (m.type === MessageType.VoteResp || m.type === MessageType.PreVoteResp) s += m.reject ? ' REJ' : ' OK';
  if (m.type === MessageType.Heartbeat) s += ` c${m.commit}`;
  if (m.type === MessageType.Snap) s += ` @${m.snapshot?.metadata.index}`;
  return s;
}

