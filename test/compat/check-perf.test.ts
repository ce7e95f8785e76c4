/**
 * `check perf` and `check datascale`: ctl's answers for the argument and precondition errors equal etcdctl's; a short
 * run (ETCDTS_TEST_CHECK_PERF_SECONDS=3 instead of 60 s) against etcdts prints etcdctl's verdict
 * lines and a final PASS/FAIL that agrees with them and the exit code, and leaves no key behind. The full 60-second `--load s` run is
 * scripts/check-perf.sh (etcdctl's and ctl's, against etcdts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctlBin, hasEtcdctl, inCI, killAll, run, startMember, type MemberProc } from '../helpers/procs.js';

if (!hasEtcdctl && inCI) throw new Error('compat tests need etcdctl under CI');

describe.skipIf(!hasEtcdctl)('check perf', () => {
  let ts: MemberProc;
  beforeAll(async () => {
    ts = await startMember({ kind: 'etcdts' });
  }, 30_000);
  afterAll(() => killAll());

  const ctl = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [ctlBin, `--endpoints=${ts.endpoint}`, ...args], { env, timeoutMs: 30_000 });
  const etcdctl = (args: string[]) => run('etcdctl', [`--endpoints=${ts.endpoint}`, ...args]);

  it('refuses an unknown load and a prefix that has keys, as etcdctl', async () => {
    await etcdctl(['put', '/etcdctl-check-perf/x', '1']);
    for (const args of [['check', 'perf', '--load', 'q'], ['check', 'perf']]) {
      const want = await etcdctl(args);
      const got = await ctl(args);
      expect({ args, code: got.code, stdout: got.stdout, stderr: got.stderr }).toEqual({ args, code: want.code, stdout: want.stdout, stderr: want.stderr });
    }
    await etcdctl(['del', '--prefix', '/etcdctl-check-perf/']);
  }, 30_000);

  it('a short run against etcdts prints etcdctl\'s verdict lines and cleans up', async () => {
    const r = await ctl(['check', 'perf', '--load', 's', '--auto-compact'], { ETCDTS_TEST_CHECK_PERF_SECONDS: '3' });
    const all = r.stdout.trimEnd().split('\n');
    // etcdctl's util.go compact(): two lines around a physical compaction.
    expect(all[0]).toMatch(/^Compacting with revision \d+$/);
    expect(all[1]).toBe(all[0]?.replace('Compacting', 'Compacted'));
    const lines = all.slice(1);
    const verdicts = [
      /^PASS: Throughput is \d+ writes\/s$|^FAIL: Throughput too low: \d+ writes\/s$/,
      /^PASS: Slowest request took \d+\.\d{6}s$|^Slowest request took too long: \d+\.\d{6}s$/,
      /^PASS: Stddev is \d+\.\d{6}s$|^Stddev too high: \d+\.\d{6}s$/,
    ];
    verdicts.forEach((re, i) => expect(lines[i + 1]).toMatch(re));
    // A 3-second run on a loaded machine may fail the thresholds; the verdict and the exit code agree.
    expect(lines[4]).toBe(lines.slice(1, 4).every((l) => l.startsWith('PASS')) ? 'PASS' : 'FAIL');
    expect(r.code).toBe(lines[4] === 'PASS' ? 0 : 1);
    expect((await etcdctl(['get', '--prefix', '/etcdctl-check-perf/', '--keys-only'])).stdout).toBe('');
  }, 30_000);
});

describe.skipIf(!hasEtcdctl)('check datascale', () => {
  let ts: MemberProc;
  beforeAll(async () => {
    ts = await startMember({ kind: 'etcdts' });
  }, 30_000);
  afterAll(() => killAll());

  const ctl = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [ctlBin, `--endpoints=${ts.endpoint}`, ...args], { env, timeoutMs: 60_000 });
  const etcdctl = (args: string[]) => run('etcdctl', [`--endpoints=${ts.endpoint}`, ...args], { timeoutMs: 60_000 });
  /** The output with the memory figure and revisions masked (they differ run to run), and without etcdctl's progress bar, which it draws off a terminal too (ctl only on one). */
  const shape = (out: string): string => out.replace(/-?\d+\.\d\d MB/g, 'N MB').replace(/revision \d+/g, 'revision R').replace(/\r[^\n]*\n/g, '');

  it('refuses an unknown load and a prefix that has keys, as etcdctl', async () => {
    await etcdctl(['put', '/etcdctl-check-datascale/x', '1']);
    for (const args of [['check', 'datascale', '--load', 'q'], ['check', 'datascale']]) {
      const want = await etcdctl(args);
      const got = await ctl(args);
      expect({ args, code: got.code, stdout: got.stdout, stderr: got.stderr }).toEqual({ args, code: want.code, stdout: want.stdout, stderr: want.stderr });
    }
    await etcdctl(['del', '--prefix', '/etcdctl-check-datascale/']);
  }, 60_000);

  it('puts the keys, reads the server\'s resident memory from /metrics, cleans up: the same lines as etcdctl against etcdts', async () => {
    const args = ['check', 'datascale', '--load', 's', '--auto-compact', '--auto-defrag'];
    const want = await etcdctl(args);
    const got = await ctl(args);
    expect(want.code).toBe(0);
    expect(got.code).toBe(0);
    expect(shape(got.stdout)).toBe(shape(want.stdout));
    expect(got.stdout).toContain('Start data scale check for work load [10000 key-value pairs, 1024 bytes per key-value, 50 concurrent clients].');
    // 10k pairs of 1 KiB grow the member's resident memory: a real measurement, not a constant.
    const mb = Number(/memory used : (-?[\d.]+) MB\./.exec(got.stdout)?.[1]);
    expect(mb).toBeGreaterThan(1);
    expect((await etcdctl(['get', '--prefix', '/etcdctl-check-datascale/', '--keys-only'])).stdout).toBe('');
  }, 60_000);
});
