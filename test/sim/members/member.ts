/**
 * One simulated member: its storage (in-memory engine and disk, which outlive its processes) and
 * its current process — a whole EtcdServer (raft loop, apply, MVCC, lessor, watchable store, WAL,
 * backend) on the scheduler's Runtime, the in-memory transport and that storage.
 *
 * A crash drops the process (its events never run; its storage handles are fenced) and leaves
 * the storage as the crash kind says (src/storage/memory-io.ts); a restart opens the same
 * storage in a new process. A failpoint armed on the member fires as a panic
 * (src/server/failpoints.ts) in the middle of the loop, and the member crashes right there.
 */
import { hex } from '../../../src/base/int64.js';
import type { Fields, Logger } from '../../../src/base/logger.js';
import type { Member } from '../../../src/membership/member-store.js';
import type { MemoryTransport } from '../../../src/peer/memory-transport.js';
import { EtcdServer, type ServerOptions } from '../../../src/server/etcd-server.js';
import type { FailpointAction, FailpointName } from '../../../src/server/failpoints.js';
import { MemoryVolume } from '../../../src/storage/memory-disk.js';
import { MemoryEngineStore } from '../../../src/storage/memory-engine.js';
import type { CrashKind, MemoryIo } from '../../../src/storage/memory-io.js';
import type { SimParams } from './config.js';
import type { SimNetwork } from './network.js';
import { Proc, splitRand, type Scheduler } from './scheduler.js';

export type MemberStatus = 'down' | 'starting' | 'up' | 'removed';

export const simClusterId = 0x5e_ed_c1_05_7e_00_00_01n;

/** What a member tells the run (run.ts). */
export interface MemberHooks {
  /** A member applied revision `rev` with these events (the kv observer). */
  applied(m: SimMember, events: import('../../../src/api/kv-types.js').Event[]): void;
  /** A member's lessor applied a revoke of lease `id`. */
  revoked(m: SimMember, id: bigint): void;
  /** The process died by a failpoint or failed on its own. */
  failed(m: SimMember, err: unknown): void;
  /** The member learned it was removed from the cluster and stopped. */
  removed(m: SimMember, reason: string): void;
  /** The process went away (crash, failure, removal): its watches end. */
  gone(m: SimMember): void;
  log(m: SimMember, level: string, msg: string, fields?: Fields): void;
}

export type CallOutcome<T> = { kind: 'ok'; value: T } | { kind: 'error'; error: unknown } | { kind: 'refused' };

/** A failpoint map whose one armed point fires once (then disarms). */
class ArmedFailpoints extends Map<FailpointName, FailpointAction> {
  armed: FailpointName | null = null;
  constructor() {
    // Non-empty, so that the server installs its failpoint hook at all.
    super([['raftBeforeSave', 'panic']]);
  }
  override get(p: FailpointName): FailpointAction | undefined {
    if (this.armed !== p) return undefined;
    this.armed = null;
    return 'panic';
  }
}

export class SimMember {
  readonly engines = new Map<string, MemoryEngineStore>();
  readonly volume = new MemoryVolume();
  proc: Proc | null = null;
  server: EtcdServer | null = null;
  transport: MemoryTransport | null = null;
  status: MemberStatus = 'down';
  incarnation = 0;
  /** The member was added to the cluster and has not started yet, or is a learner. */
  learner = false;
  private readonly failpoints = new ArmedFailpoints();
  /** When a down member is to be started again (NaN: not scheduled). */
  restartAt = Number.NaN;
  crashes = 0;

  constructor(
    readonly id: bigint,
    readonly name: string,
    private readonly sched: Scheduler,
    private readonly net: SimNetwork,
    private readonly p: SimParams,
    private readonly seed: number,
    private readonly hooks: MemberHooks,
    /** The member list a new data dir starts from (bootstrap, or the cluster it joins). */
    private readonly bootMembers: Member[],
    private readonly join: boolean,
  ) {}

  get peerUrl(): string {
    return `http://${this.name}:2380`;
  }

  get armedFailpoint(): FailpointName | null {
    return this.failpoints.armed;
  }

  arm(point: FailpointName): void {
    this.failpoints.armed = point;
  }

  disarm(): void {
    this.failpoints.armed = null;
  }

  private io(proc: Proc): MemoryIo {
    const rand = splitRand(this.seed, `${this.name}/${this.incarnation}/io`);
    return {
      complete: (kind, fn) => {
        let ms = this.p.diskMs * (kind === 'read' ? 0.3 : 1) * (0.5 + rand.next());
        if (rand.next() < this.p.diskSlowRate) ms *= 50;
        this.sched.after(ms, proc, fn);
      },
    };
  }

  private logger(proc: Proc): Logger {
    const emit = (level: string) => (msg: string, fields?: Fields) => {
      if (!proc.dead) this.hooks.log(this, level, msg, fields);
    };
    return { debug: () => undefined, info: emit('info'), warn: emit('warn'), error: emit('error') };
  }

