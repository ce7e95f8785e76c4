/**
 * The JSON gateway against a real etcd 3.4.23: the same HTTP requests, in the same order, to a
 * fresh etcd and a fresh etcdts; status codes and bodies compared field by field (ids, terms,
 * sizes, hashes and lease-derived keys masked). Covers every unary path of KV, Lease (both path
 * forms), Cluster, Maintenance, Election and Lock, /v3beta/, the error bodies and HTTP statuses
 * (bad JSON, bad base64, bad enum, type errors, etcd errors 400/404/412/500), 405 and 404, and
 * the streams: a watch that sees a put and a delete, a lease keepalive, an election observe.
 * Then the python etcd3gw client (Debian python3-etcd3gw, api_path /v3/) runs one scenario
 * against both and gets the same results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { hasEtcd, inCI, killAll, repoRoot, run, startMember, which, type MemberProc } from '../helpers/procs.js';

if (!hasEtcd && inCI) throw new Error('compat tests need etcd under CI (apt-get install etcd-server)');
const python = which('/usr/bin/python3') ?? which('python3');
const hasEtcd3gw = python !== null && (await run(python, ['-c', 'import etcd3gw'])).code === 0;
if (!hasEtcd3gw && inCI) throw new Error('the gateway compat test needs python3-etcd3gw under CI (apt-get install python3-etcd3gw)');

const b = (s: string): string => Buffer.from(s).toString('base64');

/** Fields whose values legitimately differ between two servers. */
const masked = new Set(['cluster_id', 'member_id', 'raft_term', 'ID', 'lease', 'leader', 'dbSize', 'dbSizeInUse', 'raftIndex', 'raftAppliedIndex', 'version', 'hash', 'memberID', 'blob', 'remaining_bytes']);

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'dbSizeQuota') continue; // a 3.6 field etcdts fills, absent in 3.4
      if (masked.has(k) && (typeof x !== 'object' || x === null)) out[k] = '<m>';
      else if (k === 'key' && typeof x === 'string') out[k] = b(Buffer.from(x, 'base64').toString().replace(/\/[0-9a-f]{1,16}$/, '/<lease>'));
      else if ((k === 'peerURLs' || k === 'clientURLs') && Array.isArray(x)) out[k] = x.map(() => '<url>');
      else if (k === 'name' && typeof x === 'string' && !/=$/.test(x)) out[k] = '<name>';
      else out[k] = normalize(x);
    }
    return out;
  }
  return v;
}

interface Answer {
  status: number;
  body: unknown;
}

async function post(base: string, p: string, body: string | null, method = 'POST'): Promise<Answer> {
  const r = await fetch(`${base}${p}`, { method, body: body ?? undefined, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown);
    if ((parsed as unknown[]).length === 1) parsed = (parsed as unknown[])[0];
  } catch {
    parsed = text;
  }
  return { status: r.status, body: normalize(parsed) };
}

/** A stream: read lines for `ms` while `act` runs, then abort. */
async function stream(base: string, p: string, body: string, act: () => Promise<unknown>, lines: number): Promise<Answer> {
  const ac = new AbortController();
  // Headers come with the first response (an observe without a leader sends none yet).
  const pending = fetch(`${base}${p}`, { method: 'POST', body, signal: ac.signal });
  let status = 0;
  let text = '';
  const reading = (async () => {
    const r = await pending;
    status = r.status;
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      text += Buffer.from(value as Uint8Array).toString();
      if (text.split('\n').filter((l) => l !== '').length >= lines) return;
    }
  })();
  reading.catch(() => undefined);
  await new Promise((res) => setTimeout(res, 300));
  await act();
  await Promise.race([reading, new Promise((res) => setTimeout(res, 5000))]);
  ac.abort();
  return { status, body: normalize(text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown)) };
}

