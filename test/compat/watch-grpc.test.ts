/**
 * The Watch RPC itself, etcdts against a real etcd 3.4.23, response by response: the same
 * request sequence on one stream against each (fresh servers, so revisions agree), and the
 * responses compared field by field with ids and terms masked. Covers created responses and
 * their header revisions, auto and client-chosen ids, a duplicate id, an empty range, an empty
 * key, a future start, a compacted start (created, then canceled with compact_revision and
 * header revision 0), negative starts, progress requests, cancel of a known and an unknown id,
 * filters, prev_kv, and fragmentation of a response above max-request-bytes + 512 KiB.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVClient, WatchClient } from '../../src/api/proto.js';
import { hasEtcd, inCI, killAll, startMember, waitFor, type MemberProc } from '../helpers/procs.js';

if (!hasEtcd && inCI) throw new Error('compat tests need etcd under CI (apt-get install etcd-server)');

type Wire = Record<string, unknown>;

function show(x: unknown): unknown {
  return JSON.parse(
    JSON.stringify(x, (k, v: unknown) => {
      if (k === 'cluster_id' || k === 'member_id' || k === 'raft_term') return '<masked>';
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
        const b = Buffer.from((v as { data: number[] }).data);
        return b.length > 64 ? `<${b.length} bytes>` : b.toString();
      }
      return v;
    }),
  );
}

/** Runs the scenario on one server; returns what the stream received after each step. */
async function scenario(endpoint: string): Promise<Record<string, unknown[]>> {
  const kv = new KVClient(endpoint, grpc.credentials.createInsecure()) as unknown as Record<string, (req: unknown, cb: (e: Error | null, r: unknown) => void) => void>;
  const call = (m: string, req: unknown): Promise<unknown> => new Promise((res, rej) => kv[m]?.(req, (e, r) => (e ? rej(e) : res(r))));
  const w = new WatchClient(endpoint, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }) as unknown as { Watch(): grpc.ClientDuplexStream<Wire, Wire> };
  const s = w.Watch();
  let got: unknown[] = [];
  s.on('data', (d: Wire) => got.push(show(d)));
  s.on('error', () => undefined); // the servers are killed after the test
  const out: Record<string, unknown[]> = {};
  /** Sends req, waits until `n` responses arrived (or a short quiet time for n = 0). */
  const step = async (name: string, req: Wire | null, n: number, act?: () => Promise<unknown>): Promise<void> => {
    if (req) s.write(req);
    if (act) await act();
    if (n > 0) await waitFor(name, async () => got.length >= n, 20_000);
    else await new Promise((r) => setTimeout(r, 300));
    await new Promise((r) => setTimeout(r, 100)); // nothing more comes
    out[name] = got;
    got = [];
  };
  const cr = (x: Wire): Wire => ({ create_request: x, request_union: 'create_request' });
  for (let i = 0; i < 5; i++) await call('Put', { key: Buffer.from(`a${i}`), value: Buffer.from(`v${i}`) });
  await call('Compact', { revision: '4' });
  await step('plain', cr({ key: Buffer.from('a'), range_end: Buffer.from('b') }), 1);
  await step('compacted start', cr({ key: Buffer.from('a'), start_revision: '2' }), 2);
  await step('at the compaction', cr({ key: Buffer.from('a3'), start_revision: '4' }), 2);
  await step('negative start below compaction', cr({ key: Buffer.from('a'), start_revision: '-3' }), 2);
  await step('client id 7', cr({ key: Buffer.from('a'), watch_id: '7' }), 1);
  await step('duplicate id 7', cr({ key: Buffer.from('a'), watch_id: '7' }), 1);
  await step('empty range', cr({ key: Buffer.from('b'), range_end: Buffer.from('a') }), 1);
  await step('empty key from-key', cr({ key: Buffer.alloc(0), range_end: Buffer.from([0]), start_revision: '5' }), 2);
  await step('future start', cr({ key: Buffer.from('a0'), start_revision: '100' }), 1);
  await step('progress', { progress_request: {}, request_union: 'progress_request' }, 1);
  await step('cancel 7', { cancel_request: { watch_id: '7' }, request_union: 'cancel_request' }, 1);
  await step('cancel unknown', { cancel_request: { watch_id: '99' }, request_union: 'cancel_request' }, 0);
  await step('auto id after 7', cr({ key: Buffer.from('k'), prev_kv: true }), 1);
  await step('noput + prev_kv', cr({ key: Buffer.from('k'), prev_kv: true, filters: [0] }), 1);
  await step('nodelete', cr({ key: Buffer.from('k'), filters: [1] }), 1);
  await step('events', null, 8, async () => {
    await call('Put', { key: Buffer.from('k'), value: Buffer.from('1') });
    await call('Put', { key: Buffer.from('k'), value: Buffer.from('2') });
    await call('DeleteRange', { key: Buffer.from('k') });
    await call('Put', { key: Buffer.from('a1'), value: Buffer.from('x') });
  });
  await step('progress after events', { progress_request: {}, request_union: 'progress_request' }, 1);
  // Fragmentation: a txn whose response with prev_kv exceeds 1.5 MiB + 512 KiB.
  await step('fragment watcher', cr({ key: Buffer.from('big/'), range_end: Buffer.from('big0'), prev_kv: true, fragment: true }), 1);
  await step('whole watcher', cr({ key: Buffer.from('big/'), range_end: Buffer.from('big0'), prev_kv: true }), 1);
  const ops = (v: number): unknown[] =>
    Array.from({ length: 11 }, (_, i) => ({ request_put: { key: Buffer.from(`big/${i}`), value: Buffer.alloc(100_000, 97 + v) }, request: 'request_put' }));
  // Both watchers done: the fragment watcher's last piece and the other's whole response.
  const complete = (r: unknown): boolean => !(r as { fragment: boolean }).fragment && ((r as { events: unknown[] }).events ?? []).length > 0;
  const bigTxn = (v: number) => async (): Promise<void> => {
    await call('Txn', { success: ops(v) });
    await waitFor('big responses', async () => got.filter(complete).length >= 2, 30_000);
  };
  await step('big txn, creates', null, 0, bigTxn(0));
  await step('big txn, updates with prev_kv', null, 0, bigTxn(1));
  s.cancel();
  (w as unknown as grpc.Client).close();
  (kv as unknown as grpc.Client).close();
  return out;
}

