/**
 * The simulated network between members: the MemoryHub's route (src/peer/memory-transport.ts)
 * carries every frame, request, answer and snapshot call as an event of the receiving process,
 * after a latency; during the chaos phase Raft frames may be lost, duplicated (except those
 * with a forwarded proposal, see route) or held back long enough to arrive after later ones
 * (reordering). Partitions: the hub's block (a broken
 * connection, both directions, reported unreachable) and the route's cut (packets dropped, one
 * direction or both, the sender none the wiser).
 */
import type { SeededRand } from '../../../src/base/random.js';
import { decodeBatch } from '../../../src/peer/codec.js';
import { createMemoryHub, type MemoryHub, type RouteKind } from '../../../src/peer/memory-transport.js';
import { MessageType } from '../../../src/raft/types.js';
import type { SimParams } from './config.js';
import type { Proc, Scheduler } from './scheduler.js';

export class SimNetwork {
  readonly hub: MemoryHub;
  /** Directions (`from>to`) whose traffic is dropped. */
  private readonly cut = new Set<string>();
  chaos = true;
  frames = 0;
  dropped = 0;
  duplicated = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly rand: SeededRand,
    private readonly p: SimParams,
    /** The process that receives for member `id` now (null: none running). */
    private readonly procOf: (id: bigint) => Proc | null,
  ) {
    this.hub = createMemoryHub({ route: (from, to, kind, deliver, frame) => this.route(from, to, kind, deliver, frame) });
  }

  latency(): number {
    let ms = this.p.netMs * (0.5 + this.rand.next());
    if (this.chaos && this.rand.next() < this.p.longDelayRate) ms += this.rand.next() * this.p.longDelayMaxMs;
    return ms;
  }

  private route(from: bigint, to: bigint, kind: RouteKind, deliver: () => void, frame?: Uint8Array): void {
    if (kind === 'frame') this.frames++;
    if (this.cut.has(`${from}>${to}`)) {
      this.dropped++;
      return;
    }
    const owner = this.procOf(to);
    if (owner === null) return;
    if (kind === 'frame' && this.chaos) {
      if (this.rand.next() < this.p.lossRate) {
        this.dropped++;
        return;
      }
      // Not a frame holding a forwarded proposal: a proposal is not idempotent (in etcd neither:
      // the same entry twice in the log applies twice), and no transport of etcd's or ours
      // ever delivers a message twice; every other Raft message tolerates it.
      if (this.rand.next() < this.p.dupRate && !(frame !== undefined && decodeBatch(frame).some((m) => m.type === MessageType.Prop))) {
        this.duplicated++;
        this.sched.after(this.latency(), owner, deliver);
      }
    }
    this.sched.after(this.latency(), owner, deliver);
  }

  /** Drops traffic from `from` to `to` (the connection stays up: nobody is told). */
  drop(from: bigint, to: bigint): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Breaks the connection between two members both ways (reported unreachable). */
  block(a: bigint, b: bigint): void {
    this.hub.block(a, b);
    this.hub.block(b, a);
  }

  heal(): void {
    this.cut.clear();
    this.hub.heal();
  }

  isCut(): boolean {
    return this.cut.size > 0;
  }
}
