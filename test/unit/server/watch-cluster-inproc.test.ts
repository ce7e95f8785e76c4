/**
 * Watch on a 3-member cluster (in one process, in-memory peer network — real processes need the
 * peer transport in bin/etcdts, not merged yet): watchers on every member while a write load
 * runs through the followers; the leader is killed mid-load; every watcher of the dead member,
 * and half of the others, resume on another member with start_revision = last received + 1 (a
 * client reconnecting). Each logical watcher's received stream must equal the history the
 * surviving members agree on, filtered for it: nothing missed, nothing twice, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../../src/api/kv-types.js';
import { EtcdServer, type ServerOptions } from '../../../src/server/etcd-server.js';
import type { WatchStream } from '../../../src/mvcc/watch-stream.js';
import { inRange } from '../../../src/mvcc/watcher.js';
import { MemHub } from '../../helpers/mem-hub.js';
import { inprocIds as ids, inprocLogs, inprocOptions } from '../../helpers/inproc-cluster.js';


/** Log lines of each member by data dir. */
const logs = inprocLogs;

function options(hub: MemHub, dir: string, i: number, extra: Partial<ServerOptions> = {}): ServerOptions {
  return inprocOptions(hub, dir, i, extra, 'info');
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`condition not met in time: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let dirs: string[] = [];
let servers: EtcdServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  servers = [];
  dirs = [];
});

/** A client-side watcher that may move between members. */
interface Logical {
  key: Buffer;
  end: Buffer | null;
  received: Event[];
  member: EtcdServer;
  stream: WatchStream;
  id: bigint;
  moves: number;
}

function attach(w: Logical, member: EtcdServer, startRev: bigint): void {
  const stream = member.watchable.newStream();
  let id = -2n;
  stream.onReady = () =>
    setImmediate(() => {
      for (let o = stream.shift(); o; o = stream.shift()) {
        // After a move the old stream's leftovers (events dropped by the cancel, the cancel
        // response itself) are not this watcher's any more.
        if (w.stream !== stream || o.watchId !== id || o.created) continue;
        expect(o.canceled, 'no watcher is canceled by the server').toBe(false);
        w.received.push(...o.events);
      }
    });
  w.member = member;
  w.stream = stream;
  id = stream.create({ watchId: 0n, key: w.key, end: w.end, startRev, noPut: false, noDelete: false, prevKv: false, progressNotify: false, fragment: false });
  w.id = id;
}

function nextRev(w: Logical): bigint {
  const last = w.received[w.received.length - 1];
  return last ? last.kv.mod_revision + 1n : 2n;
}

describe('watch on a 3-member cluster', () => {
  it('watchers on every member see the same history; resuming on another member at last+1 after a leader kill misses and repeats nothing', async () => {
    const hub = new MemHub();
    const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-watch-inproc-'));
    dirs.push(dir);
    const ms = await Promise.all([0, 1, 2].map((i) => EtcdServer.start(options(hub, dir, i))));
    servers.push(...ms);
    await until('a leader', () => ms.some((m) => m.isLeader()) && ms.every((m) => m.leader() !== 0n));

    const ranges: [string, string | null][] = [['k/', 'k0'], ['k/3', null], ['k/5', 'k/8'], ['k/', '']];
    const watchers: Logical[] = [];
    for (const m of ms) {
      for (const [k, e] of ranges) {
        const w = { key: Buffer.from(k), end: e === null ? null : Buffer.from(e), received: [], moves: 0 } as unknown as Logical;
        attach(w, m, 2n);
        watchers.push(w);
      }
    }

    let stop = false;
    let ok = 0;
    const writer = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const alive = ms.filter((m) => servers.includes(m) && !m.isLeader());
        const via = alive[i % alive.length] ?? (ms[0] as EtcdServer);
        const key = Buffer.from(`k/${(i * 7 + n) % 10}`);
        try {
          if (i % 5 === 4) await via.deleteRange({ key, range_end: Buffer.alloc(0), prev_kv: false });
          else await via.put({ key, value: Buffer.from(`v${n}.${i}`), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });
          ok++;
        } catch {
          await new Promise((r) => setTimeout(r, 20)); // leader lost: retry later
        }
      }
    };
    const writers = [writer(1), writer(2), writer(3)];
    await until('writes before the kill', () => ok >= 150);

    // Kill the leader; its watchers and every second one of the others move on.
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    hub.cut(leader.memberId);
    await leader.stop();
    servers = servers.filter((s) => s !== leader);
    const alive = ms.filter((m) => m !== leader);
    watchers.forEach((w, i) => {
      if (w.member !== leader && i % 2 === 0) return;
      const to = alive[(i + w.moves) % alive.length] as EtcdServer;
      if (w.member !== leader) w.stream.cancel(w.id);
      else w.stream.close();
      w.moves++;
      attach(w, to, nextRev(w));
    });
    await until('a new leader', () => alive.some((m) => m.isLeader()));
    const after = ok;
    await until('writes after the kill', () => ok >= after + 150, 30_000);
    // And once more while the load runs: every survivor's watcher hops to the other survivor.
    watchers.forEach((w, i) => {
      if (i % 3 !== 0) return;
      const to = alive.find((m) => m !== w.member) as EtcdServer;
      w.stream.cancel(w.id);
      w.moves++;
      attach(w, to, nextRev(w));
    });
    await until('more writes', () => ok >= after + 250, 30_000);
    stop = true;
    await Promise.all(writers);

    // The survivors agree on the history.
    const [a, b] = alive as [EtcdServer, EtcdServer];
    await until('survivors at the same revision', () => a.kv.rev() === b.kv.rev());
    const rev = a.kv.rev();
    const history = await a.kv.changes(2n, rev);
    const other = await b.kv.changes(2n, rev);
    const evKey = (e: Event): string => `${e.type}:${e.kv.key.toString()}@${e.kv.mod_revision}:${e.kv.value.toString()}`;
    expect(other.map(evKey)).toEqual(history.map(evKey));
    expect(history.length).toBeGreaterThan(300);

    for (const w of watchers) {
      const want = history.filter((e) => inRange(e.kv.key, w.key, w.end)).map(evKey);
      await until(`watcher ${w.key.toString()} caught up`, () => w.received.length >= want.length);
      expect(w.received.map(evKey), `watcher on ${w.key.toString()}..${w.end?.toString()} moved ${w.moves}×`).toEqual(want);
    }
    expect(watchers.filter((w) => w.moves > 0).length).toBeGreaterThan(4);
  }, 120_000);

  it('a watcher on a member that catches up by snapshot gets every event, in order, once', async () => {
    const hub = new MemHub();
    const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-watch-snap-'));
    dirs.push(dir);
    const extra = { snapshotCount: 50, snapshotCatchupEntries: 10 };
    const ms = await Promise.all([0, 1, 2].map((i) => EtcdServer.start(options(hub, dir, i, extra))));
    servers.push(...ms);
    await until('a leader', () => ms.some((m) => m.isLeader()) && ms.every((m) => m.leader() !== 0n));
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    const victim = ms.find((m) => !m.isLeader()) as EtcdServer;
    const put = (k: string, v: string): Promise<unknown> =>
      leader.put({ key: Buffer.from(k), value: Buffer.from(v), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });
    for (let i = 0; i < 20; i++) await put(`s/${i % 7}`, `a${i}`);
    const w = { key: Buffer.from('s/'), end: Buffer.from('s0'), received: [], moves: 0 } as unknown as Logical;
    attach(w, victim, 2n);
    await until('watcher on the victim caught up', () => w.received.length === 20);
    hub.cut(victim.memberId);
    for (let i = 20; i < 220; i++) await put(`s/${i % 7}`, `b${i}`);
    hub.heal(victim.memberId);
    await until('victim installed the snapshot and caught up', () => victim.kv.rev() === leader.kv.rev(), 30_000);
    for (let i = 220; i < 240; i++) await put(`s/${i % 7}`, `c${i}`);
    const history = await leader.kv.changes(2n, leader.kv.rev());
    await until('watcher got everything', () => w.received.length >= history.length, 30_000);
    const evKey = (e: Event): string => `${e.type}:${e.kv.key.toString()}@${e.kv.mod_revision}:${e.kv.value.toString()}`;
    expect(w.received.map(evKey)).toEqual(history.map(evKey));
    expect(history.length).toBe(240);
    expect(logs.get(victim.opts.dataDir)?.some((l) => l.includes('applied incoming snapshot'))).toBe(true);
  }, 120_000);
});
