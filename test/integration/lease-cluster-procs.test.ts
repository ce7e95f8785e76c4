/**
 * Leases on a real 3-member etcdts cluster (separate processes, the gRPC peer transport), driven
 * by the real etcdctl: a key with a 5 s lease kept alive through a follower (keepalives
 * forwarded to the leader) vanishes within TTL + one election timeout once the keep-alive
 * stops, as one DELETE revision on every member (and a DELETE event to a watcher on another
 * member); a lease kept alive survives kill -9 of the
 * leader; a lease nobody keeps alive still expires on time after kill -9 of the leader.
 *
 * Members run with --election-timeout 500 --heartbeat-interval 100 (min TTL 1 s). Every wait
 * is a condition with a deadline; bounds leave slack for a shared 2-core machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { etcdctl, hasEtcdctl, inCI, waitFor } from '../helpers/procs.js';

if (!hasEtcdctl && inCI) throw new Error('integration lease tests need etcdctl under CI');

const electionTimeoutMs = 500;
const timing = ['--election-timeout', String(electionTimeoutMs), '--heartbeat-interval', '100'];

let clusters: Cluster[] = [];
let children: ChildProcess[] = [];
afterEach(async () => {
  for (const p of children) p.kill('SIGKILL');
  children = [];
  for (const c of clusters) await c.stop();
  clusters = [];
});

async function cluster(): Promise<{ c: Cluster; leader: number; followers: number[] }> {
  const c = await startCluster('etcdts', { size: 3, args: timing });
  clusters.push(c);
  const leader = await c.leader();
  return { c, leader, followers: [0, 1, 2].filter((i) => i !== leader) };
}

async function grant(endpoint: string, ttl: number): Promise<string> {
  const r = await etcdctl(endpoint, ['lease', 'grant', String(ttl)]);
  const m = /^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\)/.exec(r.stdout);
  if (!m) throw new Error(`lease grant failed: ${r.stdout}${r.stderr}`);
  return m[1] as string;
}

/** Serializable get on one member: the key's value, or null when absent. */
async function local(endpoint: string, key: string): Promise<string | null> {
  const r = await etcdctl(endpoint, ['get', key, '--consistency=s', '--print-value-only']);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout === '' ? null : r.stdout.trimEnd();
}

