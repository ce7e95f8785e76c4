/**
 * The simulated clients and the nemesis. Clients call the server API of a member directly
 * (EtcdServer: put, range, deleteRange, txn, compact, leases, watchable store, membership), as
 * the gRPC services would after decoding, through SimMember.call (network latency both ways;
 * a member with no process refuses). Every outcome goes into the History: a write that failed
 * or timed out is recorded as possibly applied.
 */
import { CompareResult, CompareTarget, emptyRangeRequest, type TxnRequest } from '../../../src/api/kv-types.js';
import type { SeededRand } from '../../../src/base/random.js';
import type { EtcdServer } from '../../../src/server/etcd-server.js';
import { noWatchId, type WatchStream } from '../../../src/mvcc/watch-stream.js';
import type { FailpointName } from '../../../src/server/failpoints.js';
import { pick } from './config.js';
import { describeKvOp } from '../../helpers/kv-history.js';
import { seenEvent, type KvInput, type KvOp, type KvOutput, type WatchRecord } from './history.js';
import type { CallOutcome, SimMember } from './member.js';
import type { Sim } from './run.js';

const b = (s: string): Buffer => Buffer.from(s);

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A client's call with its own deadline (the outcome is then unknown). */
export async function clientCall<T>(sim: Sim, m: SimMember, fn: (s: EtcdServer) => Promise<T>, timeoutMs = sim.clientTimeoutMs): Promise<CallOutcome<T> | { kind: 'timeout' }> {
  return new Promise((resolve) => {
    let done = false;
    const timer = sim.sched.after(timeoutMs, null, () => {
      if (done) return;
      done = true;
      resolve({ kind: 'timeout' });
    });
    void m.call(fn).then((o) => {
      if (done) return;
      done = true;
      timer.cancelled = true;
      resolve(o);
    });
  });
}

/** A member to talk to: mostly one that runs, sometimes any (a refused call costs nothing). */
export function pickMember(sim: Sim, r: SeededRand): SimMember | undefined {
  const live = sim.members.filter((m) => m.status === 'up');
  const all = sim.members.filter((m) => m.status !== 'removed');
  if (live.length > 0 && r.next() < 0.9) return pick(r, live);
  return all.length > 0 ? pick(r, all) : undefined;
}

function noteRevision(sim: Sim, rev: bigint | undefined): void {
  if (rev !== undefined && rev > sim.knownRev) sim.knownRev = rev;
}

/** One operation on a checked key, recorded for the linearizability check. */
async function kvOp(sim: Sim, client: number, m: SimMember, key: string, input: KvInput): Promise<void> {
  const op: KvOp = { id: sim.history.opId(), client, key, input, call: sim.sched.time, member: m.name };
  const run = async (s: EtcdServer): Promise<KvOutput> => {
    switch (input.f) {
      case 'get': {
        const r = await s.range(emptyRangeRequest(b(key)));
        const kv = r.kvs[0];
        return { f: 'get', value: kv ? kv.value.toString() : null, modRevision: kv?.mod_revision, header: r.header.revision };
      }
      case 'put': {
        const r = await s.put({ key: b(key), value: b(input.value), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });
        return { f: 'put', header: r.header.revision };
      }
      case 'delete': {
        const r = await s.deleteRange({ key: b(key), range_end: Buffer.alloc(0), prev_kv: false });
        return { f: 'delete', deleted: r.deleted > 0n, header: r.header.revision };
      }
      case 'cas': {
        const cmp =
          input.ifValue !== undefined
            ? { result: CompareResult.EQUAL, target: CompareTarget.VALUE, key: b(key), target_union: 'value' as const, value: b(input.ifValue), range_end: Buffer.alloc(0) }
            : { result: CompareResult.EQUAL, target: CompareTarget.MOD, key: b(key), target_union: 'mod_revision' as const, mod_revision: input.ifModRevision ?? 0n, range_end: Buffer.alloc(0) };
        const req: TxnRequest = {
          compare: [cmp],
          success: [{ request: 'request_put', request_put: { key: b(key), value: b(input.value), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false } }],
          failure: [],
        };
        const r = await s.txn(req);
        return { f: 'cas', succeeded: r.succeeded, header: r.header.revision };
      }
    }
  };
  const out = await clientCall(sim, m, run);
  if (out.kind === 'refused') return; // never reached the member: certainly no effect
  if (out.kind === 'ok') {
    op.output = out.value;
    op.ret = sim.sched.time;
    noteRevision(sim, out.value.header);
    const o = out.value;
    if (o.f === 'put' || (o.f === 'cas' && o.succeeded)) sim.history.acked.push({ key, value: (input as { value: string }).value, revision: o.header as bigint, opId: op.id });
    if (o.f === 'delete' && o.deleted) sim.history.acked.push({ key, value: null, revision: o.header as bigint, opId: op.id });
    if (o.f === 'get') sim.lastRead.set(key, { value: o.value, modRevision: o.modRevision ?? 0n });
  } else {
    op.error = out.kind === 'timeout' ? 'client timeout' : errText(out.error);
  }
  if (sim.tracing) sim.trace(`client: ${describeKvOp(op)}`);
  if (op.output === undefined && input.f === 'get') return; // a read without an answer has no effect
  sim.history.kv.push(op);
}

