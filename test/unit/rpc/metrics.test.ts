/**
 * /metrics text for the families fed outside the request path: the read-index counters
 * (server/read-index.ts, where etcd's linearizableReadLoop counts them), the defragment and the
 * backend-snapshot durations. Values are process-wide (base/metrics.ts), so each check reads
 * the text before and after and compares.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import type { Runtime, TimerHandle } from '../../../src/base/runtime.js';
import { MetricsHub, type MetricsServer } from '../../../src/rpc/metrics.js';
import { defragment } from '../../../src/server/maintenance.js';
import { ReadIndexBatcher } from '../../../src/server/read-index.js';
import { dumpState } from '../../../src/server/state-snapshot.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';

/** Just enough of the member for every family to be written. */
const member = {
  leader: () => 1n,
  isLeader: () => true,
  isLearner: () => false,
  raftIndex: () => 0n,
  applied: () => 0n,
  dbSize: () => 0,
  dbSizeInUse: async () => 0,
  memberId: 1n,
  kv: { keyCount: () => 0, rev: () => 1n, compactRev: () => -1n },
  watchable: { streamCount: () => 0, stats: () => ({ synced: 0, unsynced: 0 }) },
  opts: { quotaBackendBytes: 0 },
  pendingProposalCount: () => 0,
  failedProposalCount: () => 0,
} as unknown as MetricsServer;
const hub = new MetricsHub(member, false);

async function sample(name: string): Promise<number> {
  const text = await hub.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  expect(line, `${name} in /metrics`).toBeDefined();
  return Number((line as string).split(' ')[1]);
}

/** A batcher on a fake member: time moves by hand, the retry timer never fires. */
function batcher(): { b: ReadIndexBatcher; clock: { now: number }; asked: string[] } {
  const clock = { now: 0 };
  const asked: string[] = [];
  const never: TimerHandle = { cancel: () => {} };
  const rt = { now: () => clock.now, every: () => never } as unknown as Runtime;
  let seq = 0;
  const b = new ReadIndexBatcher({
    rt,
    requestTimeoutMs: 1000,
    input: (fn) => fn(),
    readIndex: (ctx) => void asked.push(Buffer.from(ctx).toString()),
    nextContext: () => `ctx-${++seq}`,
    applied: () => 10n,
    stopped: () => false,
  });
  return { b, clock, asked };
}

describe('/metrics read-index counters', () => {
  it('etcd_server_read_indexes_failed_total counts a round failed by a leader change, once', async () => {
    const before = await sample('etcd_server_read_indexes_failed_total');
    const { b } = batcher();
    const read = b.read().catch((e: unknown) => e);
    b.onLeaderChanged();
    expect(((await read) as EtcdError).spec).toBe(Errors.LeaderChanged);
    b.onLeaderChanged(); // nothing in flight: nothing failed
    expect(await sample('etcd_server_read_indexes_failed_total')).toBe(before + 1);
  });

  it('etcd_server_slow_read_indexes_total counts a round that timed out (once) and an out-of-date answer', async () => {
    const before = await sample('etcd_server_slow_read_indexes_total');
    const { b, clock, asked } = batcher();
    const reads = [b.read(), b.read(), b.read()].map((p) => p.catch((e: unknown) => e));
    clock.now = 1001;
    b.expire(clock.now);
    b.expire(clock.now);
    for (const e of await Promise.all(reads)) expect((e as EtcdError).spec).toBe(Errors.Timeout);
    expect(await sample('etcd_server_slow_read_indexes_total')).toBe(before + 1);
    // The answer to that round comes at last and frees it; a second answer to the same ask is out of date.
    const state = { index: 5n, ctx: Buffer.from(asked[0] as string) };
    b.onReadStates([state]);
    expect(await sample('etcd_server_slow_read_indexes_total')).toBe(before + 1);
    b.onReadStates([state]);
    expect(await sample('etcd_server_slow_read_indexes_total')).toBe(before + 2);
  });

  it('a read answered in time counts in neither', async () => {
    const slow = await sample('etcd_server_slow_read_indexes_total');
    const failed = await sample('etcd_server_read_indexes_failed_total');
    const { b, asked } = batcher();
    const read = b.read();
    b.onReadStates([{ index: 5n, ctx: Buffer.from(asked[0] as string) }]);
    await read;
    expect(await sample('etcd_server_slow_read_indexes_total')).toBe(slow);
    expect(await sample('etcd_server_read_indexes_failed_total')).toBe(failed);
  });
});

describe('/metrics backend durations', () => {
  it('etcd_disk_backend_defrag_duration_seconds observes each defragment', async () => {
    const backend = await Backend.open(path.join(mkdtempSync(path.join(tmpdir(), 'etcdts-metrics-')), 'db'));
    try {
      const before = await sample('etcd_disk_backend_defrag_duration_seconds_count');
      const batch = new WriteBatch();
      batch.put(Buffer.from('k'), Buffer.from('v'));
      await backend.commit(batch);
      await defragment(backend);
      expect(await sample('etcd_disk_backend_defrag_duration_seconds_count')).toBe(before + 1);
      expect(await sample('etcd_disk_backend_defrag_duration_seconds_bucket{le="+Inf"}')).toBe(before + 1);
    } finally {
      await backend.close();
    }
  });

  it('etcd_disk_backend_snapshot_duration_seconds observes each state dump once consumed', async () => {
    const backend = await Backend.open(path.join(mkdtempSync(path.join(tmpdir(), 'etcdts-metrics-')), 'db'));
    try {
      const before = await sample('etcd_disk_backend_snapshot_duration_seconds_count');
      const dump = dumpState(backend);
      expect(await sample('etcd_disk_backend_snapshot_duration_seconds_count')).toBe(before);
      for await (const chunk of dump) expect(chunk.length).toBeGreaterThan(0);
      expect(await sample('etcd_disk_backend_snapshot_duration_seconds_count')).toBe(before + 1);
    } finally {
      await backend.close();
    }
  });
});
