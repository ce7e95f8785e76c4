/**
 * Maintenance across a Raft cluster (three EtcdServer members in one process over an in-memory
 * peer network): HashKV gives the same value on every member at a revision and a different one
 * once the data differs; an alarm changed through any member is replicated to all (and every
 * member refuses puts while NOSPACE is active); the quota check on one member raises NOSPACE for
 * the whole cluster; a follower streams a consistent snapshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import type { PutRequest } from '../../../src/api/kv-types.js';
import { AlarmAction, AlarmType } from '../../../src/server/alarms.js';
import { EtcdServer, type ServerOptions } from '../../../src/server/etcd-server.js';
import { hashKV } from '../../../src/server/maintenance.js';
import { snapshotChunks, writeSnapshotFile } from '../../../src/server/snapshot.js';
import { BoltReader } from '../../../src/api/snapshot-file.js';
import { MemHub } from '../../helpers/mem-hub.js';
import { inprocIds as ids, inprocOptions } from '../../helpers/inproc-cluster.js';

const enc = (s: string): Buffer => Buffer.from(s);
const putReq = (key: string, value: string): PutRequest => ({ key: enc(key), value: enc(value), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });

function options(hub: MemHub, dir: string, i: number, extra: Partial<ServerOptions> = {}): ServerOptions {
  return inprocOptions(hub, dir, i, extra);
}

async function until(cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
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

async function cluster(extra: (i: number) => Partial<ServerOptions> = () => ({})): Promise<EtcdServer[]> {
  const hub = new MemHub();
  const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-maint-'));
  dirs.push(dir);
  const ms = await Promise.all([0, 1, 2].map((i) => EtcdServer.start(options(hub, dir, i, extra(i)))));
  servers.push(...ms);
  await until(() => ms.some((m) => m.isLeader()) && ms.every((m) => m.leader() !== 0n));
  return ms;
}

const followers = (ms: EtcdServer[]): EtcdServer[] => ms.filter((m) => !m.isLeader());

describe('maintenance in a three-member cluster', () => {
  it('HashKV is the same on every member, and changes with the data', async () => {
    const ms = await cluster();
    let rev = 0n;
    for (let i = 0; i < 30; i++) rev = (await (ms[i % 3] as EtcdServer).put(putReq(`k${i % 7}`, `v${i}`))).header?.revision ?? 0n;
    await until(() => ms.every((m) => m.kv.rev() === rev));
    const hashes = await Promise.all(ms.map((m) => hashKV(m.kv, m.backend, 0n)));
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
    expect(hashes.every((h) => h.currentRev === rev)).toBe(true);
    await (ms[1] as EtcdServer).put(putReq('k1', 'changed'));
    await until(() => ms.every((m) => m.kv.rev() === rev + 1n));
    const after = await Promise.all(ms.map((m) => hashKV(m.kv, m.backend, 0n)));
    expect(new Set(after.map((h) => h.hash)).size).toBe(1);
    expect(after[0]?.hash).not.toBe(hashes[0]?.hash);
    // At the old revision every member still gives the old hash.
    for (const m of ms) expect((await hashKV(m.kv, m.backend, rev)).hash).toBe(hashes[0]?.hash);
  }, 60_000);

  it('the corruption check finds a member whose store differs at the same revision and raises CORRUPT', async () => {
    const ms = await cluster();
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    let rev = 0n;
    for (let i = 0; i < 10; i++) rev = (await leader.put(putReq(`c${i}`, `v${i}`))).header?.revision ?? 0n;
    await until(() => ms.every((m) => m.kv.rev() === rev));
    expect(await leader.corruption.checkOnce()).toEqual([]);
    // Damage one follower's stored record behind Raft's back: same revision, different bytes.
    const victim = followers(ms)[0] as EtcdServer;
    let damaged = false;
    for await (const [k, v] of victim.backend.scan(Buffer.from('k'), Buffer.from('l'))) {
      const bad = Buffer.from(v);
      bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
      await victim.backend.engine.write([{ type: 'put', key: k, value: bad }], false);
      damaged = true;
      break;
    }
    expect(damaged).toBe(true);
    expect(followers(ms)[0]?.isLeader()).toBe(false);
    expect(await leader.corruption.checkOnce()).toEqual([victim.memberId]);
    await until(() => ms.every((m) => m.alarms.get(AlarmType.CORRUPT).length === 1));
    expect(leader.alarms.get(AlarmType.CORRUPT)[0]?.memberID).toBe(victim.memberId);
    await expect(leader.put(putReq('x', 'y'))).rejects.toSatisfy((e: unknown) => e instanceof EtcdError && e.spec === Errors.Corrupt);
  }, 60_000);

  it('an alarm changed through a follower is replicated; NOSPACE refuses puts on every member', async () => {
    const ms = await cluster();
    const f = followers(ms)[0] as EtcdServer;
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    await f.alarm({ action: AlarmAction.ACTIVATE, memberID: 0x2002n, alarm: AlarmType.NOSPACE });
    await until(() => ms.every((m) => m.alarms.get(AlarmType.NONE).length === 1));
    for (const m of ms) await expect(m.put(putReq('x', 'y'))).rejects.toSatisfy((e: unknown) => e instanceof EtcdError && e.spec === Errors.NoSpace);
    // Deletes still go through.
    const del = await leader.deleteRange({ key: enc('k'), range_end: Buffer.alloc(0), prev_kv: false });
    expect(del.deleted).toBe(0n);
    const listed = await leader.alarm({ action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE });
    expect(listed.alarms).toEqual([{ memberID: 0x2002n, alarm: AlarmType.NOSPACE }]);
    await leader.alarm({ action: AlarmAction.DEACTIVATE, memberID: 0x2002n, alarm: AlarmType.NOSPACE });
    await until(() => ms.every((m) => m.alarms.get(AlarmType.NONE).length === 0));
    const ok = await f.put(putReq('x', 'y'));
    expect(ok.header?.revision).toBeGreaterThan(1n);
  }, 60_000);

  it('the quota of one member raises NOSPACE for the whole cluster', async () => {
    const ms = await cluster((i) => (i === 2 ? { quotaBackendBytes: 0 } : {}));
    const small = ms[2] as EtcdServer;
    await expect(small.put(putReq('a', 'b'))).rejects.toSatisfy((e: unknown) => e instanceof EtcdError && e.spec === Errors.NoSpace);
    await until(() => ms.every((m) => m.alarms.get(AlarmType.NOSPACE).length === 1));
    expect(ms[0]?.alarms.get(AlarmType.NOSPACE)).toEqual([{ memberID: ids[2], alarm: AlarmType.NOSPACE }]);
    await expect((ms[0] as EtcdServer).put(putReq('a', 'b'))).rejects.toSatisfy((e: unknown) => e instanceof EtcdError && e.spec === Errors.NoSpace);
  }, 60_000);

  it('a follower writes a snapshot of its state with every key', async () => {
    const ms = await cluster();
    let rev = 0n;
    for (let i = 0; i < 50; i++) rev = (await (ms[i % 3] as EtcdServer).put(putReq(`s${i}`, `v${i}`))).header?.revision ?? 0n;
    await until(() => ms.every((m) => m.kv.rev() === rev));
    const f = followers(ms)[0] as EtcdServer;
    const snap = await writeSnapshotFile(f.backend, path.join(dirs[0] as string, 'snap.tmp'));
    const parts: Buffer[] = [];
    for await (const c of snapshotChunks(snap)) parts.push(c.blob);
    const file = Buffer.concat(parts).subarray(0, snap.size);
    const r = new BoltReader({ size: file.length, read: (o, l) => file.subarray(o, o + l) });
    const keys = [...(r.bucket(Buffer.from('key')) ?? [])];
    expect(keys.length).toBe(50);
    expect(keys[keys.length - 1]?.[0].readBigUInt64BE(0)).toBe(rev);
  }, 60_000);
});
