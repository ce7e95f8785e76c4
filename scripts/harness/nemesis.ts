/**
 * The fault harness's nemesis: one fault at a time, each for a random duration, then healed,
 * then a random quiet gap. The seed decides the sequence of kinds, targets and durations (the
 * processes' timing does not replay exactly; the schedule does).
 *
 * Kinds:
 * - kill: kill -9 a member, restart it after the downtime.
 * - pause: SIGSTOP a member, SIGCONT after the duration.
 * - partition: cut links at the IP level (netns.ts), one of: a member isolated both ways; a
 *   member that can send but not hear; one that hears but cannot send; a minority cut from the
 *   majority; a single link, both ways or one way.
 * - disk: the member's data dir (its own tmpfs) shrunk to what it already uses, so the next
 *   writes fail with ENOSPC; a member may exit on that (etcd panics), and is restarted once
 *   the disk has room again.
 * - slowfs: every fsync/fdatasync and O_DSYNC write of the member sleeps 5–300 ms first
 *   (slow-fsync.c, LD_PRELOAD; etcdts only, Go's etcd does not call libc).
 * - failpoint: the member is restarted with one of its named failpoints armed (kill or panic,
 *   etcdts only), which ends it at that point of its loop on the next client write; then it is
 *   restarted clean.
 */
import { spawnSync } from 'node:child_process';
import { statfsSync, writeSync, openSync, closeSync } from 'node:fs';
import type { SeededRand } from '../../src/base/random.js';
import { cutLink, healLink, type Netns } from './netns.js';
import type { Member } from './members.js';

