/**
 * Auto-compaction with real processes:
 * - periodic with a short retention (2s) on etcd 3.4.23 and on etcdts, under the same writes:
 *   both compact by themselves (old revisions answer "required revision has been compacted")
 *   and both log etcd's "completed auto periodic compaction" line;
 * - revision mode, retention 100, after 1000 puts: etcdts compacts to exactly current − 100
 *   (its 5-minute step shortened by the ETCDTS_TEST_REVISION_COMPACTION_INTERVAL_MS test hook;
 *   scripts/auto-compaction-vs-etcd.sh runs the real 5-minute comparison with etcd).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hasEtcd, hasEtcdctl, inCI, killAll, run, startMember, waitFor, type MemberProc } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI');

afterAll(() => killAll());

const b = (s: string): string => Buffer.from(s).toString('base64');

async function puts(m: MemberProc, n: number): Promise<void> {
  // Ten writers: each put is one revision whatever the order.
  await Promise.all(
    Array.from({ length: 10 }, async (_, w) => {
      for (let i = w; i < n; i += 10) await fetch(`${m.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b(`k${i % 10}`), value: b(String(i)) }) });
    }),
  );
}

async function revision(m: MemberProc): Promise<bigint> {
  const r = (await (await fetch(`${m.clientUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b('k0') }) })).json()) as { header: { revision: string } };
  return BigInt(r.header.revision);
}

async function readAt(m: MemberProc, rev: bigint): Promise<string> {
  const r = await run('etcdctl', [`--endpoints=${m.endpoint}`, 'get', 'k0', `--rev=${rev}`]);
  return r.code === 0 ? 'ok' : r.stderr.trim();
}

describe.skipIf(missing)('auto-compaction', () => {
  it('periodic, 2s: etcd and etcdts both compact old revisions by themselves and log it as etcd does', async () => {
    const args = ['--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '2s', '--logger', 'zap'];
    const [ts, etcd] = await Promise.all([startMember({ kind: 'etcdts', name: 'ts', args }), startMember({ kind: 'etcd', name: 'etcd', args })]);
    for (const m of [etcd, ts]) {
      await puts(m, 20);
      await waitFor(`${m.name} compacts revision 2 away`, async () => (await readAt(m, 2n)).includes('required revision has been compacted'), 15_000, 200);
      await waitFor(`${m.name} logs it`, async () => m.logs.join('').includes('"msg":"completed auto periodic compaction"'), 5_000);
      const line = m.logs.join('').split('\n').find((l) => l.includes('completed auto periodic compaction')) as string;
      expect(line).toMatch(/"revision":\d+,"compact-period":"2s"/);
    }
  }, 60_000);

  it('revision, 100: after 1000 puts the compacted revision is the current one − 100', async () => {
    const m = await startMember({
      kind: 'etcdts',
      name: 'rev',
      args: ['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '100'],
      env: { ETCDTS_TEST_REVISION_COMPACTION_INTERVAL_MS: '300' },
    });
    await puts(m, 1000);
    const rev = await revision(m);
    await waitFor('compaction to rev − 100', async () => m.logs.join('').includes(`"msg":"completed auto revision compaction","revision":${rev - 100n},"revision-compaction-retention":100`), 10_000, 100);
    expect(await readAt(m, rev - 101n)).toContain('required revision has been compacted');
    expect(await readAt(m, rev - 100n)).toBe('ok');
  }, 60_000);
});
