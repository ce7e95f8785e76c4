/**
 * One whole-member simulation = one seed: N complete members (EtcdServer over the in-memory
 * transport, engine and disk) driven by the discrete-event scheduler, random clients, a nemesis,
 * then a quiet phase in which every fault is undone and the cluster must converge; then the
 * checks of checks.ts over everything recorded. Nothing real (timers, clocks, randomness, files,
 * sockets) runs meanwhile (guard.ts); one seed replays a run exactly.
 */
import type { Fields } from '../../../src/base/logger.js';
import type { SeededRand } from '../../../src/base/random.js';
import type { Member } from '../../../src/membership/member-store.js';
import { FailpointPanic } from '../../../src/server/failpoints.js';
import { decodeKv } from '../../../src/mvcc/kv-codec.js';
import { AlarmType } from '../../../src/server/alarms.js';
import { hashKV } from '../../../src/server/maintenance.js';
import { mvccKeyFloor, parseMvccKey } from '../../../src/storage/schema.js';
import { runChecks } from './checks.js';
import { describeParams, drawParams, type SimParams } from './config.js';
import { Guard } from './guard.js';
import { defaultChecker, describeEvent, History, sameEvent, seenEvent, type LinearizabilityChecker, type SeenEvent, type WatchRecord } from './history.js';
import { SimMember, type MemberHooks } from './member.js';
import { SimNetwork } from './network.js';
import { Scheduler, splitRand } from './scheduler.js';
import { admin, clientCall, compactor, kvClient, leaseClient, nemesis, watchClient } from './workload.js';

export interface RunOptions {
  /** Keep and return the trace (the last `traceLines` lines). */
  trace?: boolean;
  traceLines?: number;
  /** Also forbid any async resource but promises from src/ (slower; guard.ts). */
  strictIo?: boolean;
  checker?: LinearizabilityChecker;
  /** The event budget of the run (eventsMaxPerSeed unless given). */
  eventsMax?: number;
}

export interface SeedResult {
  seed: number;
  ok: boolean;
  violations: string[];
  params: string;
  summary: string;
  /** Simulated ms and real ms the run took. */
  simMs: number;
  wallMs: number;
  trace: string[];
}

/** After the faults stop: a write must succeed, then every member catch up, within these. */
export const settleWriteMsMax = 30_000;
export const settleCatchUpMsMax = 30_000;
/** Hard bound on a run's simulated time beyond its workload (a hang is a failure). */
export const runOverrunMsMax = 120_000;
/**
 * A run that takes more events than this is stopped as a runaway: members (or the network) busy
 * without end, simulated time crawling — 600 events per simulated ms in a run whose members had
 * lost acknowledged entries (a WAL without O_DSYNC, injected), which would have taken hours to
 * reach the run's simulated-time bounds. Clean seeds take at most ~73 000 (1..250; ≤ 11 per ms).
 */
export const eventsMaxPerSeed = 2_000_000;

export class Sim {
  readonly sched = new Scheduler();
  readonly net: SimNetwork;
  readonly members: SimMember[] = [];
  readonly history = new History();
  knownRev = 0n;
  knownCompact = 0n;
  readonly lastRead = new Map<string, { value: string | null; modRevision: bigint }>();
  readonly openWatches = new Map<WatchRecord, () => void>();
  /** Members whose add had an unknown outcome: started if some member lists them. */
  readonly pendingAdds: { name: string; learner: boolean }[] = [];
  /** The number in the last member name handed out (m1, m2, ...). */
  memberNo: number;
  readonly workloadEnd: number;
  readonly clientTimeoutMs: number;
  readonly violations: string[] = [];
  /** Member failures that were not failpoints (each is a bug unless explained). */
  readonly failures: string[] = [];
  readonly finals: { member: string; rev: bigint; hash: number; compactRev: bigint; history: SeenEvent[]; records: string[] }[] = [];
  private readonly traceRing: string[] = [];
  /** Counts of what happened, for the summary (was the seed's fault schedule effective?). */
  readonly counts = { failpoints: 0, snapshotsSent: 0, snapshotsInstalled: 0, elections: 0, revokes: 0 };
  private readonly hooks: MemberHooks;

