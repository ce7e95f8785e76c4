/**
 * Real etcdts processes as 3- and 5-member clusters on loopback, started with etcd's static
 * bootstrap flags: the seed scenario (write through one member, read through each), kill -9 of
 * the leader under a write load with no acknowledged write lost, a minority that cannot write,
 * a member that was down through many writes catching up by snapshot, and a full restart.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { ctl, killAll, waitFor } from '../helpers/procs.js';
import { TestKv } from '../helpers/kv-client.js';
import { expectAllAcked, writeLoad } from '../helpers/write-load.js';

// Fast but not twitchy on a shared 2-core machine: heartbeat 100 ms, election 1 s.
const timing = ['--heartbeat-interval', '100', '--election-timeout', '1000'];

let cluster: Cluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});
afterAll(() => killAll());

describe('a 3-member etcdts cluster', () => {
  it('the seed scenario: put through one member, the same value read through each, linearizable and serializable', async () => {
    cluster = await startCluster('etcdts', { size: 3, args: timing });
    const c = cluster;
    const put = await ctl(c.endpoint(0), ['put', 'name7', 'orange']);
    expect(put).toMatchObject({ code: 0, stdout: 'OK\n' });
    for (let i = 0; i < 3; i++) {
      expect((await ctl(c.endpoint(i), ['get', 'name7'])).stdout).toBe('name7\norange\n');
      expect((await ctl(c.endpoint(i), ['get', 'name7', '--consistency=s'])).stdout).toBe('name7\norange\n');
    }
    // Writes work through every member (followers forward to the leader).
    for (let i = 0; i < 3; i++) expect((await ctl(c.endpoint(i), ['put', `k${i}`, `v${i}`])).code).toBe(0);
    expect((await ctl(c.endpoint(2), ['get', '--prefix', 'k', '--print-value-only'])).stdout).toBe('v0\nv1\nv2\n');
    // member list shows the three members with their published names and URLs.
    const list = await ctl(c.endpoint(1), ['member', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      expect(lines.find((l) => l.includes(`, etcd-${i + 1}, `))).toMatch(new RegExp(`^[0-9a-f]+, started, etcd-${i + 1}, http://127\\.0\\.0\\.1:${c.specs[i]?.peerPort}, http://127\\.0\\.0\\.1:${c.specs[i]?.clientPort}, false$`));
    }
  }, 60_000);

  it('kill -9 of the leader under a write load: a new leader soon, no acknowledged write lost', async () => {
    cluster = await startCluster('etcdts', { size: 3, args: timing });
    const c = cluster;
    const lead = await c.leader();
    const others = [0, 1, 2].filter((i) => i !== lead);
    const acked = new Map<string, string>();
    const stop = { v: false };
    const load = writeLoad([0, 1, 2].map((i) => c.endpoint(i)), 12, acked, stop);
    await waitFor('writes before the kill', async () => acked.size > 200, 30_000);
    await c.kill(lead);
    const killedAt = Date.now();
    const before = acked.size;
    await waitFor('writes after the kill', async () => acked.size > before + 200, 30_000);
    const recoveredMs = Date.now() - killedAt;
    stop.v = true;
    await load;
    const newLead = await c.leader();
    expect(others).toContain(newLead);
    // A few election timeouts (1 s each), with generous slack for a loaded machine.
    expect(recoveredMs).toBeLessThan(15_000);
    for (const i of others) await expectAllAcked(c.endpoint(i), acked);
    // The killed member comes back and has everything too.
    await c.restart(lead);
    await waitFor('restarted member caught up', async () => {
      const kv = new TestKv(c.endpoint(lead));
      const r = await kv.range('load/', 'load0', true).catch(() => null);
      kv.close();
      return r !== null && Number(r.count) >= acked.size;
    }, 30_000);
    await expectAllAcked(c.endpoint(lead), acked);
  }, 120_000);

  it('a minority cannot write and answers errors; the majority keeps serving', async () => {
    cluster = await startCluster('etcdts', { size: 3, args: timing });
    const c = cluster;
    expect((await ctl(c.endpoint(0), ['put', 'a', '1'])).code).toBe(0);
    await c.kill(1);
    // Majority (0 and 2) still serves writes and reads (after an election if 1 was the leader).
    await waitFor('the majority writes', async () => (await ctl(c.endpoint(2), ['put', 'a', '2'])).code === 0, 30_000);
    expect((await ctl(c.endpoint(0), ['get', 'a', '--print-value-only'])).stdout).toBe('2\n');
    await c.kill(2);
    // Member 0 alone: writes and linearizable reads fail, serializable reads still answer.
    const put = await ctl(c.endpoint(0), ['--command-timeout=3s', 'put', 'a', '3']);
    expect(put.code).not.toBe(0);
    expect(put.stderr).toMatch(/context deadline exceeded|request timed out|no leader/);
    const lin = await ctl(c.endpoint(0), ['--command-timeout=3s', 'get', 'a']);
    expect(lin.code).not.toBe(0);
    expect((await ctl(c.endpoint(0), ['get', 'a', '--consistency=s', '--print-value-only'])).stdout).toBe('2\n');
    // Quorum back: the write that timed out was not applied later behind the client's back
    // (or, if it was, it is visible consistently everywhere) and new writes work.
    await c.restart(2);
    await waitFor('writes work again', async () => (await ctl(c.endpoint(0), ['put', 'b', '1'])).code === 0, 30_000);
    const a0 = (await ctl(c.endpoint(0), ['get', 'a', '--print-value-only'])).stdout;
    const a2 = (await ctl(c.endpoint(2), ['get', 'a', '--print-value-only'])).stdout;
    expect(a0).toBe(a2);
  }, 120_000);

  it('a member down through many writes catches up by snapshot', async () => {
    cluster = await startCluster('etcdts', {
      size: 3,
      args: [...timing, '--snapshot-count', '200', '--experimental-snapshot-catchup-entries', '20'],
    });
    const c = cluster;
    const lead = await c.leader();
    const victim = (lead + 1) % 3;
    await c.kill(victim, 'SIGTERM');
    const kv = new TestKv(c.endpoint(lead));
    for (let i = 0; i < 600; i++) await kv.put(`snap/${String(i).padStart(4, '0')}`, `v${i}`);
    kv.close();
    const m = await c.restart(victim);
    await waitFor('victim caught up', async () => {
      const k = new TestKv(c.endpoint(victim));
      const r = await k.range('snap/0599', '', true).catch(() => null);
      k.close();
      return r?.kvs[0]?.value.toString() === 'v599';
    }, 30_000);
    expect(m.logs.join('')).toContain('applied incoming snapshot');
    const k = new TestKv(c.endpoint(victim));
    const all = await k.range('snap/', 'snap0', true);
    k.close();
    expect(Number(all.count)).toBe(600);
  }, 120_000);

  it('a full cluster restart keeps every acknowledged write', async () => {
    cluster = await startCluster('etcdts', { size: 3, args: timing });
    const c = cluster;
    const acked = new Map<string, string>();
    const stop = { v: false };
    const load = writeLoad([0, 1, 2].map((i) => c.endpoint(i)), 8, acked, stop);
    await waitFor('writes', async () => acked.size > 300, 30_000);
    await Promise.all([0, 1, 2].map((i) => c.kill(i)));
    stop.v = true;
    await load;
    await Promise.all([0, 1, 2].map((i) => c.restart(i)));
    await c.leader();
    for (let i = 0; i < 3; i++) await expectAllAcked(c.endpoint(i), acked);
  }, 120_000);
});

describe('a 5-member etcdts cluster', () => {
  it('serves through every member and survives losing two members', async () => {
    cluster = await startCluster('etcdts', { size: 5, args: timing });
    const c = cluster;
    expect((await ctl(c.endpoint(4), ['put', 'five', 'members'])).code).toBe(0);
    for (let i = 0; i < 5; i++) expect((await ctl(c.endpoint(i), ['get', 'five', '--print-value-only'])).stdout).toBe('members\n');
    const lead = await c.leader();
    await c.kill(lead);
    await c.kill((lead + 1) % 5);
    const alive = [0, 1, 2, 3, 4].filter((i) => c.members[i] !== null);
    await waitFor('writes after losing two', async () => (await ctl(c.endpoint(alive[0] as number), ['put', 'five', 'still'])).code === 0, 30_000);
    for (const i of alive) expect((await ctl(c.endpoint(i), ['get', 'five', '--print-value-only'])).stdout).toBe('still\n');
  }, 120_000);
});
