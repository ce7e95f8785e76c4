/**
 * Three EtcdServer members in one process over an in-memory peer network: elections, writes
 * through any member (followers forward to the leader), linearizable reads on followers,
 * progress with one member down, and a member that fell behind the compacted log catching up
 * by snapshot. Real processes and sockets are covered by test/integration/cluster*.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PutRequest, RangeRequest } from '../../../src/api/kv-types.js';
import { EtcdServer, type ServerOptions } from '../../../src/server/etcd-server.js';
import { MemHub } from '../../helpers/mem-hub.js';
import { inprocIds as ids, inprocLogs, inprocOptions } from '../../helpers/inproc-cluster.js';

const enc = (s: string): Buffer => Buffer.from(s);

const logs = inprocLogs;

function options(hub: MemHub, dir: string, i: number, extra: Partial<ServerOptions> = {}): ServerOptions {
  return inprocOptions(hub, dir, i, { initialClusterToken: 'tok', ...extra }, 'info');
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
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

async function cluster(extra: Partial<ServerOptions> = {}): Promise<{ hub: MemHub; dir: string; ms: EtcdServer[] }> {
  const hub = new MemHub();
  const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-inproc-'));
  dirs.push(dir);
  const ms = await Promise.all([0, 1, 2].map((i) => EtcdServer.start(options(hub, dir, i, extra))));
  servers.push(...ms);
  await until(() => ms.some((m) => m.isLeader()) && ms.every((m) => m.leader() !== 0n));
  return { hub, dir, ms };
}

function rangeReq(key: string, serializable = false): RangeRequest {
  return {
    key: enc(key),
    range_end: Buffer.alloc(0),
    limit: 0n,
    revision: 0n,
    sort_order: 0,
    sort_target: 0,
    serializable,
    keys_only: false,
    count_only: false,
    min_mod_revision: 0n,
    max_mod_revision: 0n,
    min_create_revision: 0n,
    max_create_revision: 0n,
  };
}
const putReq = (key: string, value: string): PutRequest => ({ key: enc(key), value: enc(value), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });

const get = async (s: EtcdServer, key: string, serializable = false): Promise<string | undefined> => {
  const r = await s.range(rangeReq(key, serializable));
  const kv = r.kvs[0];
  return kv ? Buffer.from(kv.value).toString() : undefined;
};

describe('three members in one process', () => {
  it('elects one leader, replicates a write made through a follower, reads it linearizably on every member', async () => {
    const { ms } = await cluster();
    const leaders = ms.filter((m) => m.isLeader());
    expect(leaders).toHaveLength(1);
    const follower = ms.find((m) => !m.isLeader()) as EtcdServer;
    const put = await follower.put(putReq('k', 'v1'));
    expect(put.header?.revision ?? follower.kv.rev()).toBeDefined();
    for (const m of ms) expect(await get(m, 'k')).toBe('v1');
    // Every member applied the same revision; headers carry the real term and each member's id.
    const revs = ms.map((m) => m.kv.rev());
    expect(new Set(revs.map(String)).size).toBe(1);
    expect(ms.map((m) => m.header().member_id)).toEqual(ids);
    expect(ms.every((m) => m.header().raft_term >= 2n)).toBe(true);
    // Members publish their names and client URLs through Raft.
    await until(() => ms.every((m) => m.members.every((x) => x.name !== '')));
    expect(ms[0]?.members.map((x) => x.name)).toEqual(['m0', 'm1', 'm2']);
    expect(ms[2]?.members[1]?.clientURLs).toEqual(['http://127.0.0.1:30001']);
  });

  it('keeps serving with one member cut off; the cut member catches up after healing', async () => {
    const { hub, ms } = await cluster();
    const victim = ms.find((m) => m.isLeader()) as EtcdServer;
    hub.cut(victim.memberId);
    const rest = ms.filter((m) => m !== victim);
    await until(() => rest.some((m) => m.isLeader() && m.leader() === m.memberId), 10_000);
    for (let i = 0; i < 20; i++) await (rest[i % 2] as EtcdServer).put(putReq(`a${i}`, `${i}`));
    // The cut-off member cannot serve a linearizable read (no quorum), but serves serializable ones.
    await expect(victim.range(rangeReq('a1'))).rejects.toThrow();
    expect(await get(victim, 'zzz', true)).toBeUndefined();
    hub.heal(victim.memberId);
    await until(async () => (await get(victim, 'a19', true)) === '19', 15_000);
    expect(await get(victim, 'a19')).toBe('19');
  }, 40_000);

  it('a member that fell behind the compacted log catches up by snapshot and keeps its own identity', async () => {
    const { hub, ms } = await cluster({ snapshotCount: 50, snapshotCatchupEntries: 10 });
    const victim = ms.find((m) => !m.isLeader()) as EtcdServer;
    hub.cut(victim.memberId);
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    for (let i = 0; i < 200; i++) await leader.put(putReq(`s${i}`, `v${i}`));
    hub.heal(victim.memberId);
    await until(async () => (await get(victim, 's199', true)) === 'v199', 20_000);
    expect(victim.kv.rev()).toBe(leader.kv.rev());
    await until(() => logs.get(victim.opts.dataDir)?.some((l) => l.includes('applied incoming snapshot')) === true);
    expect(logs.get(leader.opts.dataDir)?.some((l) => l.includes('saved snapshot'))).toBe(true);
    expect(victim.header().member_id).toBe(victim.memberId);
    expect(await get(victim, 's0', true)).toBe('v0');
    // After the install it keeps applying new entries.
    await leader.put(putReq('after', 'x'));
    await until(async () => (await get(victim, 'after', true)) === 'x');
  }, 60_000);

  it('a restarted member (same data dir) rejoins with its data and ids', async () => {
    const { hub, dir, ms } = await cluster();
    await (ms[0] as EtcdServer).put(putReq('p', '1'));
    await until(async () => (await get(ms[2] as EtcdServer, 'p', true)) === '1');
    await (ms[2] as EtcdServer).stop();
    servers = servers.filter((s) => s !== ms[2]);
    await (ms[0] as EtcdServer).put(putReq('p', '2')).catch(async () => {
      await (ms[1] as EtcdServer).put(putReq('p', '2'));
    });
    // The data dir started with another cluster's token is refused, saying why.
    await expect(EtcdServer.start(options(hub, dir, 2, { clusterId: 0xdeadn, initialClusterToken: 'other' }))).rejects.toThrow(
      /belongs to member 3003 of cluster c1 \(--initial-cluster-token "tok"\), not to a cluster with --initial-cluster-token "other"/,
    );
    const again = await EtcdServer.start(options(hub, dir, 2, { memberId: 0x9999n }));
    servers.push(again);
    expect(again.memberId).toBe(ids[2]);
    await until(async () => (await get(again, 'p', true)) === '2', 15_000);
  }, 40_000);
});