  constructor(
    readonly seed: number,
    readonly p: SimParams,
    private readonly opts: RunOptions,
  ) {
    this.net = new SimNetwork(this.sched, splitRand(seed, 'net'), p, (id) => this.members.find((m) => m.id === id)?.proc ?? null);
    this.workloadEnd = p.workloadMs;
    this.memberNo = p.members;
    this.clientTimeoutMs = p.clientTimeoutMs;
    this.hooks = {
      applied: (m, events) => this.onApplied(m, events),
      revoked: (m, id) => {
        this.counts.revokes++;
        if (!this.history.revokedAt.has(id)) this.history.revokedAt.set(id, { at: this.sched.time, member: m.name });
      },
      failed: (m, err) => {
        if (err instanceof FailpointPanic) {
          this.counts.failpoints++;
          this.trace(`${m.name}: ${err.message} → crash`);
          return;
        }
        const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
        this.failures.push(`${m.name} failed at t=${this.sched.time.toFixed(1)}: ${text}`);
        this.trace(`${m.name}: FAILED ${text.split('\n')[0]}`);
      },
      removed: (m, reason) => this.trace(`${m.name}: removed (${reason})`),
      gone: (m) => {
        for (const [rec, end] of this.openWatches) {
          if (rec.member === m.name) {
            end();
            this.openWatches.delete(rec);
          }
        }
      },
      log: (m, level, msg, fields) => {
        if (msg === 'sending database snapshot') this.counts.snapshotsSent++;
        else if (msg === 'applied incoming snapshot') this.counts.snapshotsInstalled++;
        else if (msg === 'raft elected leader' && fields?.leader === fields?.['local-member-id']) this.counts.elections++;
        if (level === 'info' && !this.opts.trace) return;
        this.trace(`${m.name} ${level}: ${msg}${fields ? ` ${fmtFields(fields)}` : ''}`);
      },
    };
  }

  get tracing(): boolean {
    return this.opts.trace === true;
  }

  trace(line: string): void {
    const max = this.opts.traceLines ?? 400;
    // Without stack frames: V8 may inline differently from one run to the next.
    this.traceRing.push(`[${this.sched.time.toFixed(1).padStart(8)}] ${line.replace(/\n\s+at [^\n]*/g, '')}`);
    if (this.traceRing.length > 2 * max) this.traceRing.splice(0, this.traceRing.length - max);
  }