  /** Starts a process on the member's storage. */
  start(): void {
    if (this.status === 'removed' || this.proc !== null) return;
    this.incarnation++;
    const proc = new Proc(`${this.name}#${this.incarnation}`);
    this.proc = proc;
    this.status = 'starting';
    this.restartAt = Number.NaN;
    this.failpoints.armed = null;
    const rt = this.sched.runtime(proc, splitRand(this.seed, `${this.name}/${this.incarnation}/rt`));
    const io = this.io(proc);
    const opts: ServerOptions = {
      name: this.name,
      dataDir: `/sim/${this.name}`,
      memberId: this.id,
      clusterId: simClusterId,
      members: this.bootMembers,
      initialClusterState: this.join ? 'existing' : 'new',
      join: this.join,
      advertiseClientUrls: [`http://${this.name}:2379`],
      maxTxnOps: 128,
      maxRequestBytes: 1.5 * 1024 * 1024,
      electionTimeoutMs: this.p.electionTimeoutMs,
      heartbeatIntervalMs: this.p.heartbeatIntervalMs,
      quotaBackendBytes: 2 ** 31,
      snapshotCount: this.p.snapshotCount,
      snapshotCatchupEntries: this.p.snapshotCatchupEntries,
      backendBatchIntervalMs: this.p.backendBatchIntervalMs,
      corruptCheckTimeMs: this.p.corruptCheckMs,
      preVote: this.p.preVote,
      logger: this.logger(proc),
      runtime: rt,
      storage: {
        engine: async (dir) => {
          let store = this.engines.get(dir);
          if (store === undefined) this.engines.set(dir, (store = new MemoryEngineStore()));
          return store.open(io);
        },
        disk: this.volume.mount(io),
        walSegmentBytes: this.p.walSegmentBytes,
      },
      transport: ({ memberId, clusterId, handler }) => {
        const t = this.net.hub.transport({
          memberId,
          clusterId,
          handler,
          listenPeerUrls: [this.peerUrl],
          logger: this.logger(proc),
          runtime: rt,
          snapshotTimeoutMs: 20 * this.p.electionTimeoutMs,
        });
        this.transport = t;
        return t;
      },
      failpoints: this.failpoints,
      onFatal: (err) => {
        if (proc.dead) return;
        this.hooks.failed(this, err);
        // A panic ends the process at once: whatever it had in flight is a crash's to keep
        // (and a power loss may follow the panic).
        this.crash(splitRand(this.seed, `${this.name}/${this.incarnation}/fatal`).next() < 0.5 ? 'power' : 'process');
      },
      onRemoved: (reason) => {
        if (proc.dead) return;
        this.status = 'removed';
        this.server = null;
        this.proc = null;
        this.sched.kill(proc);
        this.hooks.gone(this);
        this.hooks.removed(this, reason);
      },
    };
    this.sched.at(this.sched.time, proc, () => {
      EtcdServer.start(opts).then(
        (s) => {
          if (proc.dead) return;
          this.server = s;
          this.status = 'up';
          this.instrument(s, proc);
        },
        (e: unknown) => {
          if (proc.dead) return;
          this.sched.kill(proc);
          this.proc = null;
          this.transport?.stop().catch(() => undefined);
          this.transport = null;
          const msg = e instanceof Error ? e.message : String(e);
          if (/permanently removed/.test(msg)) {
            this.status = 'removed';
            this.hooks.removed(this, msg);
          } else {
            this.status = 'down';
            this.hooks.failed(this, e);
          }
        },
      );
    });
  }

  /** Test hooks on the live server's own objects (no code in src/ changes for them). */
  private instrument(s: EtcdServer, proc: Proc): void {
    const w = s.watchable;
    const written = w.written.bind(w);
    w.written = (batch, events) => {
      if (!proc.dead) this.hooks.applied(this, events);
      written(batch, events);
    };
    const lessor = s.leases.lessor;
    const revoke = lessor.revoke.bind(lessor);
    lessor.revoke = (id, batch) => {
      if (!proc.dead && lessor.exists(id)) this.hooks.revoked(this, id);
      revoke(id, batch);
    };
  }

  /** The process dies; the storage keeps what `kind` says. */
  crash(kind: CrashKind): void {
    const proc = this.proc;
    if (proc === null) return;
    this.sched.kill(proc);
    this.proc = null;
    this.server = null;
    this.crashes++;
    void this.transport?.stop();
    this.transport = null;
    const rand = splitRand(this.seed, `${this.name}/${this.incarnation}/crash`);
    for (const e of this.engines.values()) e.crash(kind, rand);
    this.volume.crash(kind, rand);
    if (this.status !== 'removed') this.status = 'down';
    this.hooks.gone(this);
  }

  pause(): void {
    if (this.proc) this.sched.pause(this.proc);
  }

  resume(): void {
    if (this.proc) this.sched.resume(this.proc);
  }

  get paused(): boolean {
    return this.proc?.paused ?? false;
  }

  /** Moves this member's wall clock (its monotonic clock never jumps). */
  jumpClock(ms: number): void {
    if (this.proc) this.proc.wallOffsetMs += ms;
  }

  /**
   * A client's call to this member: it reaches the process after a network latency (or waits
   * while the process is paused), and its answer comes back after another. A member with no
   * process running refuses at once (connection refused: certainly not applied).
   */
  call<T>(fn: (s: EtcdServer) => Promise<T>): Promise<CallOutcome<T>> {
    return new Promise((resolve) => {
      const proc = this.proc;
      const server = this.server;
      if (proc === null || server === null || this.status !== 'up') {
        this.sched.after(this.net.latency(), null, () => resolve({ kind: 'refused' }));
        return;
      }
      this.sched.after(this.net.latency(), proc, () => {
        if (this.server !== server) return resolve({ kind: 'refused' });
        let p: Promise<T>;
        try {
          p = fn(server);
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(
          (value) => void this.sched.after(this.net.latency(), null, () => resolve({ kind: 'ok', value })),
          (error: unknown) => void this.sched.after(this.net.latency(), null, () => resolve({ kind: 'error', error })),
        );
      });
    });
  }

  describe(): string {
    const s = this.server;
    const where = s ? ` term ${s.term()} leader ${hex(s.leader())} applied ${s.applied()} rev ${s.kv.rev()}` : '';
    return `${this.name} (${hex(this.id)}) ${this.status}${this.paused ? ' paused' : ''}${where}`;
  }
}
