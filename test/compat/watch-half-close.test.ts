/**
 * A watch stream whose client half-closes (CloseSend) after its create request keeps delivering
 * events, on etcd 3.4.23 (its recvLoop returns, its sendLoop goes on) and on etcdts alike.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { WatchClient } from '../../src/api/proto.js';
import { TestKv } from '../helpers/kv-client.js';
import { hasEtcd, inCI, killAll, startMember, waitFor } from '../helpers/procs.js';

if (!hasEtcd && inCI) throw new Error('compat tests need etcd under CI (apt-get install etcd-server)');

afterAll(() => killAll());

async function eventsAfterHalfClose(kind: 'etcd' | 'etcdts'): Promise<string[]> {
  const m = await startMember({ kind });
  const w = new WatchClient(m.endpoint, grpc.credentials.createInsecure()) as unknown as { Watch(): grpc.ClientDuplexStream<unknown, Record<string, unknown>> };
  const s = w.Watch();
  const got: string[] = [];
  let created = false;
  s.on('data', (d: Record<string, unknown>) => {
    if (d.created) created = true;
    for (const e of (d.events as { kv: { key: Buffer; value: Buffer } }[] | undefined) ?? []) got.push(`${e.kv.key.toString()}=${e.kv.value.toString()}`);
  });
  s.on('error', () => undefined);
  s.write({ create_request: { key: Buffer.from('hc'), range_end: Buffer.alloc(0) } });
  s.end(); // half-close: nothing more from the client
  await waitFor('created', async () => created);
  const kv = new TestKv(m.endpoint);
  await kv.put('hc', 'after');
  await waitFor('event after half-close', async () => got.length > 0);
  kv.close();
  s.cancel();
  await m.kill('SIGTERM');
  return got;
}

describe('watch after the client half-closes', () => {
  it('etcdts keeps delivering events, as etcd does', async () => {
    expect(await eventsAfterHalfClose('etcdts')).toEqual(['hc=after']);
    if (hasEtcd) expect(await eventsAfterHalfClose('etcd')).toEqual(['hc=after']);
  }, 60_000);
});
