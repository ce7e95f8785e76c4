/**
 * A watcher that loses its member (kill -9) and resumes at last+1 on the SAME member once it is
 * back gets every event written meanwhile through the other members — also when the member is
 * still catching up, or replaying writes it had applied but not yet written to its store (the
 * backend gathers writes for --backend-batch-interval), when the watch is created.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { WatchClient } from '../../src/api/proto.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { TestKv } from '../helpers/kv-client.js';
import { killAll, waitFor } from '../helpers/procs.js';

afterAll(() => killAll());

type Wire = Record<string, unknown>;

function watch(endpoint: string, key: string, start: bigint, onEvent: (e: string, rev: bigint) => void): { cancel(): void; created: () => boolean; failed: () => boolean } {
  const w = new WatchClient(endpoint, grpc.credentials.createInsecure()) as unknown as { Watch(): grpc.ClientDuplexStream<Wire, Wire> };
  const s = w.Watch();
  let created = false;
  let failed = false;
  s.on('data', (d: Wire) => {
    if (d.created) created = true;
    if (d.canceled) failed = true;
    for (const e of (d.events as { kv: { key: Buffer; value: Buffer; mod_revision: string } }[] | undefined) ?? []) onEvent(`${e.kv.key.toString()}=${e.kv.value.toString()}`, BigInt(e.kv.mod_revision));
  });
  s.on('error', () => (failed = true));
  s.write({ create_request: { key: Buffer.from(key), range_end: Buffer.from(key.slice(0, -1) + String.fromCharCode(key.charCodeAt(key.length - 1) + 1)), start_revision: String(start) } });
  return { cancel: () => s.cancel(), created: () => created, failed: () => failed };
}

describe('watch resumed on a restarted member', () => {
  let c: Cluster;
  afterAll(async () => c?.stop());

  it('misses nothing written while the member was down', async () => {
    c = await startCluster('etcdts', { size: 3, args: ['--heartbeat-interval', '50', '--election-timeout', '500'] });
    await c.leader();
    for (let round = 0; round < 8; round++) {
      // Even rounds resume at once (the member may still be catching up: a synced watcher);
      // odd rounds once the member has applied everything (an unsynced watcher that catches up).
      const late = round % 2 === 1;
      // The member killed is a follower: a put through a member whose leader was just killed
      // waits for the next election and can time out, as with etcd.
      const lead = await c.leader();
      const v = [0, 1, 2].find((i) => i !== lead) as number;
      const other = [0, 1, 2].find((i) => i !== lead && i !== v) as number;
      const prefix = `/r${round}/`;
      const got: string[] = [];
      let last = 0n;
      const w1 = watch(c.endpoint(v), prefix, 0n, (e, rev) => {
        got.push(e);
        last = rev;
      });
      await waitFor('created', async () => w1.created());
      const kv0 = new TestKv(c.endpoint(lead));
      const kv1 = new TestKv(c.endpoint(other));
      await kv0.put(`${prefix}a`, '1');
      await waitFor('first event', async () => got.length === 1);
      await c.kill(v, 'SIGKILL');
      w1.cancel();
      await kv0.put(`${prefix}a`, '2');
      const lastPut = await kv1.put(`${prefix}b`, '3');
      await c.restart(v);
      if (late) {
        const kv2 = new TestKv(c.endpoint(v));
        await waitFor('the restarted member caught up', async () => BigInt((await kv2.range(`${prefix}b`, '', true).catch(() => ({ header: { revision: '0' } }))).header.revision) >= BigInt(lastPut.header.revision));
        kv2.close();
      }
      let w2 = watch(c.endpoint(v), prefix, last + 1n, (e) => got.push(e));
      await waitFor('resumed', async () => {
        if (w2.failed()) w2 = watch(c.endpoint(v), prefix, last + 1n, (e) => got.push(e));
        return got.length >= 3;
      });
      expect(got).toEqual([`${prefix}a=1`, `${prefix}a=2`, `${prefix}b=3`]);
      w2.cancel();
      kv0.close();
      kv1.close();
    }
  }, 120_000);
});