/** The scenario: [name, path, body] in order; null body = no body. */
function requests(): [string, string, string | null][] {
  return [
    ['put', '/v3/kv/put', JSON.stringify({ key: b('foo'), value: b('bar') })],
    ['put prev_kv', '/v3/kv/put', JSON.stringify({ key: b('foo'), value: b('bar2'), prev_kv: true })],
    ['put camelCase', '/v3/kv/put', JSON.stringify({ key: b('foo3'), value: b('v'), prevKv: true })],
    ['put empty key', '/v3/kv/put', JSON.stringify({ key: '', value: b('x') })],
    ['put unknown lease', '/v3/kv/put', JSON.stringify({ key: b('k'), value: b('x'), lease: '12345' })],
    ['put ignore_value with value', '/v3/kv/put', JSON.stringify({ key: b('k'), value: b('x'), ignore_value: true })],
    ['range', '/v3/kv/range', JSON.stringify({ key: b('foo') })],
    ['range beta', '/v3beta/kv/range', JSON.stringify({ key: b('foo') })],
    ['range prefix sorted', '/v3/kv/range', `{"key":"${b('f')}","range_end":"${b('g')}","sort_order":"DESCEND","sort_target":"CREATE","limit":"1"}`],
    ['range numeric enums', '/v3/kv/range', `{"key":"${b('f')}","rangeEnd":"${b('g')}","sort_order":2,"sortTarget":1,"limit":1,"keys_only":true}`],
    ['range count_only', '/v3/kv/range', JSON.stringify({ key: 'AA==', range_end: 'AA==', count_only: true })],
    ['range future rev', '/v3/kv/range', JSON.stringify({ key: b('foo'), revision: '1000' })],
    ['range no body', '/v3/kv/range', null],
    ['range bad json', '/v3/kv/range', '{bad'],
    ['range truncated', '/v3/kv/range', '{"key":'],
    ['range bad base64', '/v3/kv/range', '{"key":"YQ"}'],
    ['range bad enum', '/v3/kv/range', `{"key":"${b('a')}","sort_order":"BOGUS"}`],
    ['range key as number', '/v3/kv/range', '{"key":1}'],
    ['range limit float', '/v3/kv/range', `{"key":"${b('a')}","limit":1.5}`],
    ['range bool as string', '/v3/kv/range', `{"key":"${b('a')}","keys_only":"true"}`],
    ['range array body', '/v3/kv/range', '[]'],
    ['range trailing garbage', '/v3/kv/range', `{"key":"${b('foo')}"} xyz`],
    [
      'txn',
      '/v3/kv/txn',
      JSON.stringify({
        compare: [{ key: b('foo'), result: 'EQUAL', target: 'VALUE', value: b('bar2') }],
        success: [{ request_put: { key: b('t1'), value: b('1') } }, { request_range: { key: b('foo') } }, { request_delete_range: { key: b('foo3'), prev_kv: true } }],
        failure: [],
      }),
    ],
    ['txn failing compare', '/v3/kv/txn', JSON.stringify({ compare: [{ key: b('nope'), target: 'CREATE', create_revision: '5', result: 'GREATER' }], success: [], failure: [{ request_range: { key: b('t1') } }] })],
    ['txn duplicate key', '/v3/kv/txn', JSON.stringify({ success: [{ request_put: { key: b('d') } }, { request_put: { key: b('d') } }] })],
    ['deleterange', '/v3/kv/deleterange', JSON.stringify({ key: b('t1'), prev_kv: true })],
    ['deleterange missing', '/v3/kv/deleterange', JSON.stringify({ key: b('t1') })],
    ['compaction', '/v3/kv/compaction', JSON.stringify({ revision: '3', physical: true })],
    ['compaction again', '/v3/kv/compaction', JSON.stringify({ revision: '2' })],
    ['compaction future', '/v3/kv/compaction', JSON.stringify({ revision: '1000' })],
    ['range compacted', '/v3/kv/range', JSON.stringify({ key: b('foo'), revision: '2' })],
    ['lease grant', '/v3/lease/grant', JSON.stringify({ TTL: '60', ID: '777' })],
    ['lease grant same id', '/v3/lease/grant', JSON.stringify({ TTL: '60', ID: '777' })],
    ['lease grant huge ttl', '/v3/lease/grant', JSON.stringify({ TTL: '9000000001' })],
    ['put with lease', '/v3/kv/put', JSON.stringify({ key: b('leased'), value: b('v'), lease: '777' })],
    ['lease timetolive', '/v3/lease/timetolive', JSON.stringify({ ID: '777', keys: true })],
    ['kv lease timetolive', '/v3/kv/lease/timetolive', JSON.stringify({ ID: '777' })],
    ['lease timetolive unknown', '/v3/lease/timetolive', JSON.stringify({ ID: '1' })],
    ['lease leases', '/v3/lease/leases', '{}'],
    ['kv lease leases', '/v3/kv/lease/leases', '{}'],
    ['lease revoke', '/v3/lease/revoke', JSON.stringify({ ID: '777' })],
    ['kv lease revoke unknown', '/v3/kv/lease/revoke', JSON.stringify({ ID: '777' })],
    ['member list', '/v3/cluster/member/list', '{}'],
    ['member remove unknown', '/v3/cluster/member/remove', JSON.stringify({ ID: '1' })],
    ['member update unknown', '/v3/cluster/member/update', JSON.stringify({ ID: '1', peerURLs: ['http://127.0.0.1:1'] })],
    ['member promote unknown', '/v3/cluster/member/promote', JSON.stringify({ ID: '1' })],
    ['member add bad url', '/v3/cluster/member/add', JSON.stringify({ peerURLs: ['not a url'] })],
    ['alarm list', '/v3/maintenance/alarm', JSON.stringify({ action: 'GET' })],
    ['status', '/v3/maintenance/status', '{}'],
    ['defragment', '/v3/maintenance/defragment', '{}'],
    ['hash', '/v3/maintenance/hash', '{}'],
    ['move leader to unknown', '/v3/maintenance/transfer-leadership', JSON.stringify({ targetID: '1' })],
    ['election leader none', '/v3/election/leader', JSON.stringify({ name: b('el') })],
    ['election campaign', '/v3/election/campaign', JSON.stringify({ name: b('el'), value: b('v1') })],
    ['election leader', '/v3/election/leader', JSON.stringify({ name: b('el') })],
    ['election proclaim no leader key', '/v3/election/proclaim', JSON.stringify({ value: b('x') })],
    ['election proclaim not leader', '/v3/election/proclaim', JSON.stringify({ leader: { name: b('el'), key: b('el/x'), rev: '3' }, value: b('x') })],
    ['election resign not leader', '/v3/election/resign', JSON.stringify({ leader: { name: b('el'), key: b('el/x'), rev: '3' } })],
    ['lock', '/v3/lock/lock', JSON.stringify({ name: b('lk') })],
    ['unlock missing', '/v3/lock/unlock', JSON.stringify({ key: b('lk/none') })],
    ['unlock empty', '/v3/lock/unlock', '{}'],
    ['unknown path', '/v3/kv/nothing', '{}'],
    ['v3alpha', '/v3alpha/kv/range', '{}'],
    ['watch bad json', '/v3/watch', '{bad'],
    ['keepalive bad id', '/v3/lease/keepalive', '{"ID":"abc"}'],
  ];
}

