/**
 * Leases on three members (EtcdServer instances in one process over the in-memory peer network
 * of test/helpers/mem-hub.ts; real processes need the peer transport, not merged yet): expiry
 * decided by the leader and replicated as a revoke with a DELETE event on every member;
 * keepalives through followers forwarded to the leader; a lease kept alive survives the loss of
 * the leader; a lease not kept alive still expires on time after the loss of the leader (its
 * remaining TTL was checkpointed, so the election did not renew it).
 *
 * Real time (leases are seconds long); every wait is a condition with a deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventType, type PutRequest, type RangeRequest } from '../../src/api/kv-types.js';
import { EtcdServer, type ServerOptions } from '../../src/server/etcd-server.js';
import { MemHub } from '../helpers/mem-hub.js';
import { inprocIds as ids, inprocOptions } from '../helpers/inproc-cluster.js';

const electionTimeoutMs = 500;
const enc = (s: string): Buffer => Buffer.from(s);

function options(hub: MemHub, dir: string, i: number, extra: Partial<ServerOptions> = {}): ServerOptions {
  return inprocOptions(hub, dir, i, { electionTimeoutMs, heartbeatIntervalMs: 50, ...extra });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dirs: string[] = [];
let servers: EtcdServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  servers = [];
  dirs = [];
});

async function cluster(extra: Partial<ServerOptions> = {}): Promise<{ hub: MemHub; ms: EtcdServer[] }> {
  const hub = new MemHub();
  const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-lease-'));
  dirs.push(dir);
  const ms = await Promise.all([0, 1, 2].map((i) => EtcdServer.start(options(hub, dir, i, extra))));
  servers.push(...ms);
  await until('a leader', () => ms.some((m) => m.isLeader()) && ms.every((m) => m.leader() !== 0n));
  // the leader's lessor is promoted once its term's first entry applied
  await until('a primary lessor', () => ms.some((m) => m.leases.lessor.isPrimary()));
  return { hub, ms };
}

function rangeReq(key: string): RangeRequest {
  return {
    key: enc(key),
    range_end: Buffer.alloc(0),
    limit: 0n,
    revision: 0n,
    sort_order: 0,
    sort_target: 0,
    serializable: true,
    keys_only: false,
    count_only: false,
    min_mod_revision: 0n,
    max_mod_revision: 0n,
    min_create_revision: 0n,
    max_create_revision: 0n,
  };
}
const putReq = (key: string, lease: bigint): PutRequest => ({ key: enc(key), value: enc('v'), lease, prev_kv: false, ignore_value: false, ignore_lease: false });
const has = async (m: EtcdServer, key: string): Promise<boolean> => (await m.range(rangeReq(key))).kvs.length > 0;

async function killLeader(hub: MemHub, ms: EtcdServer[]): Promise<{ dead: EtcdServer; alive: EtcdServer[] }> {
  const dead = ms.find((m) => m.isLeader()) as EtcdServer;
  hub.cut(dead.memberId);
  await dead.stop();
  return { dead, alive: ms.filter((m) => m !== dead) };
}

describe('leases on three members', () => {
  it('keepalives through a follower keep a 5 s lease; once they stop the key is gone within TTL + one election timeout, with a DELETE on every member', async () => {
    const { ms } = await cluster();
    const follower = ms.find((m) => !m.isLeader()) as EtcdServer;
    const g = await follower.leases.grant({ ID: 0n, TTL: 5n });
    expect(g.TTL).toBe(5n);
    await follower.put(putReq('svc/a', g.ID));
    for (let i = 0; i < 8; i++) {
      await sleep(1000);
      expect(await follower.leases.renew(g.ID)).toBe(5n); // forwarded to the leader
    }
    const lastRenew = Date.now();
    for (const m of ms) expect(await has(m, 'svc/a')).toBe(true);
    const revBefore = ms[0]?.kv.rev() as bigint;
    await until('key gone everywhere', async () => (await Promise.all(ms.map((m) => has(m, 'svc/a')))).every((x) => !x), 15_000);
    const took = Date.now() - lastRenew;
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(took).toBeLessThanOrEqual(5000 + electionTimeoutMs + 1500); // + tick and apply slack
    for (const m of ms) {
      await until('revoke applied', () => m.kv.rev() > revBefore);
      const evs = await m.kv.changes(revBefore + 1n, revBefore + 1n);
      expect(evs.map((e) => [e.type, e.kv.key.toString()])).toEqual([[EventType.DELETE, 'svc/a']]);
      expect(m.leases.lessor.exists(g.ID)).toBe(false);
    }
    expect(await follower.leases.renew(g.ID)).toBe(0n);
    const ttl = await follower.leases.timeToLive({ ID: g.ID, keys: false });
    expect([ttl.TTL, ttl.grantedTTL]).toEqual([-1n, 0n]);
  }, 60_000);

  it('a lease kept alive is not lost when the leader dies', async () => {
    const { hub, ms } = await cluster();
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    const g = await leader.leases.grant({ ID: 0n, TTL: 3n });
    await leader.put(putReq('lock/x', g.ID));
    await until('grant on every member', () => ms.every((m) => m.leases.lessor.exists(g.ID)));
    await sleep(1000);
    const { alive } = await killLeader(hub, ms);
    // The client keeps renewing through a surviving member (it waits out the election).
    const until2 = Date.now() + 9000;
    while (Date.now() < until2) {
      expect(await (alive[0] as EtcdServer).leases.renew(g.ID)).toBe(3n);
      await sleep(1000);
    }
    for (const m of alive) {
      expect(await has(m, 'lock/x')).toBe(true);
      expect(m.leases.lessor.exists(g.ID)).toBe(true);
    }
    const ttl = await (alive[1] as EtcdServer).leases.timeToLive({ ID: g.ID, keys: true });
    expect(ttl.grantedTTL).toBe(3n);
    expect(ttl.keys.map(String)).toEqual(['lock/x']);
  }, 60_000);

  it('a lease not kept alive still expires on time when the leader dies (its remaining TTL was checkpointed)', async () => {
    const { hub, ms } = await cluster();
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    const t0 = Date.now();
    const g = await leader.leases.grant({ ID: 0n, TTL: 10n });
    await leader.put(putReq('eph', g.ID));
    await sleep(7000 - (Date.now() - t0));
    const { alive } = await killLeader(hub, ms);
    const killedAt = Date.now() - t0;
    await until('key gone on the survivors', async () => !(await has(alive[0] as EtcdServer, 'eph')), 20_000);
    const goneAt = Date.now() - t0;
    // Not before its TTL. Renewed by the election it would live until killedAt + election +
    // extend + 10 s ≥ 17.5 s; checkpointed every 2.5 s (remaining rounded up to whole seconds)
    // it goes at most checkpoint lag + rounding + election + extend after 10 s.
    expect(goneAt).toBeGreaterThanOrEqual(10_000);
    expect(goneAt).toBeLessThan(killedAt + electionTimeoutMs + 10_000);
    expect(goneAt).toBeLessThan(16_000);
    for (const m of alive) await until('revoke applied', () => !m.leases.lessor.exists(g.ID));
  }, 60_000);

  it('a member that catches up by snapshot gets the leases, their checkpoints and attachments, and can take over expiry', async () => {
    const { hub, ms } = await cluster({ snapshotCount: 50, snapshotCatchupEntries: 10 });
    const victim = ms.find((m) => !m.isLeader()) as EtcdServer;
    hub.cut(victim.memberId);
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    const long = await leader.leases.grant({ ID: 0n, TTL: 600n });
    const short = await leader.leases.grant({ ID: 77n, TTL: 6n });
    for (let i = 0; i < 120; i++) await leader.put(putReq(`s${i}`, i % 2 === 0 ? long.ID : short.ID));
    hub.heal(victim.memberId);
    await until('snapshot installed', () => victim.kv.rev() === leader.kv.rev(), 30_000);
    for (const id of [long.ID, short.ID]) expect(victim.leases.lessor.state(id)).toEqual(leader.leases.lessor.state(id));
    expect(victim.leases.lessor.keysOf(short.ID)).toHaveLength(60);
    // The leader dies; whoever leads now (the snapshot-installed member included) expires the short lease.
    await killLeader(hub, ms);
    await until('short lease revoked on the survivors', () => ms.filter((m) => m !== leader).every((m) => !m.leases.lessor.exists(short.ID)), 20_000);
    expect(await has(victim, 's1')).toBe(false);
    expect(await has(victim, 's0')).toBe(true);
  }, 60_000);
});
