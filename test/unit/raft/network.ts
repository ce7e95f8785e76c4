/**
 * A synchronous in-memory cluster for transcript tests: every node follows the driver contract
 * (persist → send → apply → advance) and the network delivers messages in FIFO order until
 * the cluster is quiet. Links can be cut, nodes isolated, and message types dropped; every
 * delivered message is written to a transcript so a test can show the exchange it proves.
 */
import { SeededRand } from '../../../src/base/random.js';
import { utf8 } from '../../../src/base/bytes.js';
import {
  type ConfChange,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type ReadState,
  StateRole,
} from '../../../src/raft/types.js';
import { MemoryStorage } from '../../../src/raft/storage.js';
import { RawNode, type RawNodeConfig } from '../../../src/raft/raw-node.js';

export interface TestNode {
  id: bigint;
  raw: RawNode;
  storage: MemoryStorage;
  /** Normal entries applied, as strings (empty entries are skipped). */
  applied: string[];
  appliedIndex: bigint;
  confState: ConfState;
  readStates: ReadState[];
}

export interface ClusterOptions {
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  learners?: bigint[];
  seed?: number;
}

const text = new TextDecoder();

export function describeMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${MessageType[m.type]} term=${m.term}`];
  switch (m.type) {
    case MessageType.App:
      parts.push(`index=${m.index} logTerm=${m.logTerm} commit=${m.commit} entries=[${m.entries.map((e) => `${e.term}/${e.index}`).join(' ')}]`);
      break;
    case MessageType.AppResp:
      parts.push(m.reject ? `reject index=${m.index} hint=${m.rejectHint} hintTerm=${m.logTerm}` : `index=${m.index}`);
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      parts.push(`lastIndex=${m.index} lastTerm=${m.logTerm}`);
      break;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      parts.push(m.reject ? 'reject' : 'grant');
      break;
    case MessageType.Heartbeat:
      parts.push(`commit=${m.commit}${m.context.length > 0 ? ' read-round' : ''}`);
      break;
    case MessageType.Snap:
      parts.push(`snapshot=${m.snapshot?.metadata.term}/${m.snapshot?.metadata.index}`);
      break;
    case MessageType.ReadIndexResp:
      parts.push(`index=${m.index}`);
      break;
    default:
      break;
  }
  return parts.join(' ');
}

export class Cluster {
  readonly nodes = new Map<bigint, TestNode>();
  readonly transcript: string[] = [];
  private queue: Message[] = [];
  private cut = new Set<string>();
  private dropTypes = new Set<MessageType>();
  /** When set, a message is delivered only if this returns true. */
  filter: ((m: Message) => boolean) | undefined = undefined;
  private readonly rand: SeededRand;

  constructor(
    voters: bigint[],
    readonly opts: ClusterOptions = {},
  ) {
    this.rand = new SeededRand(opts.seed ?? 1);
    for (const id of voters) this.addNode(id, voters, opts.learners ?? []);
    for (const id of opts.learners ?? []) this.addNode(id, voters, opts.learners ?? []);
    this.stabilize();
    this.transcript.length = 0;
  }

  config(id: bigint, storage: MemoryStorage, peers?: bigint[], learners?: bigint[]): RawNodeConfig {
    return {
      id,
      peers,
      learners,
      storage,
      electionTick: this.opts.electionTick ?? 10,
      heartbeatTick: this.opts.heartbeatTick ?? 1,
      rand: this.rand,
      preVote: this.opts.preVote ?? false,
      checkQuorum: this.opts.checkQuorum ?? false,
      maxSizePerMsg: this.opts.maxSizePerMsg ?? 1024 * 1024,
      maxInflightMsgs: this.opts.maxInflightMsgs ?? 256,
    };
  }

  /** Start a node: part of the initial cluster (peers given) or joining later (none). */
  addNode(id: bigint, peers?: bigint[], learners?: bigint[]): TestNode {
    const storage = new MemoryStorage();
    const raw = new RawNode(this.config(id, storage, peers, learners));
    const n: TestNode = { id, raw, storage, applied: [], appliedIndex: 0n, confState: { voters: [], learners: [] }, readStates: [] };
    this.nodes.set(id, n);
    return n;
  }

  /** The application snapshots its state at its applied index and compacts the log up to it. */
  snapshotAndCompact(id: bigint): void {
    const n = this.node(id);
    n.storage.createSnapshot(n.appliedIndex, n.confState, utf8(JSON.stringify(n.applied)));
    n.storage.compact(n.appliedIndex);
  }

  /** Crash and restart a node from its storage: everything not persisted is lost. */
  restart(id: bigint): TestNode {
    const old = this.node(id);
    const snap = old.storage.snapshot();
    const raw = new RawNode({ ...this.config(id, old.storage), applied: snap.metadata.index });
    const applied = snap.metadata.index > 0n ? (JSON.parse(text.decode(snap.data)) as string[]) : [];
    const n: TestNode = { ...old, raw, applied, appliedIndex: snap.metadata.index, confState: snap.metadata.confState, readStates: [] };
    this.nodes.set(id, n);
    return n;
  }

  node(id: bigint): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  leader(): TestNode | undefined {
    return [...this.nodes.values()].find((n) => n.raw.status().role === StateRole.Leader);
  }

  role(id: bigint): StateRole {
    return this.node(id).raw.status().role;
  }

  isolate(id: bigint): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cutLink(id, other);
  }

  cutLink(a: bigint, b: bigint): void {
    this.cut.add(`${a}-${b}`);
    this.cut.add(`${b}-${a}`);
  }

  /** Drop messages from a to b only (an asymmetric partition). */
  cutOneWay(from: bigint, to: bigint): void {
    this.cut.add(`${from}-${to}`);
  }

  heal(): void {
    this.cut.clear();
    this.dropTypes.clear();
    this.filter = undefined;
  }

  /** Reconnect one node to every other. */
  reconnect(id: bigint): void {
    for (const k of [...this.cut]) if (k.startsWith(`${id}-`) || k.endsWith(`-${id}`)) this.cut.delete(k);
  }

  /** The node's log as "term/index" strings from its first available index. */
  logOf(id: bigint): string[] {
    const log = this.node(id).raw.raft.log;
    const out: string[] = [];
    for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(`${log.term(i)}/${i}`);
    return out;
  }

  drop(type: MessageType): void {
    this.dropTypes.add(type);
  }

  /** Process one node's Ready following the contract; returns the messages to send. */
  private handleReady(n: TestNode): Message[] {
    const rd = n.raw.ready();
    // 1. persist
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    // 3. apply (sending is done by the caller, after persisting)
    if (rd.snapshot !== undefined) {
      n.appliedIndex = rd.snapshot.metadata.index;
      n.confState = rd.snapshot.metadata.confState;
      n.applied = JSON.parse(text.decode(rd.snapshot.data)) as string[];
    }
    for (const e of rd.committedEntries) this.apply(n, e);
    n.readStates.push(...rd.readStates);
    n.raw.advance(rd);
    return rd.messages;
  }

  private apply(n: TestNode, e: Entry): void {
    n.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      n.confState = n.raw.applyConfChange(decodeConfChange(e.data));
    } else if (e.data.length > 0) {
      n.applied.push(text.decode(e.data));
    }
  }

  /** Run Ready handling and message delivery until nothing is left to do. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const n of this.nodes.values()) {
        if (n.raw.hasReady()) {
          busy = true;
          this.queue.push(...this.handleReady(n));
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        busy = true;
        this.deliver(m);
      }
      if (!busy) return;
    }
    throw new Error('cluster did not stabilize');
  }

  private deliver(m: Message): void {
    if (this.cut.has(`${m.from}-${m.to}`) || this.dropTypes.has(m.type)) return;
    if (this.filter !== undefined && !this.filter(m)) return;
    const to = this.nodes.get(m.to);
    if (to === undefined) return;
    this.transcript.push(describeMessage(m));
    to.raw.step(m);
  }

  tick(id: bigint, n = 1): void {
    for (let k = 0; k < n; k++) this.node(id).raw.tick();
  }

  tickAll(n = 1): void {
    for (let k = 0; k < n; k++) {
      for (const node of this.nodes.values()) node.raw.tick();
      this.stabilize();
    }
  }

  campaign(id: bigint): void {
    this.node(id).raw.campaign();
    this.stabilize();
  }

  propose(id: bigint, data: string): void {
    this.node(id).raw.propose(utf8(data));
    this.stabilize();
  }

  proposeConfChange(id: bigint, cc: ConfChange): void {
    this.node(id).raw.proposeConfChange(cc);
    this.stabilize();
  }

  /** Take the transcript so far and start a new one. */
  take(): string[] {
    const t = this.transcript.slice();
    this.transcript.length = 0;
    return t;
  }
}
