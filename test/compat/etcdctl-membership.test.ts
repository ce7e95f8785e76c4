/**
 * The real etcdctl's member add/remove/update/promote/list and move-leader against a 3-member
 * etcdts cluster and a 3-member etcd cluster started with the same flags on the same ports (one
 * after the other), so the initial ids are equal. A runtime-added member's id hashes the time,
 * so it is masked as <new>; lists ordered by id are compared sorted; which member answered and
 * the raft term are masked.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, clusterPorts, startCluster } from '../helpers/cluster.js';
import { addAndStart, ctlRetry, notYetHealthy, promote } from '../helpers/membership.js';
import { etcdctl, freePort, hasEtcd, hasEtcdctl, inCI, killAll, type RunResult, waitFor } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI (apt-get install etcd-server etcd-client)');

/** clientv3's retry warnings carry timestamps and random client ids: not part of the answer. */
const dropWarnings = (s: string): string =>
  s
    .split('\n')
    .filter((l) => !l.startsWith('{"level":"warn"'))
    .join('\n');

function masker(newIds: bigint[]): (r: RunResult, opts?: { sortLines?: boolean }) => RunResult {
  return (r, opts = {}) => {
    const m = (s: string): string => {
      let t = dropWarnings(s)
        .replace(/"raft_term":\d+/g, '"raft_term":<term>')
        .replace(/"member_id":\d+/g, '"member_id":<id>');
      for (const id of newIds) {
        t = t.replaceAll(id.toString(), '<new>').replaceAll(id.toString(16), '<new>');
      }
      // %16x pads an id with spaces; a new id may be shorter than 16 digits.
      t = t.replace(/Member\s+<new>/g, 'Member <new>');
      t = t.replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/, (_, v: string) => `ETCD_INITIAL_CLUSTER="${v.split(',').sort().join(',')}"`);
      // JSON member arrays are ordered by id: order them by peer URL.
      t = t.replace(/"members":\[(.*)\]/, (_, v: string) => `"members":[${(v.match(/\{[^{}]*\}/g) ?? []).sort().join(',')}]`);
      if (opts.sortLines) t = t.split('\n').sort().join('\n');
      return t;
    };
    return { stdout: m(r.stdout), stderr: m(r.stderr), code: r.code };
  };
}

interface Fixed {
  ports: { client: number; peer: number }[];
  newPorts: { client: number; peer: number };
}