describe.skipIf(!hasEtcd)(`Watch RPC: etcdts answers as etcd 3.4.23${hasEtcd ? '' : ' (SKIPPED: etcd not installed)'}`, () => {
  let members: MemberProc[];
  beforeAll(async () => {
    members = await Promise.all([startMember({ kind: 'etcd' }), startMember({ kind: 'etcdts' })]);
  }, 60_000);
  afterAll(() => killAll());

  it('gives the same responses to the same requests', async () => {
    const [want, got] = await Promise.all(members.map((m) => scenario(m.endpoint)));
    const w = want as Record<string, unknown[]>;
    // The reference shows what is under test.
    expect(w['compacted start']?.[1]).toMatchObject({ canceled: true, compact_revision: '4', header: { revision: '0' } });
    expect(w['duplicate id 7']?.[0]).toMatchObject({ watch_id: '-1', cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream' });
    const fragments = (w['big txn, updates with prev_kv'] ?? []).filter((r) => (r as { fragment: boolean }).fragment);
    expect(fragments.length).toBeGreaterThan(0);
    for (const k of Object.keys(w)) {
      const sort = (xs: unknown[] | undefined): unknown[] => [...(xs ?? [])].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
      // Responses to different watchers may interleave differently: compare per watch id, in order.
      const byId = (xs: unknown[] | undefined): Record<string, unknown[]> => {
        const m: Record<string, unknown[]> = {};
        for (const x of xs ?? []) (m[(x as { watch_id: string }).watch_id] ??= []).push(x);
        return m;
      };
      expect({ step: k, responses: byId(got?.[k]) }).toEqual({ step: k, responses: byId(w[k]) });
      expect(sort(got?.[k]).length).toBe(sort(w[k]).length);
    }
  }, 120_000);
});
