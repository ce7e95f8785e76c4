/**
 * A bounded run of the bad-input fuzzer (scripts/fuzz.ts): 8 000 inputs — mutated and random
 * protobuf to every gRPC method, raw HTTP/2 and HTTP/1.1 garbage to the client port, malformed
 * peer frames with and without a valid identity — and the flow-control abuse scenarios once.
 * No member may exit, member 1 must serve a put and a get after every batch, its memory must
 * stay bounded. A failure prints the seed and the command that replays it (one input:
 * --replay N).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/procs.js';

function runFuzz(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'fuzz.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => p.kill('SIGTERM'), timeoutMs);
    p.once('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

describe('fuzzer, bounded run', () => {
  it('8 000 bad inputs to the client and peer ports: no member exits, member 1 keeps serving', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const { code, out } = await runFuzz(['--inputs', '8000', '--seed', String(seed), '--abuse-seconds', '2'], 280_000);
    if (code !== 0) throw new Error(`fuzzer failed (exit ${code}, seed ${seed}):\n${out.slice(-10_000)}`);
    expect(out).toContain('RESULT: PASS');
  }, 300_000);
});
