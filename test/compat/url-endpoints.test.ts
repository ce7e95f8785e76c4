/**
 * The real etcdctl with URL-form endpoints (`--endpoints=http://127.0.0.1:PORT`, as etcd's
 * documentation writes them) against a three-member etcdts cluster: Go's clientv3 then sends
 * the whole URL as the HTTP/2 :authority, which etcdts must accept. Every command that dials
 * members one by one is run: endpoint status / hashkv / health with and without --cluster,
 * move-leader (to a follower: leadership moves), snapshot save, plus put/get/member list.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startCluster } from '../helpers/cluster.js';
import { hasEtcdctl, inCI, killAll, run, tempDir, waitFor, type RunResult } from '../helpers/procs.js';

if (!hasEtcdctl && inCI) throw new Error('compat tests need etcdctl under CI (apt-get install etcd-client)');

afterAll(() => killAll());

function etcdctl(args: string[]): Promise<RunResult> {
  return run('etcdctl', args);
}

describe.skipIf(!hasEtcdctl)('etcdctl with http:// endpoints against etcdts', () => {
  it('endpoint status|hashkv|health (--cluster too), move-leader, snapshot save, put/get, member list', async () => {
    const c = await startCluster('etcdts', { size: 3, args: ['--heartbeat-interval', '100', '--election-timeout', '1000'] });
    try {
      const urls = c.specs.map((_, i) => `http://${c.endpoint(i)}`);
      const all = `--endpoints=${urls.join(',')}`;
      const one = `--endpoints=${urls[0]}`;
      const ok = async (args: string[]): Promise<RunResult> => {
        const r = await etcdctl(args);
        expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: args.includes('health') || args.includes('snapshot') ? r.stderr : '' });
        return r;
      };
      await waitFor('all members published', async () => !(await etcdctl([one, 'member', 'list'])).stdout.includes('unstarted'), 30_000);
      expect((await ok([one, 'put', 'k', 'v'])).stdout).toBe('OK\n');
      expect((await ok([one, 'get', 'k'])).stdout).toBe('k\nv\n');
      expect((await ok([all, 'endpoint', 'status'])).stdout.trim().split('\n')).toHaveLength(3);
      expect((await ok([one, 'endpoint', 'status', '--cluster'])).stdout.trim().split('\n')).toHaveLength(3);
      const hashes = (await ok([all, 'endpoint', 'hashkv'])).stdout.trim().split('\n');
      expect(hashes).toHaveLength(3);
      expect(new Set(hashes.map((l) => l.split(', ')[1])).size).toBe(1);
      expect((await ok([one, 'endpoint', 'hashkv', '--cluster'])).stdout.trim().split('\n')).toHaveLength(3);
      const health = await etcdctl([one, 'endpoint', 'health', '--cluster']);
      expect(health.code).toBe(0);
      expect(health.stderr.match(/is healthy/g)).toHaveLength(3);
      expect((await ok([one, 'member', 'list'])).stdout.trim().split('\n')).toHaveLength(3);
      const file = path.join(tempDir(), 'snap.db');
      expect((await ok([one, 'snapshot', 'save', file])).stdout).toContain(`Snapshot saved at ${file}`);

      const lead = await c.leader();
      const follower = [0, 1, 2].find((i) => i !== lead) as number;
      // simple format: `<endpoint>, <id hex>, <version>, ...`
      const followerId = (await ok([`--endpoints=${urls[follower]}`, 'endpoint', 'status'])).stdout.split(', ')[1] as string;
      const moved = await ok([all, 'move-leader', followerId]);
      expect(moved.stdout).toMatch(new RegExp(`^Leadership transferred from [0-9a-f]+ to ${followerId}\\n$`));
      await waitFor('the new leader', async () => (await c.leader()) === follower, 20_000);
    } finally {
      await c.stop();
    }
  }, 120_000);
});
