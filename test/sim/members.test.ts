/**
 * The whole-member simulator under `npm test` (test/sim/members): complete EtcdServer members
 * on a simulated clock, network and storage that can crash mid-write, with random clients and
 * faults, checked for linearizability, watches, leases, acknowledged writes, convergence and
 * liveness. A failure names the seed and the command that replays it. Many more seeds run with
 * `npm run sim-members -- --seeds N`.
 */
import { describe, expect, it } from 'vitest';
import { runSeed, type SeedResult } from './members/run.js';

const seedsInTest = 50;
const seedsPerCase = 10;

function failure(res: SeedResult): string {
  return `seed ${res.seed}:\n  ${res.violations.slice(0, 5).join('\n  ')}\n  params: ${res.params}\n  replay: npm run sim-members -- --seed ${res.seed} --trace`;
}

describe('whole-member simulator', () => {
  for (let from = 1; from <= seedsInTest; from += seedsPerCase) {
    const to = from + seedsPerCase - 1;
    it(`keeps every check through crashes, failpoints, partitions, pauses and clock jumps — seeds ${from}..${to}`, async () => {
      const failures: string[] = [];
      for (let s = from; s <= to; s++) {
        const res = await runSeed(s, { strictIo: true });
        if (!res.ok) failures.push(failure(res));
      }
      expect(failures).toEqual([]);
    });
  }

  // Seeds that found bugs in src/ (test/sim/README.md) stay green on the fixed code.
  it('seeds that found bugs stay green: 23 (HashKV before compaction), 50158 (overlapping snapshots; removed learner), 818 (leader sent commit before its write), 50449 (removed leader left too soon), 1651 (a learner behind a member add refused the new leader), 56386 (a deposed leader renewed a lease), 38002 (two members issued the same request ids), 90448 (a torn bootstrap WAL left a member that never campaigned)', async () => {
    for (const s of [23, 50158, 818, 50449, 1651, 56386, 38002, 90448]) {
      const res = await runSeed(s);
      expect(res.violations, failure(res)).toEqual([]);
    }
  });

  it('stops a run that takes more events than its budget, as a runaway (an event storm ends the seed, not the process)', async () => {
    const res = await runSeed(11, { eventsMax: 500 });
    expect(res.ok).toBe(false);
    expect(res.violations.filter((v) => v.startsWith('runaway: ')), failure(res)).toHaveLength(1);
    expect(res.summary).toMatch(/ events=500 /);
  });

  it('replays a seed exactly (one seed decides the whole run) and touches no real I/O, timer or clock', async () => {
    // (With the same strictIo setting: async_hooks change how many turns an await takes.)
    const a = await runSeed(11, { trace: true, traceLines: 100_000, strictIo: true });
    const b = await runSeed(11, { trace: true, traceLines: 100_000, strictIo: true });
    expect(a.violations, failure(a)).toEqual([]);
    expect(b.summary).toBe(a.summary);
    expect(b.trace).toEqual(a.trace);
  });
});
