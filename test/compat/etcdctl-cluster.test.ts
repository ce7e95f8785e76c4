/**
 * The real etcdctl against a 3-member etcdts cluster and a 3-member etcd cluster started with
 * the same flags on the same ports (one after the other), so member and cluster ids are equal:
 * put, get, member list (simple, table, json) must print the same, with only raft_term masked.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, clusterPorts, startCluster } from '../helpers/cluster.js';
import { etcdctl, hasEtcd, hasEtcdctl, inCI, killAll, type RunResult, waitFor } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI (apt-get install etcd-server etcd-client)');

const mask = (r: RunResult): RunResult => {
  const m = (s: string): string =>
    s
      .replace(/"raft_term":\d+/g, '"raft_term":<term>')
      .replace(/"member_id":\d+/g, '"member_id":<id>') // which member answered
      .replace(/"RaftTerm" : \d+/g, '"RaftTerm" : <term>')
      .replace(/took = [0-9.]+[µnm]?s/g, 'took = <t>');
  return { stdout: m(r.stdout), stderr: m(r.stderr), code: r.code };
};

/** The commands of the seed scenario, run through different members. */
async function scenario(c: Cluster): Promise<RunResult[]> {
  const out: RunResult[] = [];
  const at = (i: number, args: string[]) => etcdctl(c.endpoint(i), args).then((r) => out.push(mask(r)));
  await at(0, ['put', 'name5', 'apple']);
  await at(1, ['put', 'name6', 'banana']);
  await at(2, ['put', 'name7', 'orange']);
  await at(0, ['put', 'name8', 'mango']);
  for (let i = 0; i < 3; i++) {
    await at(i, ['get', 'name7']);
    await at(i, ['get', 'name5', 'name8']);
    await at(i, ['get', '--prefix', 'name', '-w', 'json']);
    await at(i, ['get', 'name7', '--consistency=s']);
  }
  await at(1, ['member', 'list']);
  await at(1, ['member', 'list', '-w', 'table']);
  await at(2, ['member', 'list', '-w', 'json']);
  await at(0, ['--endpoints', c.endpoints(), 'endpoint', 'health']);
  // Health checks run in parallel: their order is not part of the contract.
  const last = out[out.length - 1] as RunResult;
  last.stdout = last.stdout.split('\n').sort().join('\n');
  last.stderr = last.stderr.split('\n').sort().join('\n');
  return out;
}

afterAll(() => killAll());

describe.skipIf(missing)(`etcdctl against 3-member etcdts and etcd clusters${missing ? ' (skipped: etcd/etcdctl not installed)' : ''}`, () => {
  it('prints the same for put, get and member list (simple, table, json)', async () => {
    const ports = await clusterPorts(3);
    const run = async (kind: 'etcd' | 'etcdts'): Promise<RunResult[]> => {
      const c = await startCluster(kind, { size: 3, ports, token: 'etcd-cluster-1', args: ['--heartbeat-interval', '100', '--election-timeout', '1000'] });
      try {
        // Every member has published its name (no "unstarted" entry) before we compare.
        await waitFor(`${kind}: all members published`, async () => {
          const r = await etcdctl(c.endpoint(0), ['member', 'list']);
          return r.code === 0 && !r.stdout.includes('unstarted') && r.stdout.trim().split('\n').length === 3;
        }, 30_000);
        return await scenario(c);
      } finally {
        await c.stop();
      }
    };
    const theirs = await run('etcd');
    const ours = await run('etcdts');
    for (let i = 0; i < theirs.length; i++) expect(ours[i]).toEqual(theirs[i]);
    expect(theirs[4]?.stdout).toBe('name7\norange\n');
  }, 120_000);
});
