/**
 * ctl against the real etcdctl 3.4.23 for the membership commands, both talking to the same
 * 3-member etcdts cluster (whose answers test/compat/etcdctl-membership.test.ts compares with
 * etcd's): every command must give the same stdout, stderr and exit code. A state-changing
 * command is run by etcdctl, undone, then run by ctl. Masked: clientv3's retry-warning
 * timestamps and client uuids, runtime-added member ids (they hash the time), which member
 * answered, the raft term.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster } from '../helpers/cluster.js';
import { ctlRetry, notYetHealthy } from '../helpers/membership.js';
import { ctl, etcdctl, freePort, hasEtcdctl, inCI, killAll, type RunResult, waitFor } from '../helpers/procs.js';

if (!hasEtcdctl && inCI) throw new Error('compat tests need etcdctl under CI');

const mask = (r: RunResult): RunResult => {
  const m = (s: string): string =>
    s
      .replace(/"ts":"[^"]*"/g, '"ts":<ts>')
      .replace(/client-[0-9a-f-]{36}/g, 'client-<uuid>')
      .replace(/"raft_term":\d+/g, '"raft_term":<term>')
      .replace(/"member_id":\d+/g, '"member_id":<id>')
      .replace(/Member\s+[0-9a-f]+ (added|removed)/g, 'Member <new> $1')
      // ordered by member id, and the new member's id hashes the time
      .replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/, (_, v: string) => `ETCD_INITIAL_CLUSTER="${v.split(',').sort().join(',')}"`);
  return { stdout: m(r.stdout), stderr: m(r.stderr), code: r.code };
};

/** JSON member arrays are ordered by id, and new ids hash the time: order them by text. */
const sortMembers = (s: string): string => s.replace(/"members":\[(.*)\]/, (_, v: string) => `"members":[${(v.match(/\{[^{}]*\}/g) ?? []).sort().join(',')}]`);

afterAll(() => killAll());

describe.skipIf(!hasEtcdctl)('ctl and etcdctl print the same for member and move-leader commands', () => {
  it('errors, add/remove in every format, list, move-leader', async () => {
    const c = await startCluster('etcdts', { size: 3, args: ['--heartbeat-interval', '100', '--election-timeout', '1000'] });
    try {
      await waitFor('all members published', async () => !(await etcdctl(c.endpoint(0), ['member', 'list'])).stdout.includes('unstarted'), 30_000);
      const list = (await etcdctl(c.endpoint(0), ['member', 'list'])).stdout.trim().split('\n');
      const id0 = list.find((l) => l.includes(c.specs[0]?.peerPort?.toString() as string))?.split(',')[0] as string;
      const lead = await c.leader();
      const follower = [0, 1, 2].find((i) => i !== lead) as number;
      const leadId = (await etcdctl(c.endpoint(0), ['member', 'list'])).stdout.split('\n').find((l) => l.includes(`:${c.specs[lead]?.peerPort}`))?.split(',')[0] as string;
      const followerId = (await etcdctl(c.endpoint(0), ['member', 'list'])).stdout.split('\n').find((l) => l.includes(`:${c.specs[follower]?.peerPort}`))?.split(',')[0] as string;
      await new Promise((r) => setTimeout(r, 6000)); // strict reconfig check: peers connected ≥ 5 s
      const same = async (ep: string, args: string[]): Promise<void> => {
        const theirs = mask(await etcdctl(ep, args));
        const ours = mask(await ctl(ep, args));
        expect({ args, ...ours }).toEqual({ args, ...theirs });
      };
      const ep = c.endpoint(0);
      for (const args of [
        ['member', 'remove', '1234'],
        ['member', 'remove', 'zz'],
        ['member', 'remove'],
        ['member', 'remove', '10000000000000000'],
        ['member', 'promote', id0],
        ['member', 'promote'],
        ['member', 'update', '1234', '--peer-urls=http://127.0.0.1:1'],
        ['member', 'update', id0],
        ['member', 'update', id0, `--peer-urls=http://127.0.0.1:${c.specs[1]?.peerPort}`],
        ['member', 'update', id0, '--peer-urls=foo'],
        ['member', 'add', 'dup', `--peer-urls=http://127.0.0.1:${c.specs[2]?.peerPort}`],
        ['member', 'add', 'bad', '--peer-urls=http://127.0.0.1'],
        ['member', 'add', 'bad', '--peer-urls=http://127.0.0.1:1/x'],
        ['member', 'add', 'x', 'http://127.0.0.1:1'],
        ['member', 'add', 'x'],
        ['member', 'add'],
        ['member', 'list', '-w', 'json'],
        ['--endpoints', c.endpoints(), 'move-leader', '1234'],
        ['--endpoints', c.endpoints(), 'move-leader', 'zz'],
        ['--endpoints', c.endpoints(), 'move-leader'],
      ]) {
        await same(ep, args);
      }
      await same(c.endpoint(follower), ['move-leader', id0]);
      // move-leader to a follower and back, simple then json.
      const theirsMove = mask(await etcdctl(ep, ['--endpoints', c.endpoints(), 'move-leader', followerId]));
      await c.leader();
      const oursMove = mask(await ctl(ep, ['--endpoints', c.endpoints(), 'move-leader', leadId]));
      expect(theirsMove.code).toBe(0);
      expect(oursMove).toEqual({ ...theirsMove, stdout: `Leadership transferred from ${followerId} to ${leadId}\n` });
      expect(theirsMove.stdout).toBe(`Leadership transferred from ${leadId} to ${followerId}\n`);
      await c.leader();
      await same(ep, ['--endpoints', c.endpoints(), 'move-leader', leadId, '-w', 'json']);

      // Add (learner) then remove, in each format: etcdctl first, then ctl, same URL.
      const url = `http://127.0.0.1:${await freePort()}`;
      for (const fmt of ['simple', 'json', 'fields', 'protobuf']) {
        const results: RunResult[][] = [];
        for (const tool of [etcdctl, ctl]) {
          const add = await ctlRetry(tool, ep, ['member', 'add', `n-${fmt}`, `--peer-urls=${url}`, '--learner', '-w', fmt], notYetHealthy).catch(() => null);
          const addR = add ?? (await tool(ep, ['member', 'add', `n-${fmt}`, `--peer-urls=${url}`, '--learner', '-w', fmt]));
          const newId = (await etcdctl(ep, ['member', 'list'])).stdout.split('\n').find((l) => l.includes(url))?.split(',')[0] as string;
          const rm = await tool(ep, ['member', 'remove', newId, '-w', fmt]);
          const masked = [addR, rm].map((r) => {
            const x = mask(r);
            const dec = BigInt(`0x${newId}`).toString();
            return { ...x, stdout: sortMembers(x.stdout.replaceAll(dec, '<new>').replaceAll(newId, '<new>')) };
          });
          // Protobuf bytes hold the new member's id as a varint (its length varies with the id).
          results.push(fmt === 'protobuf' ? masked.map((r) => ({ ...r, stdout: r.stdout.length > 100 ? '<bytes>' : r.stdout })) : masked);
        }
        expect({ fmt, ours: results[1] }).toEqual({ fmt, ours: results[0] });
      }
    } finally {
      await c.stop();
    }
  }, 240_000);
});
