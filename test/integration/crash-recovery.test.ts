/**
 * kill -9 in the middle of a concurrent write load, restart on the same data dir: every write
 * that was acknowledged is there, with the revision it was acknowledged with, and the member
 * keeps serving. Also a crash (kill -9) at named failpoints of the raft loop (ETCDTS_FAILPOINTS, src/server/failpoints.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startMember, waitFor } from '../helpers/procs.js';
import { TestKv } from '../helpers/kv-client.js';

afterAll(() => killAll());

async function writeLoad(kv: TestKv, clients: number, acked: Map<string, bigint>, stop: { v: boolean }): Promise<number> {
  let failures = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; !stop.v && i < 100_000; i++) {
        const key = `load/${c}/${i}`;
        try {
          const r = await kv.put(key, `v${i}`);
          acked.set(key, BigInt(r.header.revision));
        } catch {
          failures++;
          return; // the member is gone
        }
      }
    }),
  );
  return failures;
}

async function verify(kv: TestKv, acked: Map<string, bigint>): Promise<void> {
  const all = await kv.range('load/', 'load0');
  const got = new Map(all.kvs.map((x) => [x.key.toString(), BigInt(x.mod_revision)]));
  let missing = 0;
  for (const [k, rev] of acked) {
    if (got.get(k) !== rev) missing++;
  }
  expect({ acked: acked.size, missing }).toEqual({ acked: acked.size, missing: 0 });
  // Revisions are dense: every write consumed exactly one revision, none was lost in between.
  const revs = [...got.values()].sort((a, b) => (a < b ? -1 : 1));
  for (let i = 1; i < revs.length; i++) expect(revs[i]).toBe((revs[i - 1] as bigint) + 1n);
}

describe('crash recovery of a single member', () => {
  it('keeps every acknowledged write across kill -9 under a 32-client write load', async () => {
    const m = await startMember({ kind: 'etcdts' });
    const kv = new TestKv(m.endpoint);
    const acked = new Map<string, bigint>();
    const stop = { v: false };
    const load = writeLoad(kv, 32, acked, stop);
    await waitFor('some writes acknowledged', async () => acked.size > 500);
    await m.kill('SIGKILL');
    stop.v = true;
    await load;
    kv.close();
    const again = await startMember({ kind: 'etcdts', name: m.name, dataDir: m.dataDir });
    const kv2 = new TestKv(again.endpoint);
    await verify(kv2, acked);
    // It keeps serving: a new write gets the next revision.
    const before = await kv2.range('load/', 'load0');
    const w = await kv2.put('after', 'crash');
    expect(BigInt(w.header.revision)).toBe(BigInt(before.header.revision) + 1n);
    kv2.close();
    await again.kill('SIGTERM');
  });

  for (const point of ['raftBeforeSave', 'raftAfterSave', 'raftAfterApply', 'backendBeforeCommit'] as const) {
    it(`recovers from a crash at the ${point} point of the raft loop`, async () => {
      const m = await startMember({ kind: 'etcdts' });
      const kv = new TestKv(m.endpoint);
      const acked = new Map<string, bigint>();
      for (let i = 0; i < 20; i++) {
        const r = await kv.put(`load/${i}`, `v${i}`);
        acked.set(`load/${i}`, BigInt(r.header.revision));
      }
      kv.close();
      await m.kill('SIGTERM');
      // Restart armed to crash at the point during the next write, which must then not be
      // acknowledged; the earlier ones must survive it.
      const armed = await startMember({ kind: 'etcdts', name: m.name, dataDir: m.dataDir, env: { ETCDTS_FAILPOINTS: `${point}=kill` } });
      const kv2 = new TestKv(armed.endpoint);
      const doomed = await kv2.put('doomed', 'x').then(
        () => 'acked',
        () => 'failed',
      );
      // The process dies inside the loop before the waiter is answered.
      expect(doomed).toBe('failed');
      kv2.close();
      expect(await armed.exited).toBe(null);
      const again = await startMember({ kind: 'etcdts', name: m.name, dataDir: m.dataDir });
      const kv3 = new TestKv(again.endpoint);
      await verify(kv3, acked);
      kv3.close();
      await again.kill('SIGTERM');
    });
  }
});