async function serializableGet(sim: Sim, m: SimMember, key: string): Promise<void> {
  const out = await clientCall(sim, m, async (s) => s.range({ ...emptyRangeRequest(b(key)), serializable: true }));
  if (out.kind !== 'ok') return;
  const kv = out.value.kvs[0];
  sim.history.serializable.push({ member: m.name, key, value: kv ? kv.value.toString() : null, modRevision: kv?.mod_revision ?? 0n, header: out.value.header.revision, at: sim.sched.time });
}

/** A range over the whole `k` prefix, now or at a past revision, checked against the truth. */
async function rangeRead(sim: Sim, m: SimMember, r: SeededRand): Promise<void> {
  const serializable = r.next() < 0.5;
  const lo = sim.knownCompact + 1n;
  const rev = r.next() < 0.5 && sim.knownRev >= lo && lo > 0n ? lo + BigInt(r.int(Number(sim.knownRev - lo) + 1)) : 0n;
  const out = await clientCall(sim, m, async (s) => s.range({ ...emptyRangeRequest(b('k'), b('l')), revision: rev, serializable }));
  if (out.kind !== 'ok') return;
  sim.history.ranges.push({
    member: m.name,
    serializable,
    rev,
    header: out.value.header.revision,
    kvs: out.value.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString(), modRevision: kv.mod_revision, createRevision: kv.create_revision, version: kv.version })),
    at: sim.sched.time,
  });
}

/** A client doing put/get/delete/compare-and-swap on the checked keys. */
export async function kvClient(sim: Sim, client: number, r: SeededRand): Promise<void> {
  while (sim.sched.time < sim.workloadEnd) {
    const m = pickMember(sim, r);
    if (m === undefined) return;
    const key = `k${r.int(sim.p.keys)}`;
    const x = r.next();
    if (sim.p.serializableReads && x < 0.1) await serializableGet(sim, m, key);
    else if (x < 0.15) await rangeRead(sim, m, r);
    else if (x < 0.35) await kvOp(sim, client, m, key, { f: 'get' });
    else if (x < 0.65) await kvOp(sim, client, m, key, { f: 'put', value: `v${sim.history.opId()}` });
    else if (x < 0.72) await kvOp(sim, client, m, key, { f: 'delete' });
    else {
      const last = sim.lastRead.get(key);
      const value = `v${sim.history.opId()}`;
      if (last !== undefined && last.value !== null && r.next() < 0.5) await kvOp(sim, client, m, key, { f: 'cas', ifValue: last.value, value });
      else await kvOp(sim, client, m, key, { f: 'cas', ifModRevision: last?.modRevision ?? 0n, value });
    }
    await sim.sleep(r.next() < 0.5 ? 0 : r.int(30));
  }
}