export const faultKinds = ['kill', 'pause', 'partition', 'disk', 'slowfs', 'failpoint'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface FaultRecord {
  kind: FaultKind;
  detail: string;
  start: number;
  end: number;
  /** Members that were out of service (killed, paused, cut off, armed). */
  targets: number[];
}

export interface NemesisOptions {
  kinds: FaultKind[];
  members: Member[];
  rand: SeededRand;
  now: () => number;
  netns?: Netns;
  /** tmpfs mount point of each member's data dir (disk faults). */
  diskMounts?: string[];
  diskBytes: number;
  /** Control file of each member's slow-fsync shim. */
  slowfsCtl?: string[];
  /** Restarts a member and resolves when it was spawned (the harness supervises). */
  restart: (i: number, env?: Record<string, string>) => Promise<void>;
  /** Index of the member the cluster follows now, if one answers (half the faults aim at it). */
  leader: () => Promise<number | null>;
  log: (line: string) => void;
  /** Range of fault durations and quiet gaps, in ms. */
  faultMs: [number, number];
  gapMs: [number, number];
}

const failpoints = ['raftBeforeSave', 'raftAfterSave', 'raftBeforeApply', 'raftAfterApply', 'backendBeforeCommit'] as const;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function setSlowfs(ctl: string, us: number): void {
  const fd = openSync(ctl, 'r+');
  const b = Buffer.alloc(4);
  b.writeUInt32LE(us >>> 0);
  // In place: the shim maps this file; truncating it would fault its reads.
  writeSync(fd, b, 0, 4, 0);
  closeSync(fd);
}

export function resizeTmpfs(mount: string, bytes: number): void {
  const r = spawnSync('mount', ['-o', `remount,size=${Math.ceil(bytes / 4096) * 4096}`, mount], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`remount ${mount}: ${r.stderr}`);
}

export class Nemesis {
  readonly faults: FaultRecord[] = [];
  private stopping = false;
  private loop: Promise<void> | null = null;
  /** Links cut now, as [from, to]. */
  private cut: [number, number][] = [];
  /** Members whose disk is full now. */
  readonly diskFull = new Set<number>();
  current: FaultRecord | null = null;
  private readonly diskFaulted = new Set<number>();

  constructor(private readonly o: NemesisOptions) {}

  start(): void {
    this.loop = this.run();
  }

  /** Heals the fault in progress and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private between(range: [number, number]): number {
    return range[0] + this.o.rand.next() * (range[1] - range[0]);
  }

  /** Sleeps up to ms, waking early when the run stops. */
  private async hold(ms: number): Promise<void> {
    const until = this.o.now() + ms;
    while (!this.stopping && this.o.now() < until) await sleep(Math.min(100, until - this.o.now()));
  }

  private async run(): Promise<void> {
    if (this.o.kinds.length === 0) return;
    while (!this.stopping) {
      await this.hold(this.between(this.o.gapMs));
      if (this.stopping) break;
      const kind = this.o.kinds[this.o.rand.int(this.o.kinds.length)] as FaultKind;
      const dur = this.between(this.o.faultMs);
      const rec: FaultRecord = { kind, detail: '', start: this.o.now(), end: 0, targets: [] };
      this.current = rec;
      try {
        await this.inject(rec, dur);
      } finally {
        rec.end = this.o.now();
        this.current = null;
        this.faults.push(rec);
        this.o.log(`${kind} ${rec.detail} healed after ${((rec.end - rec.start) / 1000).toFixed(1)} s`);
      }
    }
  }

  /** A random member; half the time the leader, where most faults hurt most. */
  private async pickMember(): Promise<number> {
    const any = this.o.rand.int(this.o.members.length);
    if (this.o.rand.next() < 0.5) return any;
    return (await this.o.leader()) ?? any;
  }

  private async inject(rec: FaultRecord, dur: number): Promise<void> {
    const ms = this.o.members;
    switch (rec.kind) {
      case 'kill': {
        const i = await this.pickMember();
        rec.targets = [i];
        rec.detail = `${ms[i]?.name} (down ${(dur / 1000).toFixed(1)} s)`;
        this.o.log(`kill -9 ${rec.detail}`);
        await (ms[i] as Member).kill9();
        await this.hold(dur);
        await this.o.restart(i);
        return;
      }
      case 'pause': {
        const i = await this.pickMember();
        rec.targets = [i];
        rec.detail = `${ms[i]?.name} (${(dur / 1000).toFixed(1)} s)`;
        this.o.log(`SIGSTOP ${rec.detail}`);
        (ms[i] as Member).pause();
        await this.hold(dur);
        (ms[i] as Member).resume();
        return;
      }
      case 'partition': {
        const links = await this.partition(rec);
        this.o.log(`partition ${rec.detail} for ${(dur / 1000).toFixed(1)} s`);
        for (const [a, b] of links) cutLink(this.o.netns as Netns, a, b);
        this.cut = links;
        await this.hold(dur);
        this.healLinks();
        return;
      }
      case 'disk': {
        const i = await this.pickMember();
        rec.targets = [i];
        rec.detail = `${ms[i]?.name} full (${(dur / 1000).toFixed(1)} s)`;
        const mount = (this.o.diskMounts as string[])[i] as string;
        const st = statfsSync(mount);
        const used = (st.blocks - st.bfree) * st.bsize;
        this.o.log(`disk ${rec.detail}, ${(used / 1e6).toFixed(1)} MB used`);
        // Anything the member may still write from here on fails with ENOSPC (and it may exit).
        (ms[i] as Member).expectExit('disk full');
        this.diskFull.add(i);
        this.diskFaulted.add(i);
        resizeTmpfs(mount, used + 8192);
        await this.hold(dur);
        resizeTmpfs(mount, this.o.diskBytes);
        this.diskFull.delete(i);
        // A write that failed just before the disk had room again may still end the member.
        await sleep(1000);
        if ((ms[i] as Member).up) (ms[i] as Member).expectExit(null);
        else await this.o.restart(i);
        return;
      }
      case 'slowfs': {
        const i = await this.pickMember();
        const us = Math.round(5_000 + this.o.rand.next() * 295_000);
        rec.targets = [];
        rec.detail = `${ms[i]?.name} fsync +${(us / 1000).toFixed(0)} ms (${(dur / 1000).toFixed(1)} s)`;
        this.o.log(`slowfs ${rec.detail}`);
        const ctl = (this.o.slowfsCtl as string[])[i] as string;
        setSlowfs(ctl, us);
        await this.hold(dur);
        setSlowfs(ctl, 0);
        return;
      }
      case 'failpoint': {
        const i = await this.pickMember();
        const point = failpoints[this.o.rand.int(failpoints.length)] as string;
        const action = this.o.rand.next() < 0.5 ? 'kill' : 'panic';
        rec.targets = [i];
        rec.detail = `${ms[i]?.name} ${point}=${action}`;
        this.o.log(`failpoint ${rec.detail}`);
        const m = ms[i] as Member;
        await m.kill9('restart to arm a failpoint');
        m.expectExit(`failpoint ${point}=${action}`);
        await this.o.restart(i, { ETCDTS_FAILPOINTS: `${point}=${action}` });
        m.expectExit(`failpoint ${point}=${action}`);
        const fired = await m.waitExit(Math.max(dur, 3000));
        rec.detail += fired ? ' (fired)' : ' (did not fire)';
        if (!fired) await m.kill9('disarm a failpoint');
        await this.o.restart(i);
        return;
      }
    }
  }

  private async partition(rec: FaultRecord): Promise<[number, number][]> {
    const n = this.o.members.length;
    const names = (xs: number[]): string => xs.map((i) => this.o.members[i]?.name).join(',');
    const all = Array.from({ length: n }, (_, i) => i);
    const shape = this.o.rand.int(5);
    const i = await this.pickMember();
    const others = all.filter((x) => x !== i);
    const links: [number, number][] = [];
    if (shape === 0) {
      for (const o of others) links.push([i, o], [o, i]);
      rec.detail = `isolate ${names([i])}`;
      rec.targets = [i];
    } else if (shape === 1) {
      for (const o of others) links.push([o, i]);
      rec.detail = `${names([i])} cannot hear (sends only)`;
      rec.targets = [i];
    } else if (shape === 2) {
      for (const o of others) links.push([i, o]);
      rec.detail = `${names([i])} cannot send (hears only)`;
      rec.targets = [i];
    } else if (shape === 3) {
      const shuffled = [...all].sort(() => this.o.rand.next() - 0.5);
      const minority = shuffled.slice(0, Math.floor((n - 1) / 2));
      const majority = shuffled.slice(minority.length);
      for (const a of minority) for (const b of majority) links.push([a, b], [b, a]);
      rec.detail = `minority ${names(minority)} | majority ${names(majority)}`;
      rec.targets = minority;
    } else {
      const j = others[this.o.rand.int(others.length)] as number;
      const oneWay = this.o.rand.next() < 0.5;
      links.push([i, j]);
      if (!oneWay) links.push([j, i]);
      rec.detail = oneWay ? `link ${names([i])} → ${names([j])} cut` : `link ${names([i])} ↔ ${names([j])} cut`;
      rec.targets = [];
    }
    return links;
  }

  /** Whether member i's disk was ever full in this run. */
  hadDiskFault(i: number): boolean {
    return this.diskFaulted.has(i);
  }

  private healLinks(): void {
    for (const [a, b] of this.cut) healLink(this.o.netns as Netns, a, b);
    this.cut = [];
  }

  /** Undoes whatever could still be in effect (end of run, or an error). */
  healAll(): void {
    if (this.o.netns) this.healLinks();
    for (const c of this.o.slowfsCtl ?? []) setSlowfs(c, 0);
    for (const i of this.diskFull) resizeTmpfs((this.o.diskMounts as string[])[i] as string, this.o.diskBytes);
    this.diskFull.clear();
    for (const m of this.o.members) m.resume();
  }
}
