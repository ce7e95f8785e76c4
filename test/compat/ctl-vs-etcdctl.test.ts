/**
 * ctl against the real etcdctl: the same command line, given the same server answers, must
 * print the same stdout and stderr and exit with the same code. Two etcdts members with the same
 * flags (same ids) and the same history serve them; their client ports differ and are masked.
 * etcdctl's own client-side retry log lines (Go clientv3 warnings with a timestamp and a random
 * target) are dropped from its stderr: they are logging, not output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctl, etcdctl, hasEtcdctl, inCI, killAll, startMember, type MemberProc, type RunResult } from '../helpers/procs.js';

if (!hasEtcdctl && inCI) throw new Error('compat tests need etcdctl under CI (apt-get install etcd-client)');

describe.skipIf(!hasEtcdctl)(`ctl prints what etcdctl prints${hasEtcdctl ? '' : ' (skipped: etcdctl not installed)'}`, () => {
  let a: MemberProc;
  let b: MemberProc;
  // Same peer URL (etcdts does not listen on it as a single member) ⇒ same member/cluster ids.
  const same = ['--initial-advertise-peer-urls', 'http://127.0.0.1:2380', '--initial-cluster', 'default=http://127.0.0.1:2380'];

  beforeAll(async () => {
    [a, b] = await Promise.all([startMember({ kind: 'etcdts', args: same }), startMember({ kind: 'etcdts', args: same })]);
  });
  afterAll(() => killAll());

  function norm(r: RunResult, m: MemberProc): RunResult {
    const port = m.endpoint.split(':')[1] as string;
    const clean = (s: string): string =>
      s
        .split('\n')
        .filter((l) => !l.startsWith('{"level":"warn"'))
        .join('\n')
        .replaceAll(port, '<port>')
        .replace(/took = [0-9.]+[µnm]?s/g, 'took = <t>')
        .replace(/"took":"[^"]*"/g, '"took":<t>')
        .replace(/\| [0-9.]+[µnm]?s \|/g, '| <t> |')
        .replace(/"Took" : [0-9.]+[µnm]?s/g, '"Took" : <t>')
        .replace(/\b\d+(\.\d)? kB\b/g, '<size>')
        .replace(/"dbSize":\d+/g, '"dbSize":<n>')
        .replace(/"dbSizeInUse":\d+/g, '"dbSizeInUse":<n>')
        .replace(/"DBSize" : \d+/g, '"DBSize" : <n>')
        .replace(/"(raftIndex|raftAppliedIndex|RaftIndex|RaftAppliedIndex)"( : |:)\d+/g, '"$1"$2<i>')
        .replace(/^(127\.0\.0\.1:<port>, \w+, [^,]+, [^,]+, \w+, \w+, \d+), \d+, \d+, /gm, '$1, <i>, <i>, ')
        .replace(/\| +\d+ \| +\d+ \| +\|$/gm, '| <i> | <i> | |')
        .replace(/etcdctl/g, 'ctl');
    return { stdout: clean(r.stdout), stderr: clean(r.stderr), code: r.code };
  }

  async function both(args: string[], input?: string): Promise<RunResult> {
    const [x, y] = await Promise.all([ctl(a.endpoint, args, input), etcdctl(b.endpoint, args, input)]);
    let got = norm(x, a);
    let want = norm(y, b);
    if (args.includes('health') && args.includes('table')) {
      // The TOOK column's width follows the timing; compare the table's shape, not its padding.
      const squash = (r: RunResult): RunResult => ({ ...r, stdout: r.stdout.replace(/-+/g, '-').replace(/ +/g, ' ') });
      got = squash(got);
      want = squash(want);
    }
    expect({ args, ...got }).toEqual({ args, ...want });
    return got;
  }

  it('prints the seed scenario identically in every format', async () => {
    await both(['put', 'name5', 'apple']);
    await both(['put', 'name6', 'banana']);
    await both(['put', 'name7', 'orange']);
    await both(['put', 'name8', 'mango']);
    await both(['get', 'name7']);
    await both(['get', 'name5', 'name8']);
    await both(['get', '--prefix', 'name']);
    await both(['get', '--prefix', 'name', '-w', 'json']);
    await both(['get', '--prefix', 'name', '-w', 'fields']);
    await both(['get', '--prefix', 'name', '--hex']);
    await both(['get', '--prefix', 'name', '--keys-only']);
    await both(['get', '--prefix', 'name', '--print-value-only']);
    await both(['get', '', '--from-key', '--sort-by=VALUE', '--order=DESCEND', '--limit=2', '-w', 'json']);
    await both(['get', 'name5', '--rev', '3']);
    await both(['put', 'name5', 'pear', '--prev-kv']);
    await both(['put', 'name5', 'plum', '--prev-kv', '-w', 'fields']);
    await both(['put', 'name6', '--ignore-value', '-w', 'json']);
    await both(['del', '--prefix', 'name', '--prev-kv']);
    await both(['del', 'none', '-w', 'fields']);
  });

  it('runs transactions from stdin identically', async () => {
    await both(['put', 't1', 'one']);
    const t = 'value("t1") = "one"\nmod("t1") > "0"\n\nput t1 "two"\nget t1\ndel t0\n\nput t1 "no"\n\n';
    await both(['txn'], t);
    await both(['txn', '-w', 'json'], t);
    await both(['txn', '-w', 'fields'], 'ver("t1") = "9"\n\n\nget t1\n\n');
    await both(['txn', '-i'], 'c("t1") != "0"\n\nput "t 2" "quoted \\"value\\""\n\n\n');
    await both(['get', 't', '--prefix']);
  });

  it('fails identically: bad arguments, server errors, unsupported formats', async () => {
    await both(['get']);
    await both(['put', 'only-key']);
    await both(['get', 'k', '--sort-by=BAD']);
    await both(['get', 'k', '--order=SIDEWAYS']);
    await both(['get', 'k', '--consistency=x']);
    await both(['get', 'k', '--rev', '100000']);
    await both(['put', 'k', 'v', '--lease', 'zz']);
    await both(['put', 'k', 'v', '--lease', '1234']);
    await both(['put', 'k', 'v', '-w', 'table']);
    await both(['compaction']);
    await both(['compaction', 'abc']);
    await both(['compaction', '100000']);
    await both(['del']);
  });

  it('prints member list and endpoint status/health identically', async () => {
    for (const w of ['simple', 'json', 'fields', 'table']) {
      await both(['member', 'list', '-w', w]);
      await both(['endpoint', 'health', '-w', w]);
    }
    // Status carries raft indexes; the two members' logs need not be the same length (a
    // request refused in apply still used an entry), so the indexes are masked.
    for (const w of ['simple', 'json', 'fields', 'table']) await both(['endpoint', 'status', '-w', w]);
  });
});
