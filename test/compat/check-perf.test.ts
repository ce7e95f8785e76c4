/**
 * `check perf`: ctl's answers for the argument and precondition errors equal etcdctl's; a short
 * run (ETCDTS_TEST_CHECK_PERF_SECONDS=3 instead of 60 s) against etcdts prints etcdctl's verdict
 * lines, PASS, and leaves no key behind. The full 60-second `--load s` run is
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

  it('a short run against etcdts passes with etcdctl\'s lines and cleans up', async () => {
    const r = await ctl(['check', 'perf', '--load', 's', '--auto-compact'], { ETCDTS_TEST_CHECK_PERF_SECONDS: '3' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^compacted revision \d+\nPASS: Throughput is \d+ writes\/s\nPASS: Slowest request took \d+\.\d{6}s\nPASS: Stddev is \d+\.\d{6}s\nPASS\n$/);
    expect((await etcdctl(['get', '--prefix', '/etcdctl-check-perf/', '--keys-only'])).stdout).toBe('');
  }, 30_000);
});
