/**
 * A short run of the real-process fault harness (scripts/fault-harness.ts): three real etcdts
 * members, ten clients, about 40 s of faults (kill -9, SIGSTOP, partitions, a full disk, slow
 * fsync, failpoints — those this machine can make: partitions and the disk need root). The run
 * passes only if the history is linearizable, nothing acknowledged is lost, the members
 * converge, none is stuck and none exited on its own. A failure prints the harness's report
 * with its seed and the command that replays the schedule.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/procs.js';

function runHarness(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'fault-harness.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // SIGTERM, not SIGKILL: the harness kills its members and deletes its namespaces.
    const t = setTimeout(() => p.kill('SIGTERM'), timeoutMs);
    p.once('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

describe('fault harness, short run', () => {
  it('three etcdts members under faults: linearizable, nothing acknowledged lost, converged, none stuck', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const { code, out } = await runHarness(['--members', '3', '--duration', '40', '--seed', String(seed), '--clients', '8', '--keys', '5'], 230_000);
    if (code !== 0) throw new Error(`fault harness failed (exit ${code}, seed ${seed}):\n${out.slice(-12_000)}`);
    expect(out).toContain('RESULT: PASS');
    expect(out).toMatch(/faults: [1-9]/);
  }, 240_000);
});
