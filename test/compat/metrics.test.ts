/**
 * /metrics against a real etcd 3.4.23 started alike (both with --listen-metrics-urls): after the
 * same requests (a put, a get, a lease, a delete, a defrag, a snapshot save) every etcd-named series etcdts exposes exists
 * in etcd's output with the same type and the same label names, the series the issue names are
 * all there, their values follow the requests, and the metrics listener serves /metrics and
 * /health (and nothing else). --metrics extensive adds grpc_server_handling_seconds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasEtcd, hasEtcdctl, httpGet, inCI, killAll, run, startMember, type MemberProc } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI');

interface Family {
  type: string;
  labels: Set<string>;
  samples: Map<string, number>;
}

/** Prometheus text → families by name (samples keyed by `name{labels}`). */
function parse(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  let current: Family | null = null;
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t) {
      current = { type: t[2] as string, labels: new Set(), samples: new Map() };
      out.set(t[1] as string, current);
      continue;
    }
    if (line === '' || line.startsWith('#') || !current) continue;
    const m = /^(\S+?)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    for (const kv of (m[3] ?? '').split(/,(?=[a-z_]+=)/)) if (kv) current.labels.add(kv.split('=')[0] as string);
    current.samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[4]));
  }
  return out;
}

const required = [
  'etcd_server_has_leader',
  'etcd_server_is_leader',
  'etcd_server_leader_changes_seen_total',
  'etcd_server_proposals_committed_total',
  'etcd_server_proposals_applied_total',
  'etcd_server_proposals_pending',
  'etcd_server_proposals_failed_total',
  'etcd_server_slow_apply_total',
  'etcd_server_slow_read_indexes_total',
  'etcd_server_read_indexes_failed_total',
  'etcd_disk_wal_fsync_duration_seconds',
  'etcd_disk_backend_commit_duration_seconds',
  'etcd_disk_backend_defrag_duration_seconds',
  'etcd_disk_backend_snapshot_duration_seconds',
  'etcd_mvcc_db_total_size_in_bytes',
  'etcd_mvcc_db_total_size_in_use_in_bytes',
  'etcd_debugging_mvcc_keys_total',
  'etcd_mvcc_put_total',
  'etcd_mvcc_delete_total',
  'etcd_mvcc_range_total',
  'etcd_mvcc_txn_total',
  'etcd_debugging_mvcc_watch_stream_total',
  'etcd_debugging_mvcc_watcher_total',
  'etcd_debugging_lease_granted_total',
  'etcd_debugging_lease_revoked_total',
  'etcd_debugging_server_lease_expired_total',
  'grpc_server_started_total',
  'grpc_server_handled_total',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_open_fds',
];

async function load(m: MemberProc): Promise<void> {
  const ep = [`--endpoints=${m.endpoint}`];
  await run('etcdctl', [...ep, 'put', 'k', 'v']);
  await run('etcdctl', [...ep, 'get', 'k']);
  await run('etcdctl', [...ep, 'lease', 'grant', '100']);
  await run('etcdctl', [...ep, 'del', 'k']);
  await run('etcdctl', [...ep, 'defrag']);
  await run('etcdctl', [...ep, 'snapshot', 'save', path.join(mkdtempSync(path.join(tmpdir(), 'etcdts-metrics-snap-')), 'snap.db')]);
}

describe.skipIf(missing)('/metrics: etcdts against etcd 3.4.23', () => {
  let ts: MemberProc;
  let etcd: MemberProc;
  let tsMetricsUrl: string;
  let etcdMetricsUrl: string;

  beforeAll(async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    tsMetricsUrl = `http://127.0.0.1:${p1}`;
    etcdMetricsUrl = `http://127.0.0.1:${p2}`;
    [ts, etcd] = await Promise.all([
      startMember({ kind: 'etcdts', name: 'ts', args: ['--listen-metrics-urls', tsMetricsUrl] }),
      startMember({ kind: 'etcd', name: 'etcd', args: ['--listen-metrics-urls', etcdMetricsUrl] }),
    ]);
    await Promise.all([load(ts), load(etcd)]);
  }, 60_000);
  afterAll(() => killAll());

  it('every etcd_* and grpc_* family etcdts exposes is etcd\'s, same type and labels; the named ones are all there', async () => {
    const ours = parse((await httpGet(`${ts.clientUrl}/metrics`)).body);
    const theirs = parse((await httpGet(`${etcd.clientUrl}/metrics`)).body);
    for (const name of required) expect(ours.has(name), name).toBe(true);
    for (const [name, f] of ours) {
      if (!/^(etcd|grpc)_/.test(name)) continue;
      const e = theirs.get(name);
      expect(e, `${name} is one of etcd's`).toBeDefined();
      expect({ name, type: f.type, labels: [...f.labels].sort() }).toEqual({ name, type: e?.type, labels: [...(e?.labels ?? [])].sort() });
    }
    for (const name of required.filter((n) => n.startsWith('process_'))) expect(theirs.has(name), `etcd has ${name}`).toBe(true);
  });

  it('values follow the requests', async () => {
    const m = parse((await httpGet(`${ts.clientUrl}/metrics`)).body);
    const v = (family: string, sample = family): number | undefined => m.get(family)?.samples.get(sample);
    expect(v('etcd_server_has_leader')).toBe(1);
    expect(v('etcd_server_is_leader')).toBe(1);
    expect(v('etcd_mvcc_put_total')).toBeGreaterThanOrEqual(1);
    expect(v('etcd_mvcc_delete_total')).toBeGreaterThanOrEqual(1);
    expect(v('etcd_mvcc_range_total')).toBeGreaterThanOrEqual(1);
    expect(v('etcd_debugging_lease_granted_total')).toBe(1);
    expect(v('etcd_server_proposals_applied_total')).toBeGreaterThan(0);
    expect(v('etcd_disk_wal_fsync_duration_seconds', 'etcd_disk_wal_fsync_duration_seconds_count')).toBeGreaterThan(0);
    expect(v('etcd_disk_backend_defrag_duration_seconds', 'etcd_disk_backend_defrag_duration_seconds_count')).toBe(1);
    expect(v('etcd_disk_backend_snapshot_duration_seconds', 'etcd_disk_backend_snapshot_duration_seconds_count')).toBe(1);
    expect(v('etcd_server_read_indexes_failed_total')).toBe(0);
    expect(v('grpc_server_handled_total', 'grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}')).toBe(1);
    expect(v('grpc_server_started_total', 'grpc_server_started_total{grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"}')).toBe(1);
    expect(m.has('grpc_server_handling_seconds')).toBe(false);
  });

  it('--listen-metrics-urls serves /metrics and /health, as etcd\'s does, and 404 elsewhere', async () => {
    for (const base of [tsMetricsUrl, etcdMetricsUrl]) {
      const metrics = await httpGet(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('etcd_server_has_leader 1');
      const health = await httpGet(`${base}/health`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ health: 'true' });
      expect((await httpGet(`${base}/version`)).status, base).toBe(404);
    }
  });

  it('--metrics extensive adds grpc_server_handling_seconds', async () => {
    const m = await startMember({ kind: 'etcdts', name: 'ext', args: ['--metrics', 'extensive'] });
    await run('etcdctl', [`--endpoints=${m.endpoint}`, 'put', 'k', 'v']);
    const f = parse((await httpGet(`${m.clientUrl}/metrics`)).body).get('grpc_server_handling_seconds');
    expect(f?.type).toBe('histogram');
    expect(f?.samples.get('grpc_server_handling_seconds_count{grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}')).toBe(1);
  }, 30_000);
});
