/**
 * The real etcdctl against etcdts and against a real etcd started the same way: the same
 * commands must give the same stdout, stderr and exit code. Ids (cluster_id, member_id) and
 * raft_term may differ between the two servers and are masked in JSON output; everything else
 * (revisions included) must be identical, since both stores start at revision 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdctl, hasEtcd, hasEtcdctl, inCI, killAll, startMember, type MemberProc, type RunResult } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI (apt-get install etcd-server etcd-client)');

function mask(r: RunResult): RunResult {
  const m = (s: string): string =>
    s
      .replace(/"cluster_id":\d+/g, '"cluster_id":<id>')
      .replace(/"member_id":\d+/g, '"member_id":<id>')
      .replace(/"raft_term":\d+/g, '"raft_term":<term>')
      .replace(/"ClusterID" : \d+/g, '"ClusterID" : <id>')
      .replace(/"MemberID" : \d+/g, '"MemberID" : <id>')
      .replace(/"RaftTerm" : \d+/g, '"RaftTerm" : <term>')
      // etcdctl's own client-side log lines carry a timestamp and a per-run target
      .replace(/"ts":"[^"]*"/g, '"ts":<ts>')
      .replace(/"target":"[^"]*"/g, '"target":<target>');
  return { stdout: m(r.stdout), stderr: m(r.stderr), code: r.code };
}

describe.skipIf(missing)(`etcdctl against etcdts and etcd${missing ? ' (skipped: etcd/etcdctl not installed)' : ''}`, () => {
  let ours: MemberProc;
  let theirs: MemberProc;

  beforeAll(async () => {
    [ours, theirs] = await Promise.all([startMember({ kind: 'etcdts' }), startMember({ kind: 'etcd' })]);
  });
  afterAll(() => killAll());

  /** Runs the same etcdctl command against both and expects identical (masked) results. */
  async function same(args: string[], input?: string): Promise<RunResult> {
    const a = mask(await etcdctl(ours.endpoint, args, input));
    const b = mask(await etcdctl(theirs.endpoint, args, input));
    expect({ args, ...a }).toEqual({ args, ...b });
    return a;
  }

  it('runs the seed scenario identically (put, get, range, prefix, json, delete)', async () => {
    expect((await same(['put', 'name5', 'apple'])).stdout).toBe('OK\n');
    await same(['put', 'name6', 'banana']);
    await same(['put', 'name7', 'orange']);
    await same(['put', 'name8', 'mango']);
    expect((await same(['get', 'name7'])).stdout).toBe('name7\norange\n');
    expect((await same(['get', 'name5', 'name8'])).stdout).toBe('name5\napple\nname6\nbanana\nname7\norange\n');
    await same(['get', '--prefix', 'name']);
    const json = await same(['get', '--prefix', 'name', '-w', 'json']);
    expect(json.stdout).toContain('"count":4');
    await same(['get', '--prefix', 'name', '-w', 'fields']);
    await same(['del', '--prefix', 'name']);
    expect((await same(['get', '--prefix', 'name'])).stdout).toBe('');
  });

  it('answers range options identically (limit, sort, rev, keys-only, count-only, from-key, hex)', async () => {
    for (const [k, v] of [['b', '2'], ['a', '3'], ['c', '1'], ['a', '4']] as const) await same(['put', k, v]);
    await same(['get', 'a', '--from-key']);
    await same(['get', 'a', 'd', '--limit', '2', '-w', 'json']);
    await same(['get', '', '--from-key', '--sort-by', 'VALUE', '--order', 'DESCEND']);
    await same(['get', '', '--from-key', '--sort-by', 'MODIFY']);
    await same(['get', '', '--from-key', '--sort-by', 'CREATE', '--order', 'ASCEND', '-w', 'json']);
    await same(['get', '', '--from-key', '--sort-by', 'VERSION', '--order', 'DESCEND', '--limit', '2']);
    await same(['get', 'a', '--rev', '0']);
    await same(['get', 'a', '--rev', '12']);
    await same(['get', '--prefix', '', '--keys-only']);
    await same(['get', '--prefix', '', '--count-only', '-w', 'fields']);
    await same(['get', 'a', '--print-value-only']);
    await same(['get', 'a', '--hex']);
    await same(['get', 'a', '--consistency', 's']);
  });

  it('runs transactions identically (compares, success and failure branches)', async () => {
    await same(['put', 'tx1', 'one']);
    const txn = 'mod("tx1") > "0"\n\nput tx1 "overwrote"\nget tx1\n\nput tx1 "failed"\n\n';
    expect((await same(['txn'], txn)).stdout).toMatch(/^SUCCESS/);
    await same(['txn', '-w', 'json'], 'value("tx1") = "nope"\n\nput tx2 "x"\n\ndel tx1\nget tx1\n\n');
    await same(['txn'], 'ver("missing") = "0"\ncreate("tx1") > "0"\n\nput missing "now"\n\n\n');
    // Every compare target etcdctl 3.4.23 can send on the write path (its lease() compare panics
    // in the client itself: clientv3 mustInt64orLeaseID), through the log.
    await same(['put', 'tx1', 'overwrote']);
    const all = 'value("tx1") = "overwrote"\nver("tx1") = "1"\ncreate("tx1") > "0"\nmod("tx1") != "1"\n\nput tx3 "ok"\nget tx1\ndel nothing\n\nput tx3 "bad"\n\n';
    expect((await same(['txn', '-w', 'json'], all)).stdout).toContain('"succeeded":true');
    await same(['txn', '-w', 'fields'], all);
    await same(['get', '--prefix', 'tx']);
  });

  it('fails identically on bad requests and keeps serving', async () => {
    await same(['get', 'a', '--rev', '1000']);
    await same(['put', '', 'v']);
    await same(['put', 'k', 'v', '--lease', '1234']);
    await same(['put', 'nokey', '--ignore-value']);
    await same(['txn'], 'mod("a") > "0"\n\nput d "1"\nput d "2"\n\n\n');
    await same(['get', 'a']);
  });

  it('compacts identically and then refuses compacted revisions', async () => {
    await same(['put', 'cmp', 'v1']);
    await same(['put', 'cmp', 'v2']);
    const rev = await etcdctl(theirs.endpoint, ['get', 'cmp', '-w', 'json']);
    const m = /"revision":(\d+)/.exec(rev.stdout);
    expect(m).not.toBeNull();
    const r = Number(m?.[1]) - 1;
    await same(['compaction', String(r)]);
    await same(['get', 'cmp', '--rev', String(r - 1)]);
    await same(['get', 'cmp', '--rev', String(r)]);
    await same(['compaction', String(r - 2)]);
    await same(['compaction', '--physical', String(r + 1)]);
    await same(['get', 'cmp']);
  });
});
