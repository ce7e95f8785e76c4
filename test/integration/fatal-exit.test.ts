/**
 * Issue 14, second defect: a member whose raft loop fails must not stay up half-dead answering
 * `etcdserver: server stopped` forever. It logs the reason and exits non-zero (status 2, as a
 * Go panic), so that a supervisor restarts it; restarted on the same data dir it serves again
 * with every acknowledged write. The failure is injected with a named failpoint
 * (ETCDTS_FAILPOINTS, src/server/failpoints.ts) that throws inside the loop.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TestKv } from '../helpers/kv-client.js';
import { killAll, run, startMember, etcdtsBin } from '../helpers/procs.js';

afterAll(() => killAll());

describe('a member that cannot go on exits', () => {
  for (const point of ['raftAfterSave', 'raftBeforeApply', 'backendBeforeCommit'] as const) {
    it(`exits with status 2 and the reason when the loop fails at ${point}, and serves again after a restart`, async () => {
      const m = await startMember({ kind: 'etcdts' });
      const kv = new TestKv(m.endpoint);
      const before = await kv.put('before', '1');
      kv.close();
      await m.kill('SIGTERM');
      const armed = await startMember({ kind: 'etcdts', name: m.name, dataDir: m.dataDir, env: { ETCDTS_FAILPOINTS: `${point}=panic` } });
      const kv2 = new TestKv(armed.endpoint);
      const put = await kv2.put('doomed', 'x').then(
        () => 'acked',
        (e: unknown) => String(e),
      );
      kv2.close();
      expect(put).not.toBe('acked');
      expect(await armed.exited).toBe(2);
      const log = armed.logs.join('');
      expect(log).toContain('raft loop failed; member stops serving');
      expect(log).toContain(`failpoint ${point}: panic`);
      const again = await startMember({ kind: 'etcdts', name: m.name, dataDir: m.dataDir });
      const kv3 = new TestKv(again.endpoint);
      const got = await kv3.range('before');
      expect(got.kvs.map((x) => [x.key.toString(), String(x.mod_revision)])).toEqual([['before', String(before.header.revision)]]);
      await kv3.put('after', '2');
      kv3.close();
      await again.kill('SIGTERM');
    });
  }

  it('refuses an unknown failpoint at start, naming it', async () => {
    const r = await run(process.execPath, [etcdtsBin], { env: { ETCDTS_FAILPOINTS: 'raftBeforeSav=panic' }, timeoutMs: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown failpoint "raftBeforeSav"');
  });
});