async function scenario(m: MemberProc): Promise<Record<string, Answer>> {
  const base = m.clientUrl;
  const out: Record<string, Answer> = {};
  for (const [name, p, body] of requests()) out[name] = await post(base, p, body);
  out['GET is 405'] = await post(base, '/v3/kv/range', null, 'GET');
  out['watch sees put and delete'] = await stream(base, '/v3/watch', JSON.stringify({ create_request: { key: b('w'), prev_kv: true } }), async () => {
    await post(base, '/v3/kv/put', JSON.stringify({ key: b('w'), value: b('1') }));
    await post(base, '/v3/kv/deleterange', JSON.stringify({ key: b('w') }));
  }, 3);
  await post(base, '/v3/lease/grant', JSON.stringify({ TTL: '60', ID: '888' }));
  out['keepalive'] = await stream(base, '/v3/lease/keepalive', JSON.stringify({ ID: '888' }), async () => undefined, 1);
  out['keepalive two requests'] = await stream(base, '/v3/lease/keepalive', `${JSON.stringify({ ID: '888' })}\n${JSON.stringify({ ID: '1' })}`, async () => undefined, 2);
  out['observe'] = await stream(base, '/v3/election/observe', JSON.stringify({ name: b('ob') }), async () => {
    const c = await fetch(`${base}/v3/election/campaign`, { method: 'POST', body: JSON.stringify({ name: b('ob'), value: b('a') }) });
    const leader = ((await c.json()) as { leader: unknown }).leader;
    await post(base, '/v3/election/proclaim', JSON.stringify({ leader, value: b('b') }));
  }, 2);
  return out;
}

describe.skipIf(!hasEtcd)('JSON gateway: etcdts against etcd 3.4.23', () => {
  let ts: MemberProc;
  let etcd: MemberProc;

  beforeAll(async () => {
    [ts, etcd] = await Promise.all([startMember({ kind: 'etcdts', name: 'ts' }), startMember({ kind: 'etcd', name: 'etcd' })]);
  }, 60_000);
  afterAll(() => killAll());

  it('every path answers as etcd does: bodies, errors, HTTP statuses and streams', async () => {
    const want = await scenario(etcd);
    const got = await scenario(ts);
    expect((want['watch sees put and delete']?.body as unknown[]).length, 'etcd: created, put, delete').toBe(3);
    expect((want['observe']?.body as unknown[]).length, 'etcd: leader, proclaim').toBe(2);
    for (const name of Object.keys(want)) expect(got[name], name).toEqual(want[name]);
  }, 60_000);

  it('/v3/maintenance/hashkv (3.5 path) serves HashKV; auth paths reach the Auth service', async () => {
    const r = await post(ts.clientUrl, '/v3/maintenance/hashkv', '{}');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body as object)).toContain('header');
    const a = await post(ts.clientUrl, '/v3/auth/status', '{}');
    expect(a.status).not.toBe(404);
  });

  it.skipIf(!hasEtcd3gw)('python etcd3gw (api_path /v3/) gets the same results from both', async () => {
    const script = path.join(repoRoot, 'test', 'compat', 'py', 'etcd3gw_scenario.py');
    const port = (m: MemberProc): string => new URL(m.clientUrl).port;
    const [a, b2] = await Promise.all([run(python as string, [script, port(etcd)]), run(python as string, [script, port(ts)])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b2.code, b2.stderr).toBe(0);
    const clean = (s: string): unknown => (JSON.parse(s) as { step: string; value: unknown }[]).map((x) => (x.step === 'status keys' ? { ...x, value: (x.value as string[]).filter((k) => k !== 'dbSizeQuota') } : x));
    expect(clean(b2.stdout)).toEqual(clean(a.stdout));
  }, 60_000);
});