/** A client that grants leases, attaches a key, keeps some alive, revokes some, lets some expire. */
export async function leaseClient(sim: Sim, r: SeededRand): Promise<void> {
  while (sim.sched.time < sim.workloadEnd) {
    const m = pickMember(sim, r);
    if (m === undefined) return;
    // The client picks the id, so a grant of unknown outcome still names its lease.
    const id = BigInt(1 + r.int(0x7fff_ffff)) * 0x1_0000n + BigInt(r.int(0x1_0000));
    const call = sim.sched.time;
    const g = await clientCall(sim, m, (s) => s.leases.grant({ ID: id, TTL: BigInt(pick(r, [1, 2, 3])) }));
    if (g.kind !== 'ok') {
      await sim.sleep(50);
      continue;
    }
    const ttlMs = Number(g.value.TTL) * 1000;
    const rec = { id, ttlMs, aliveCalls: [call], revokeCalledAt: null as number | null };
    sim.history.leases.set(id, rec);
    const m2 = pickMember(sim, r);
    if (m2) await clientCall(sim, m2, (s) => s.put({ key: b(`lease/${id.toString(16)}`), value: b('x'), lease: id, prev_kv: false, ignore_value: false, ignore_lease: false }));
    // Keep it alive for a while (a keepalive every third of the TTL), then revoke or let go.
    const keepUntil = sim.sched.time + r.next() * 3 * ttlMs;
    while (sim.sched.time < keepUntil && sim.sched.time < sim.workloadEnd) {
      await sim.sleep(ttlMs / 3);
      const mk = pickMember(sim, r);
      if (!mk) break;
      const at = sim.sched.time;
      const k = await clientCall(sim, mk, (s) => s.leases.renew(id));
      if (k.kind === 'ok' && k.value > 0n) rec.aliveCalls.push(at);
      if (k.kind === 'ok' && k.value === 0n) break;
    }
    if (r.next() < 0.5) {
      const mr = pickMember(sim, r);
      if (mr) {
        rec.revokeCalledAt = sim.sched.time;
        await clientCall(sim, mr, (s) => s.leases.revoke({ ID: id }));
      }
    }
    await sim.sleep(r.int(200));
  }
}

/** A client that watches the checked keys from now or from past revisions. */
export async function watchClient(sim: Sim, client: number, r: SeededRand): Promise<void> {
  while (sim.sched.time < sim.workloadEnd) {
    const m = pickMember(sim, r);
    if (m === undefined || m.status !== 'up') {
      await sim.sleep(100);
      continue;
    }
    const single = r.next() < 0.5;
    const key = single ? `k${r.int(sim.p.keys)}` : 'k';
    const end = single ? null : 'l';
    const past = r.next() < 0.6 && sim.knownRev > 1n;
    const lo = sim.knownCompact + 1n;
    const askedRev = past && sim.knownRev >= lo ? lo + BigInt(r.int(Number(sim.knownRev - lo) + 1)) : 0n;
    const rec: WatchRecord = {
      id: sim.history.watches.length + 1,
      client,
      member: m.name,
      key,
      end,
      askedRev,
      startRev: askedRev,
      createdAt: sim.sched.time,
      events: [],
      syncedTo: 0n,
      end_: 'open',
      compactRevision: 0n,
    };
    sim.history.watches.push(rec);
    const opened = await openWatch(sim, m, rec);
    if (opened === null) {
      sim.history.watches.pop();
      continue;
    }
    const until = sim.sched.time + 200 + r.int(3000);
    while (sim.sched.time < until && rec.end_ === 'open') await sim.sleep(50);
    if (rec.end_ === 'open') await opened.finish();
    await sim.sleep(r.int(100));
  }
}

interface OpenWatch {
  finish(): Promise<void>;
}

/**
 * Creates a watcher on a stream of member m's watchable store, drained on the member's own
 * turns as the watch service's pump does. finish(): asks for progress (every event up to its
 * revision is then delivered), waits for it a little, and cancels.
 */
