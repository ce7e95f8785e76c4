/**
 * `check perf`: ctl's answers for the argument and precondition errors equal etcdctl's; a short
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
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^compacted revision \d+$/);
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