  traceTail(): string[] {
    return this.traceRing.slice(-(this.opts.traceLines ?? 400));
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.sched.after(ms, null, resolve));
  }

  addMember(id: bigint, name: string, boot: Member[], join: boolean): SimMember {
    const m = new SimMember(id, name, this.sched, this.net, this.p, this.seed, this.hooks, boot, join);
    this.members.push(m);
    return m;
  }

  private onApplied(m: SimMember, events: import('../../../src/api/kv-types.js').Event[]): void {
    const seen = events.map(seenEvent);
    const rev = (seen[0] as SeenEvent).modRevision;
    const truth = this.history.truth.get(rev);
    if (truth === undefined) {
      this.history.truth.set(rev, seen);
      return;
    }
    if (truth.length !== seen.length || truth.some((e, i) => !sameEvent(e, seen[i] as SeenEvent))) {
      this.violations.push(
        `members applied different changes at revision ${rev}: ${m.name} applied [${seen.map(describeEvent).join('; ')}], before that another member applied [${truth.map(describeEvent).join('; ')}]`,
      );
    }
  }

  /** Restarts members that are down, after a pause of their own (a supervisor). */
  supervise(r: SeededRand, quiet: boolean): void {
    for (const add of [...this.pendingAdds]) {
      const url = `http://${add.name}:2380`;
      for (const m of this.members) {
        const listed = m.server?.members.find((x) => x.peerURLs.includes(url));
        if (listed === undefined || m.server === null) continue;
        this.pendingAdds.splice(this.pendingAdds.indexOf(add), 1);
        const nm = this.addMember(listed.id, add.name, m.server.members, true);
        nm.learner = listed.isLearner;
        this.trace(`supervisor: ${add.name} is listed by ${m.name} after all: start it`);
        nm.start();
        break;
      }
    }
    for (const m of this.members) {
      if (m.status !== 'down' || m.proc !== null) continue;
      if (Number.isNaN(m.restartAt)) m.restartAt = this.sched.time + (quiet ? 0 : 100 + r.int(this.p.downMsMax));
      if (m.restartAt <= this.sched.time) {
        this.trace(`supervisor: start ${m.name}`);
        m.start();
      }
    }
  }

  /** The workload ended: every fault is undone. */
  quiet(): void {
    this.net.heal();
    this.net.chaos = false;
    for (const m of this.members) {
      m.resume();
      m.disarm();
    }
    this.trace('quiet: faults stopped, network healed');
  }

  /** A CORRUPT alarm is a false one unless members diverged (which the checks say apart). */
  private checkAlarms(): boolean {
    for (const m of this.members) {
      const alarms = m.server?.alarms.get(AlarmType.CORRUPT) ?? [];
      if (alarms.length > 0) {
        this.violations.push(`CORRUPT alarm raised (seen on ${m.name}) for ${alarms.map((a) => this.members.find((x) => x.id === a.memberID)?.name ?? a.memberID.toString(16)).join(', ')}`);
        return false;
      }
    }
    return true;
  }

  /** The quiet phase: a write must succeed and every member catch up, then the final reads. */
  async settle(): Promise<void> {
    if (!this.checkAlarms()) return;
    const r = splitRand(this.seed, 'settle');
    let probeRev: bigint | undefined;
    const writeBy = this.sched.time + settleWriteMsMax;
    while (this.sched.time < writeBy && probeRev === undefined) {
      this.supervise(r, true);
      const up = this.members.filter((m) => m.status === 'up');
      if (up.length > 0) {
        const m = up[r.int(up.length)] as SimMember;
        const out = await clientCall(this, m, (s) => s.put({ key: Buffer.from('probe'), value: Buffer.from('p'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false }), 3000);
        if (out.kind === 'ok') probeRev = out.value.header.revision;
      }
      if (probeRev === undefined) await this.sleep(200);
    }
    if (probeRev === undefined) {
      if (!this.checkAlarms()) return;
      this.violations.push(`stuck: no write succeeded within ${settleWriteMsMax} ms after the faults stopped; members: ${this.members.map((m) => m.describe()).join(' | ')}`);
      return;
    }
    this.trace(`quiet: probe written at revision ${probeRev}`);
    const inCluster = (): SimMember[] => this.members.filter((m) => m.status !== 'removed');
    const caughtUpBy = this.sched.time + settleCatchUpMsMax;
    let commonRev = 0n;
    const converged = (): boolean => {
      const ms = inCluster();
      if (ms.some((m) => m.status !== 'up' || m.server === null)) return false;
      const revs = ms.map((m) => m.server?.kv.rev() ?? 0n);
      commonRev = revs[0] ?? 0n;
      return revs.every((x) => x >= (probeRev as bigint) && x === revs[0]);
    };
    while (this.sched.time < caughtUpBy && !converged()) {
      this.supervise(r, true);
      await this.sleep(100);
    }
    if (!converged()) {
      const lag = inCluster().filter((m) => m.server === null || m.server.kv.rev() < (probeRev as bigint));
      this.violations.push(
        `stuck: ${lag.length > 0 ? lag.map((m) => m.name).join(', ') : 'members'} did not catch up with revision ${probeRev} within ${settleCatchUpMsMax} ms after the faults stopped (or revisions never agreed); members: ${inCluster().map((m) => m.describe()).join(' | ')}`,
      );
      return;
    }
    if (!this.checkAlarms()) return;
    // Every member: HashKV at the revision they all reached, and its retained history up to it
    // (lease expiries may still write meanwhile).
    const rev = commonRev;
    for (const m of inCluster()) {
      const out = await clientCall(
        this,
        m,
        async (s) => {
          const h = await hashKV(s.kv, s.backend, rev);
          const compactRev = s.kv.compactRev();
          const evs = await s.kv.changes(compactRev + 1n, rev);
          // The records HashKV covered, to say where two members differ.
          const records: string[] = [];
          for await (const [k, v] of s.backend.scan(mvccKeyFloor(0n), mvccKeyFloor(rev + 1n))) {
            const pk = parseMvccKey(k);
            const kv = decodeKv(v);
            records.push(
              `${pk.main}.${pk.sub}${pk.tombstone ? ' (tombstone)' : ''} ${kv.key.toString()}=${JSON.stringify(kv.value.toString())} create ${kv.create_revision} mod ${kv.mod_revision} version ${kv.version} lease ${kv.lease.toString(16)} (${v.length} bytes: ${v.toString('hex')})`,
            );
          }
          return { h, compactRev, evs, records };
        },
        20_000,
      );
      if (out.kind !== 'ok') {
        this.violations.push(`stuck: ${m.name} did not answer HashKV in the quiet phase (${out.kind === 'error' ? String(out.error) : out.kind})`);
        continue;
      }
      this.finals.push({ member: m.name, rev, hash: out.value.h.hash, compactRev: out.value.compactRev, history: out.value.evs.map(seenEvent), records: out.value.records });
    }
  }
}

