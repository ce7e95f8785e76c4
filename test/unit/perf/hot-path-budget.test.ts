/**
 * Issue 11's regression guard: the hot path's cost per request, counted (scripts/hot-path-probe.mjs:
 * young-generation collections with a 1 MiB semi-space ≈ bytes allocated; protobufjs calls; WAL
 * and backend writes), must stay within test/perf-budget.json. Counts, not times: the figure is
 * the same on a busy machine. Needs the build (npm test builds first).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/procs.js';

interface Figures {
  put: { allocKiBPerRequest: number; protobufCalls: number; walWritesPer1000: number; backendWritesPer1000: number };
  range: { allocKiBPerRequest: number; protobufCalls: number };
}

describe('hot path budget (counted)', () => {
  it('allocates, encodes and writes no more per request than recorded', () => {
    const out = execFileSync(process.execPath, ['--max-semi-space-size=1', '--min-semi-space-size=1', path.join(repoRoot, 'scripts', 'hot-path-probe.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, PROBE_REQUESTS: '3000' },
      timeout: 120_000,
    });
    const got = JSON.parse(out.trim().split('\n').pop() as string) as Figures;
    const budget = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'perf-budget.json'), 'utf8')) as Figures;
    expect(got.put.protobufCalls).toBe(0);
    expect(got.range.protobufCalls).toBe(0);
    expect(got.put.allocKiBPerRequest, JSON.stringify(got)).toBeLessThanOrEqual(budget.put.allocKiBPerRequest);
    expect(got.range.allocKiBPerRequest, JSON.stringify(got)).toBeLessThanOrEqual(budget.range.allocKiBPerRequest);
    expect(got.put.walWritesPer1000, JSON.stringify(got)).toBeLessThanOrEqual(budget.put.walWritesPer1000);
    expect(got.put.backendWritesPer1000, JSON.stringify(got)).toBeLessThanOrEqual(budget.put.backendWritesPer1000);
    // The probe did count something (a broken probe must not pass silently).
    expect(got.put.allocKiBPerRequest).toBeGreaterThan(0.5);
    expect(got.put.walWritesPer1000).toBeGreaterThan(0);
  }, 150_000);
});