function openWatch(sim: Sim, m: SimMember, rec: WatchRecord): Promise<OpenWatch | null> {
  return new Promise((res) => {
    let answered = false;
    const resolve = (w: OpenWatch | null): void => {
      if (answered) return;
      answered = true;
      res(w);
    };
    // The member may crash before the create reaches it.
    sim.sched.after(2000, null, () => resolve(null));
    const proc = m.proc;
    const server = m.server;
    if (proc === null || server === null) return resolve(null);
    sim.sched.after(sim.net.latency(), proc, () => {
      if (m.server !== server || answered) return resolve(null);
      const stream: WatchStream = server.watchable.newStream();
      let scheduled = false;
      let progressAsked = false;
      const drain = (): void => {
        scheduled = false;
        for (let o = stream.shift(); o !== undefined; o = stream.shift()) {
          if (rec.end_ !== 'open') return;
          if (o.created) {
            if (o.canceled) rec.end_ = 'canceled';
            else if (rec.askedRev === 0n) rec.startRev = o.rev + 1n;
            continue;
          }
          if (o.canceled) {
            rec.end_ = o.compactRevision > 0n ? 'compacted' : 'canceled';
            rec.compactRevision = o.compactRevision;
            continue;
          }
          if (o.watchId === noWatchId) {
            if (progressAsked && o.rev > rec.syncedTo) rec.syncedTo = o.rev;
            continue;
          }
          for (const e of o.events) rec.events.push(seenEvent(e));
          noteRevision(sim, o.rev);
        }
      };
      stream.onReady = () => {
        if (scheduled) return;
        scheduled = true;
        m.server?.rt.soon(drain);
      };
      const watchId = stream.create({
        watchId: 0n,
        key: b(rec.key),
        end: rec.end === null ? null : b(rec.end),
        startRev: rec.askedRev,
        noPut: false,
        noDelete: false,
        prevKv: false,
        progressNotify: false,
        fragment: false,
      });
      sim.openWatches.set(rec, () => {
        if (rec.end_ === 'open') rec.end_ = 'member-down';
      });
      resolve({
        finish: async () => {
          const p0 = m.proc;
          if (p0 === null || m.server !== server || rec.end_ !== 'open') return;
          sim.sched.after(sim.net.latency(), p0, () => {
            progressAsked = true;
            stream.requestProgress();
          });
          const until = sim.sched.time + 1000;
          const before = rec.syncedTo;
          while (sim.sched.time < until && rec.syncedTo === before && rec.end_ === 'open') await sim.sleep(20);
          if (rec.end_ !== 'open') return;
          rec.end_ = 'canceled';
          sim.openWatches.delete(rec);
          if (m.proc === p0) sim.sched.after(sim.net.latency(), p0, () => void stream.cancel(watchId));
        },
      });
    });
  });
}

/** Compactions now and then, at a revision some clients have seen. */
export async function compactor(sim: Sim, r: SeededRand): Promise<void> {
  while (sim.sched.time < sim.workloadEnd) {
    await sim.sleep(500 + r.int(1500));
    const m = pickMember(sim, r);
    if (m === undefined || sim.knownRev < 3n) continue;
    const rev = sim.knownRev - BigInt(r.int(Math.min(20, Number(sim.knownRev) - 1)));
    if (rev <= sim.knownCompact) continue;
    const out = await clientCall(sim, m, (s) => s.compact({ revision: rev, physical: r.next() < 0.5 }));
    if (out.kind === 'ok' && rev > sim.knownCompact) sim.knownCompact = rev;
  }
}