function fmtFields(f: Fields): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))}`)
    .join(' ');
}

/** Repeated failures (a member failing again at each restart) once, with a count. */
function squeeze(failures: string[]): string[] {
  const byFirstLine = new Map<string, { first: string; n: number }>();
  for (const f of failures) {
    const key = (f.split('\n')[0] as string).replace(/ at t=[0-9.]+/, '');
    const e = byFirstLine.get(key);
    if (e) e.n++;
    else byFirstLine.set(key, { first: f, n: 1 });
  }
  return [...byFirstLine.values()].map((e) => (e.n > 1 ? `${e.first}\n(and ${e.n - 1} more times after restarts)` : e.first));
}

/** Member ids spread over all 64 bits, as etcd's are. */
function memberIds(seed: number, n: number): bigint[] {
  const r = splitRand(seed, 'ids');
  const out: bigint[] = [];
  while (out.length < n) {
    const id = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
    if (id !== 0n && !out.includes(id)) out.push(id);
  }
  return out;
}

export async function runSeed(seed: number, opts: RunOptions = {}): Promise<SeedResult> {
  const t0 = performance.now();
  const p = drawParams(splitRand(seed, 'params'));
  const sim = new Sim(seed, p, opts);
  const guard = new Guard();
  guard.install(opts.strictIo ?? false);
  let finished = false;
  try {
    const ids = memberIds(seed, p.members);
    const boot: Member[] = ids.map((id, k) => ({ id, name: `m${k + 1}`, peerURLs: [`http://m${k + 1}:2380`], clientURLs: [], isLearner: false }));
    for (const [k, id] of ids.entries()) sim.addMember(id, `m${k + 1}`, boot, false).start();
    const script = async (): Promise<void> => {
      const sup = splitRand(seed, 'supervisor');
      let quiet = false;
      const tick = (): void => {
        if (finished) return;
        sim.supervise(sup, quiet);
        sim.sched.after(100, null, tick);
      };
      sim.sched.after(100, null, tick);
      const tasks: Promise<void>[] = [];
      for (let c = 0; c < p.clients; c++) tasks.push(kvClient(sim, c + 1, splitRand(seed, `client${c}`)));
      if (p.leases) tasks.push(leaseClient(sim, splitRand(seed, 'leases')));
      if (p.watches) for (let w = 0; w < 2; w++) tasks.push(watchClient(sim, 100 + w, splitRand(seed, `watch${w}`)));
      if (p.compaction) tasks.push(compactor(sim, splitRand(seed, 'compactor')));
      if (p.membership) tasks.push(admin(sim, splitRand(seed, 'admin')));
      tasks.push(nemesis(sim, splitRand(seed, 'nemesis')));
      await sim.sleep(p.workloadMs);
      quiet = true;
      sim.quiet();
      // The clients stop at the workload's end; the calls they have in flight end by their deadline.
      await Promise.all(tasks);
      await sim.settle();
    };
    let scriptError: unknown = null;
    void script().then(
      () => void (finished = true),
      (e: unknown) => {
        scriptError = e;
        finished = true;
      },
    );
    const eventsMax = opts.eventsMax ?? eventsMaxPerSeed;
    await sim.sched.run(p.workloadMs + runOverrunMsMax, () => finished || sim.sched.events >= eventsMax);
    if (scriptError !== null) sim.violations.push(`simulator error: ${scriptError instanceof Error ? (scriptError.stack ?? scriptError.message) : String(scriptError)}`);
    if (!finished && sim.sched.events >= eventsMax) {
      sim.violations.push(`runaway: ${sim.sched.events} events by t=${(sim.sched.time / 1000).toFixed(1)}s (the bound is ${eventsMax}), ${sim.net.frames} frames; members: ${sim.members.map((m) => m.describe()).join(' | ')}`);
    } else if (!finished) sim.violations.push(`stuck: the run did not end within ${runOverrunMsMax} ms after its workload; members: ${sim.members.map((m) => m.describe()).join(' | ')}`);
  } finally {
    finished = true;
    guard.uninstall();
  }
  const violations = [...guard.violations.slice(0, 3), ...sim.violations, ...squeeze(sim.failures), ...runChecks(sim, opts.checker ?? defaultChecker)];
  const h = sim.history;
  const summary =
    `t=${(sim.sched.time / 1000).toFixed(1)}s events=${sim.sched.events} ops=${h.kv.length} (unknown ${h.kv.filter((o) => o.output === undefined).length}) ` +
    `serializable=${h.serializable.length} watches=${h.watches.length} leases=${h.leases.size} acked=${h.acked.length} revisions=${h.truth.size} ` +
    `crashes=${sim.members.reduce((n, m) => n + m.crashes, 0)} (failpoints ${sim.counts.failpoints}) elections=${sim.counts.elections} snapshots=${sim.counts.snapshotsSent}/${sim.counts.snapshotsInstalled} members=${sim.members.map((m) => `${m.name}:${m.status}`).join(',')} ` +
    `frames=${sim.net.frames} dropped=${sim.net.dropped} dup=${sim.net.duplicated}`;
  return {
    seed,
    ok: violations.length === 0,
    violations,
    params: describeParams(p),
    summary,
    simMs: sim.sched.time,
    wallMs: performance.now() - t0,
    trace: sim.traceTail(),
  };
}
