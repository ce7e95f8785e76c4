/**
 * Runtime membership on real etcdts processes: growing 3 → 5 through learners that are promoted
 * once in sync, removing a follower and then the leader under a write load without losing an
 * acknowledged write (removed members stop and say why), and replacing a dead member (remove,
 * add, start with --initial-cluster-state existing; it catches up by snapshot).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Cluster, memberStatus, startCluster } from '../helpers/cluster.js';
import { addAndStart, ctlRetry, notYetHealthy, promote } from '../helpers/membership.js';
import { ctl, killAll, type MemberProc, waitFor } from '../helpers/procs.js';
import { TestKv } from '../helpers/kv-client.js';
import { expectAllAcked, writeLoad } from '../helpers/write-load.js';

const timing = ['--heartbeat-interval', '100', '--election-timeout', '1000'];

let cluster: Cluster | null = null;
const extra: MemberProc[] = [];
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
  await Promise.all(extra.splice(0).map((m) => m.kill('SIGKILL')));
});
afterAll(() => killAll());

async function memberLines(endpoint: string): Promise<string[]> {
  const r = await ctl(endpoint, ['member', 'list']);
  expect(r.code).toBe(0);
  return r.stdout.trim().split('\n');
}

const idOf = async (endpoint: string): Promise<string> => BigInt((await memberStatus(endpoint))?.header.member_id ?? '0').toString(16);

describe('runtime membership of an etcdts cluster', () => {
  it('grows 3 → 5 through learners promoted once in sync; the new members serve reads and writes', async () => {
    cluster = await startCluster('etcdts', { size: 3, args: timing });
    const c = cluster;
    expect((await ctl(c.endpoint(0), ['put', 'before', 'growth'])).code).toBe(0);
    for (const name of ['etcd-4', 'etcd-5']) {
      const m = await addAndStart(c, ctl, c.endpoint(0), name, { learner: true, args: timing });
      extra.push(m.proc);
      expect(m.addOutput).toMatch(/^Member [0-9a-f ]{16} added to cluster [0-9a-f ]{16}\n\nETCD_NAME="etcd-\d"\nETCD_INITIAL_CLUSTER=".*"\nETCD_INITIAL_ADVERTISE_PEER_URLS="http:\/\/127\.0\.0\.1:\d+"\nETCD_INITIAL_CLUSTER_STATE="existing"\n$/);
      const learnerLine = (await memberLines(c.endpoint(1))).find((l) => l.startsWith(`${m.id},`));
      expect(learnerLine).toMatch(/, true$/);
      // Promoted through a follower: the request is forwarded to the leader.
      const p = await promote(ctl, c.endpoint(1), m.id);
      expect(p.stdout).toMatch(new RegExp(`^Member\\s+${m.id} promoted in cluster`));
      await waitFor(`${name} started as a voter`, async () => (await memberLines(c.endpoint(2))).some((l) => l.startsWith(`${m.id}, started, ${name},`) && l.endsWith(', false')));
      // It has the data written before it joined, and serves writes.
      expect((await ctl(m.proc.endpoint, ['get', 'before'])).stdout).toBe('before\ngrowth\n');
      expect((await ctl(m.proc.endpoint, ['put', `by-${name}`, 'x'])).code).toBe(0);
    }
    const lines = await memberLines(c.endpoint(0));
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => / started, /.test(l) && l.endsWith(', false'))).toBe(true);
    for (const ep of [c.endpoint(0), ...extra.map((m) => m.endpoint)]) {
      expect((await ctl(ep, ['get', 'by-etcd-5'])).stdout).toBe('by-etcd-5\nx\n');
    }
    // A second learner is refused while one waits (etcd's limit of one learner).
    const l1 = await ctlRetry(ctl, c.endpoint(0), ['member', 'add', 'l1', '--peer-urls=http://127.0.0.1:1', '--learner'], notYetHealthy);
    expect(l1.code).toBe(0);
    const l2 = await ctl(c.endpoint(0), ['member', 'add', 'l2', '--peer-urls=http://127.0.0.1:2', '--learner']);
    expect(l2.stderr).toContain('Error: etcdserver: too many learner members in cluster');
    // A learner that never started is not in sync.
    const l1Id = /Member\s+([0-9a-f]+) added/.exec(l1.stdout)?.[1] as string;
    expect((await ctl(c.endpoint(0), ['member', 'promote', l1Id])).stderr).toContain('etcdserver: can only promote a learner member which is in sync with leader');
  }, 240_000);

  it('removes a follower and then the leader under a write load: no acknowledged write is lost, the removed members stop and say why', async () => {
    cluster = await startCluster('etcdts', { size: 5, args: timing });
    const c = cluster;
    const lead = await c.leader();
    const follower = [0, 1, 2, 3, 4].find((i) => i !== lead) as number;
    const survivors = [0, 1, 2, 3, 4].filter((i) => i !== lead && i !== follower);
    const acked = new Map<string, string>();
    const stop = { v: false };
    const load = writeLoad(survivors.map((i) => c.endpoint(i)), 6, acked, stop);
    await waitFor('some writes acknowledged', async () => acked.size > 50, 30_000);

    const fid = await idOf(c.endpoint(follower));
    const rf = await ctlRetry(ctl, c.endpoint(survivors[0] as number), ['member', 'remove', fid], notYetHealthy);
    expect(rf.stdout).toMatch(new RegExp(`^Member\\s+${fid} removed from cluster`));
    expect(await c.members[follower]?.exited).toBe(0);
    expect(c.members[follower]?.logs.join('')).toContain('the member has been permanently removed from the cluster');

    const before = acked.size;
    await waitFor('writes go on with 4 members', async () => acked.size > before + 50, 30_000);
    const lid = await idOf(c.endpoint(lead));
    const rl = await ctlRetry(ctl, c.endpoint(lead), ['member', 'remove', lid], notYetHealthy);
    expect(rl.stdout).toMatch(new RegExp(`^Member\\s+${lid} removed from cluster`));
    expect(await c.members[lead]?.exited).toBe(0);
    expect(c.members[lead]?.logs.join('')).toContain('the member has been permanently removed from the cluster');
    c.members[lead] = null;
    c.members[follower] = null;

    const newLead = await c.leader();
    expect(survivors).toContain(newLead);
    const after = acked.size;
    await waitFor('writes go on with 3 members', async () => acked.size > after + 50, 30_000);
    stop.v = true;
    await load;
    for (const i of survivors) await expectAllAcked(c.endpoint(i), acked);
    const lines = await memberLines(c.endpoint(newLead));
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.startsWith(`${lid},`) || l.startsWith(`${fid},`))).toBe(false);
    // Removing it again: etcd answers "member not found" for a removed id.
    expect((await ctl(c.endpoint(newLead), ['member', 'remove', lid])).stderr).toContain('Error: etcdserver: member not found');
  }, 240_000);

  it('replaces a dead member: remove, add, start with --initial-cluster-state existing; it catches up by snapshot', async () => {
    const args = [...timing, '--snapshot-count', '100', '--experimental-snapshot-catchup-entries', '10'];
    cluster = await startCluster('etcdts', { size: 3, args });
    const c = cluster;
    const lead = await c.leader();
    const dead = [0, 1, 2].find((i) => i !== lead) as number;
    const live = [0, 1, 2].find((i) => i !== lead && i !== dead) as number;
    const deadId = await idOf(c.endpoint(dead));
    await c.kill(dead);
    const kv = new TestKv(c.endpoint(lead));
    for (let i = 0; i < 300; i++) await kv.put(`k${i}`, `v${i}`);
    kv.close();
    // A member that is down is safe to remove under the strict check.
    const r = await ctlRetry(ctl, c.endpoint(live), ['member', 'remove', deadId], notYetHealthy);
    expect(r.code).toBe(0);
    const m = await addAndStart(c, ctl, c.endpoint(live), 'replacement', { args });
    extra.push(m.proc);
    await waitFor('the replacement has every key', async () => (await ctl(m.proc.endpoint, ['get', 'k299', '--consistency=s'])).stdout === 'k299\nv299\n', 60_000);
    expect(m.proc.logs.join('')).toContain('applied incoming snapshot');
    const lines = await memberLines(m.proc.endpoint);
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.startsWith(`${m.id}, started, replacement,`))).toBe(true);
    // The cluster keeps a quorum without the old leader: the replacement counts.
    await c.kill(lead);
    const kv2 = new TestKv(m.proc.endpoint);
    await waitFor('a write after the old leader died', async () => (await kv2.put('after', 'x').then(() => true).catch(() => false)), 30_000);
    kv2.close();
  }, 240_000);

  it('a member removed while it was paused learns it from its peers, stops, and is refused after a restart', async () => {
    cluster = await startCluster('etcdts', { size: 3, args: timing });
    const c = cluster;
    const lead = await c.leader();
    const paused = [0, 1, 2].find((i) => i !== lead) as number;
    const pid = await idOf(c.endpoint(paused));
    const proc = c.members[paused] as MemberProc;
    proc.proc.kill('SIGSTOP');
    try {
      const r = await ctlRetry(ctl, c.endpoint(lead), ['member', 'remove', pid], notYetHealthy);
      expect(r.code).toBe(0);
      expect((await ctl(c.endpoint(lead), ['put', 'after-removal', 'x'])).code).toBe(0);
    } finally {
      proc.proc.kill('SIGCONT');
    }
    // It never applies its removal (the leader no longer replicates to it): it asks a peer.
    expect(await proc.exited).toBe(0);
    expect(proc.logs.join('')).toContain('the member has been permanently removed from the cluster');
    if (process.env.DUMP_LOGS) (await import('node:fs')).writeFileSync(process.env.DUMP_LOGS, proc.logs.join(''));
    c.members[paused] = null;
    const again = await c.restart(paused).catch((e: unknown) => e);
    // Either refused at start (it knows) or stopped soon after (its peers tell it again).
    if (again instanceof Error) expect(again.message).toContain('permanently removed');
    else expect(await (again as MemberProc).exited).toBe(0);
    c.members[paused] = null;
    expect(await memberLines(c.endpoint(lead))).toHaveLength(2);
  }, 180_000);
});