function keepAlive(endpoints: string, id: string): { proc: ChildProcess; lines: string[]; times: number[] } {
  const proc = spawn('etcdctl', [`--endpoints=${endpoints}`, 'lease', 'keep-alive', id], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
  children.push(proc);
  const lines: string[] = [];
  const times: number[] = [];
  proc.stdout.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n').filter((x) => x !== '')) {
      lines.push(l);
      times.push(Date.now());
    }
  });
  return { proc, lines, times };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasEtcdctl)('leases on a 3-member etcdts cluster (real processes)', () => {
  it('a 5 s lease kept alive through a follower; once keep-alive stops the key is gone within TTL + one election timeout, one DELETE revision on every member', async () => {
    const { c, leader, followers } = await cluster();
    const f = c.endpoint(followers[0] as number);
    const id = await grant(f, 5);
    // A watcher on another member sees the PUT, then the DELETE of the expiry.
    const watch = spawn('etcdctl', [`--endpoints=${c.endpoint(leader)}`, 'watch', 'svc/a'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
    children.push(watch);
    let watched = '';
    watch.stdout.on('data', (d: Buffer) => (watched += d.toString()));
    await sleep(500);
    expect((await etcdctl(f, ['put', `--lease=${id}`, 'svc/a', 'up'])).stdout).toBe('OK\n');
    const ka = keepAlive(f, id);
    await sleep(7000); // longer than the TTL
    for (let i = 0; i < 3; i++) expect(await local(c.endpoint(i), 'svc/a')).toBe('up');
    ka.proc.kill('SIGKILL');
    const lastRenewal = ka.times.at(-1) as number;
    expect(ka.lines.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ka.lines)).toEqual(new Set([`lease ${id} keepalived with TTL(5)`]));
    await waitFor('svc/a gone on every member', async () => (await Promise.all([0, 1, 2].map((i) => local(c.endpoint(i), 'svc/a')))).every((v) => v === null), 20_000, 50);
    const took = Date.now() - lastRenewal;
    expect(took).toBeGreaterThanOrEqual(4800);
    expect(took).toBeLessThan(5000 + electionTimeoutMs + 2500);
    // One revision deleted the key, the same on every member: visible just before it, gone at it.
    const revs = await Promise.all([0, 1, 2].map(async (i) => JSON.parse((await etcdctl(c.endpoint(i), ['get', 'svc/a', '--consistency=s', '-w', 'json'])).stdout).header.revision as number));
    expect(new Set(revs).size).toBe(1);
    const rev = revs[0] as number;
    for (let i = 0; i < 3; i++) {
      expect((await etcdctl(c.endpoint(i), ['get', 'svc/a', `--rev=${rev - 1}`, '--print-value-only'])).stdout).toBe('up\n');
      expect((await etcdctl(c.endpoint(i), ['get', 'svc/a', `--rev=${rev}`])).stdout).toBe('');
    }
    expect((await etcdctl(f, ['lease', 'timetolive', id])).stdout).toBe(`lease ${id} already expired\n`);
    await waitFor('the watcher saw the DELETE', async () => watched.includes('DELETE'), 10_000);
    expect(watched).toBe('PUT\nsvc/a\nup\nDELETE\nsvc/a\n\n');
  }, 120_000);

  it('a lease kept alive is not lost when the leader is killed', async () => {
    const { c, leader, followers } = await cluster();
    const eps = followers.map((i) => c.endpoint(i)).join(',');
    const id = await grant(c.endpoint(followers[0] as number), 2);
    await etcdctl(c.endpoint(followers[0] as number), ['put', `--lease=${id}`, 'lock/x', 'held']);
    const ka = keepAlive(eps, id);
    await sleep(1500);
    await c.kill(leader);
    await sleep(8000); // 4 × TTL after the kill
    const f = c.endpoint(followers[1] as number);
    expect(await local(f, 'lock/x')).toBe('held');
    const ttl = await etcdctl(f, ['lease', 'timetolive', '--keys', id]);
    expect(ttl.stdout).toMatch(new RegExp(`^lease ${id} granted with TTL\\(2s\\), remaining\\([12]s\\), attached keys\\(\\[lock/x\\]\\)\\n$`));
    expect(ka.proc.exitCode).toBeNull(); // still keeping it alive
    expect(ka.lines.at(-1)).toBe(`lease ${id} keepalived with TTL(2)`);
  }, 120_000);

  it('a lease nobody keeps alive still expires on time when the leader is killed (checkpointed remaining TTL)', async () => {
    const { c, leader, followers } = await cluster();
    const f = c.endpoint(followers[0] as number);
    const t0 = Date.now();
    const id = await grant(f, 10);
    await etcdctl(f, ['put', `--lease=${id}`, 'eph', 'v']);
    await sleep(7000 - (Date.now() - t0));
    await c.kill(leader);
    const killedAt = Date.now() - t0;
    await waitFor('eph gone on the survivors', async () => (await local(f, 'eph')) === null, 30_000, 50);
    const goneAt = Date.now() - t0;
    // Renewed by the election it would live until ≥ killedAt + election + extend + 10 s (≥ 18 s);
    // checkpointed every 2.5 s it goes within checkpoint lag + rounding + election + extend of 10 s.
    expect(goneAt).toBeGreaterThanOrEqual(10_000);
    expect(goneAt).toBeLessThan(killedAt + electionTimeoutMs + 10_000);
    expect(goneAt).toBeLessThan(16_500);
    await waitFor('lease gone', async () => (await etcdctl(f, ['lease', 'timetolive', id])).stdout === `lease ${id} already expired\n`, 10_000);
  }, 120_000);
});