/** Membership changes: add a learner or a voter (then start it), promote a learner, remove a member. */
export async function admin(sim: Sim, r: SeededRand): Promise<void> {
  while (sim.sched.time < sim.workloadEnd) {
    await sim.sleep(800 + r.int(2000));
    const m = pickMember(sim, r);
    if (m === undefined || m.status !== 'up') continue;
    const inCluster = sim.members.filter((x) => x.status !== 'removed');
    const learners = inCluster.filter((x) => x.learner);
    const x = r.next();
    if (x < 0.45 && inCluster.length < 5) {
      const asLearner = r.next() < 0.7;
      const name = `m${++sim.memberNo}`;
      const out = await clientCall(sim, m, (s) => s.memberAdd([`http://${name}:2380`], asLearner));
      if (out.kind === 'ok') {
        const nm = sim.addMember(out.value.member.id, name, out.value.members, true);
        nm.learner = asLearner;
        sim.trace(`admin: added ${name} (${asLearner ? 'learner' : 'voter'}) via ${m.name}`);
        nm.start();
      } else if (out.kind !== 'refused') {
        // Perhaps added all the same: an operator would look, and start it if it is listed.
        sim.trace(`admin: adding ${name} via ${m.name}: outcome unknown (${out.kind === 'error' ? errText(out.error) : out.kind})`);
        sim.pendingAdds.push({ name, learner: asLearner });
      }
    } else if (x < 0.7 && learners.length > 0) {
      const l = pick(r, learners);
      const out = await clientCall(sim, m, (s) => s.memberPromote(l.id));
      if (out.kind === 'ok') {
        l.learner = false;
        sim.trace(`admin: promoted ${l.name} via ${m.name}`);
      }
    } else if (x < 0.85 && inCluster.length > Math.max(1, sim.p.members - 1)) {
      const victim = pick(r, inCluster);
      const out = await clientCall(sim, m, (s) => s.memberRemove(victim.id));
      if (out.kind === 'ok') sim.trace(`admin: removed ${victim.name} via ${m.name}`);
    }
  }
}

/** Faults, one every ~faultGapMs, each undone after a while; all healed at the workload's end. */
export async function nemesis(sim: Sim, r: SeededRand): Promise<void> {
  const f = sim.p.faults;
  const kinds = (Object.keys(f) as (keyof typeof f)[]).filter((k) => f[k] && (k !== 'failpoint' || sim.p.failpoints.length > 0));
  if (kinds.length === 0) return;
  while (sim.sched.time < sim.workloadEnd) {
    await sim.sleep(sim.p.faultGapMs * (0.2 + 1.6 * r.next()));
    if (sim.sched.time >= sim.workloadEnd) return;
    const live = sim.members.filter((m) => m.status === 'up' || m.status === 'starting');
    if (live.length === 0) continue;
    const m = pick(r, live);
    switch (pick(r, kinds)) {
      case 'crash': {
        const kind = r.next() < 0.5 ? 'power' : 'process';
        sim.trace(`nemesis: crash (${kind}) ${m.describe()}`);
        m.crash(kind);
        break;
      }
      case 'failpoint': {
        const point: FailpointName = pick(r, sim.p.failpoints);
        sim.trace(`nemesis: arm ${point} on ${m.name}`);
        m.arm(point);
        break;
      }
      case 'partition': {
        const others = sim.members.filter((o) => o !== m && o.status !== 'removed');
        if (others.length === 0) break;
        const y = r.next();
        if (y < 0.35) {
          sim.trace(`nemesis: isolate ${m.name} (connections cut)`);
          for (const o of others) sim.net.block(m.id, o.id);
        } else if (y < 0.6) {
          sim.trace(`nemesis: isolate ${m.name} (packets dropped)`);
          for (const o of others) {
            sim.net.drop(m.id, o.id);
            sim.net.drop(o.id, m.id);
          }
        } else if (y < 0.8) {
          const o = pick(r, others);
          sim.trace(`nemesis: drop ${m.name} → ${o.name} (one way)`);
          sim.net.drop(m.id, o.id);
        } else {
          sim.trace(`nemesis: ${m.name} hears nobody (one way)`);
          for (const o of others) sim.net.drop(o.id, m.id);
        }
        const heal = 200 + r.int(4000);
        sim.sched.after(heal, null, () => {
          if (sim.sched.time < sim.workloadEnd) {
            sim.trace('nemesis: heal network');
            sim.net.heal();
          }
        });
        break;
      }
      case 'pause': {
        if (m.proc === null || m.paused) break;
        const ms = 100 + r.int(3000);
        sim.trace(`nemesis: pause ${m.name} for ${ms} ms`);
        m.pause();
        const proc = m.proc;
        sim.sched.after(ms, null, () => {
          if (m.proc === proc) m.resume();
        });
        break;
      }
      case 'clockJump': {
        const ms = (r.next() < 0.5 ? -1 : 1) * (1000 + r.int(30_000));
        sim.trace(`nemesis: ${m.name}'s wall clock jumps ${ms} ms`);
        m.jumpClock(ms);
        break;
      }
    }
  }
}