async function scenario(c: Cluster, f: Fixed): Promise<{ out: RunResult[]; removedExit: number | null; removedLog: string }> {
  const newIds: bigint[] = [];
  const mask = masker(newIds);
  const out: RunResult[] = [];
  const at = async (i: number, args: string[], sortLines = false): Promise<RunResult> => {
    const r = await etcdctl(c.endpoint(i), args);
    out.push(mask(r, { sortLines }));
    return r;
  };
  const ids = (await etcdctl(c.endpoint(0), ['member', 'list'])).stdout.trim().split('\n').map((l) => l.split(',')[0] as string);
  const id0 = (await etcdctl(c.endpoint(0), ['member', 'list'])).stdout.split('\n').find((l) => l.includes(`:${f.ports[0]?.peer}`))?.split(',')[0] as string;
  expect(ids).toHaveLength(3);
  // Peers count as connected for the strict reconfiguration check after 5 s.
  await new Promise((r) => setTimeout(r, 6000));

  // Errors.
  await at(0, ['member', 'remove', '1234']);
  await at(0, ['member', 'remove', 'zz']);
  await at(0, ['member', 'remove']);
  await at(1, ['member', 'promote', id0]);
  await at(1, ['member', 'promote', '1234']);
  await at(2, ['member', 'update', '1234', '--peer-urls=http://127.0.0.1:1']);
  await at(2, ['member', 'update', id0, `--peer-urls=http://127.0.0.1:${f.ports[1]?.peer}`]);
  await at(0, ['member', 'add', 'dup', `--peer-urls=http://127.0.0.1:${f.ports[2]?.peer}`]);
  await at(0, ['member', 'add', 'bad', '--peer-urls=http://127.0.0.1']);
  await at(0, ['member', 'add', 'x', 'http://127.0.0.1:1']);
  await at(0, ['member', 'add', 'x']);
  await at(0, ['--endpoints', c.endpoints(), 'move-leader', '1234']);
  await at(0, ['--endpoints', c.endpoints(), 'move-leader', 'zz']);
  const lead = await c.leader();
  const follower = [0, 1, 2].find((i) => i !== lead) as number;
  const r = await etcdctl(c.endpoint(follower), ['move-leader', id0]);
  out.push(mask({ ...r, stderr: r.stderr.replace(/127\.0\.0\.1:\d+/, '<follower>') }));

  // Add a learner, start it with the printed lines, promote it.
  const m = await addAndStart(c, etcdctl, c.endpoint(0), 'new1', { learner: true, ports: f.newPorts, args: ['--heartbeat-interval', '100', '--election-timeout', '1000'] });
  newIds.push(BigInt(`0x${m.id}`));
  out.push(mask({ stdout: m.addOutput, stderr: '', code: 0 }));
  await waitFor('new1 published', async () => (await etcdctl(c.endpoint(1), ['member', 'list'])).stdout.includes(', started, new1,'), 30_000);
  await at(1, ['member', 'list'], true);
  await at(2, ['member', 'list', '-w', 'json']);
  // A learner serves only Status and serializable reads.
  for (const args of [['put', 'k', 'v'], ['get', 'k'], ['get', 'k', '--consistency=s'], ['member', 'list']]) {
    const r = await etcdctl(m.proc.endpoint, args);
    out.push(mask(r));
  }
  const p = await promote(etcdctl, c.endpoint(1), m.id);
  out.push(mask(p));
  await at(0, ['member', 'list'], true);
  await at(0, ['member', 'update', m.id, `--peer-urls=${m.proc.peerUrl}`]);

  // Leadership to the new member and back.
  await new Promise((r) => setTimeout(r, 6000));
  const all = `${c.endpoints()},${m.proc.endpoint}`;
  const mv = await etcdctl(c.endpoint(0), ['--endpoints', all, 'move-leader', m.id]);
  out.push(mask({ ...mv, stdout: mv.stdout.replace(/from [0-9a-f]+ to/, 'from <leader> to') }));
  await at(0, ['--endpoints', all, 'move-leader', m.id]);
  await at(0, ['--endpoints', all, 'move-leader', id0, '-w', 'json']);
  await at(0, ['--endpoints', all, 'move-leader', id0, '-w', 'fields']);

  // Remove it: it stops and says why.
  const rm = await ctlRetry(etcdctl, c.endpoint(0), ['member', 'remove', m.id, '-w', 'json'], notYetHealthy);
  out.push(mask(rm));
  const removedExit = await m.proc.exited;
  await at(0, ['member', 'list', '-w', 'json']);
  await at(0, ['member', 'remove', m.id]);
  return { out, removedExit, removedLog: m.proc.logs.join('') };
}

afterAll(() => killAll());

describe.skipIf(missing)(`etcdctl membership commands against etcdts and etcd${missing ? ' (skipped: etcd/etcdctl not installed)' : ''}`, () => {
  it('prints the same for member add/remove/update/promote/list and move-leader, errors included', async () => {
    const f: Fixed = { ports: await clusterPorts(3), newPorts: { client: await freePort(), peer: await freePort() } };
    const run = async (kind: 'etcd' | 'etcdts') => {
      const c = await startCluster(kind, { size: 3, ports: f.ports, token: 'etcd-cluster-1', args: ['--heartbeat-interval', '100', '--election-timeout', '1000'] });
      try {
        await waitFor(`${kind}: all members published`, async () => {
          const r = await etcdctl(c.endpoint(0), ['member', 'list']);
          return r.code === 0 && !r.stdout.includes('unstarted') && r.stdout.trim().split('\n').length === 3;
        }, 30_000);
        return await scenario(c, f);
      } finally {
        await c.stop();
      }
    };
    const theirs = await run('etcd');
    const ours = await run('etcdts');
    if (process.env.DUMP_COMPAT) (await import('node:fs')).writeFileSync(process.env.DUMP_COMPAT, JSON.stringify({ theirs: theirs.out, ours: ours.out }, null, 1));
    for (let i = 0; i < theirs.out.length; i++) expect({ i, ...ours.out[i] }).toEqual({ i, ...theirs.out[i] });
    expect(ours.out).toHaveLength(theirs.out.length);
    expect(theirs.removedExit).toBe(0);
    expect(ours.removedExit).toBe(0);
    for (const log of [theirs.removedLog, ours.removedLog]) expect(log).toContain('the member has been permanently removed from the cluster');
  }, 300_000);
});
