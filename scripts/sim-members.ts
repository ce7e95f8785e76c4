/**
 * Run the deterministic whole-member simulator (test/sim/members).
 *
 *   npm run sim-members -- --seeds 1000              seeds 1..1000 (or --from F --seeds N; --keep-going)
 *   npm run sim-members -- --seed 1234 [--trace]     replay one seed (with the end of its trace; --tail N)
 *   --no-strict-io: skip the async_hooks check that src/ creates no async resource but promises
 *   (file requests, sockets, threadpool work); it costs about 40 %, and is on by default
 *
 * A failing seed prints its violations, its parameters and the one command that replays it;
 * the exit status is 1 on any failure.
 */
import { runSeed } from '../test/sim/members/run.js';

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const strictIo = !flag('no-strict-io');

function report(res: Awaited<ReturnType<typeof runSeed>>): void {
  console.log(`seed ${res.seed} FAILED (${res.violations.length} violation${res.violations.length === 1 ? '' : 's'})`);
  for (const v of res.violations.slice(0, 8)) console.log(`  - ${v.split('\n').join('\n    ')}`);
  console.log(`  params: ${res.params}`);
  console.log(`  run: ${res.summary}`);
  console.log(`  replay: npm run sim-members -- --seed ${res.seed} --trace`);
}

async function main(): Promise<number> {
  const one = arg('seed');
  if (one !== undefined) {
    const seed = Number(one);
    const tail = Number(arg('tail') ?? '400');
    const res = await runSeed(seed, { trace: flag('trace'), traceLines: tail, strictIo });
    if (flag('trace')) for (const line of res.trace) console.log(line);
    if (res.ok) console.log(`seed ${seed}: ok | ${res.params}\n  ${res.summary} | ${res.wallMs.toFixed(0)} ms`);
    else report(res);
    return res.ok ? 0 : 1;
  }
  const count = Number(arg('seeds') ?? '100');
  const from = Number(arg('from') ?? '1');
  const keepGoing = flag('keep-going');
  const t0 = performance.now();
  let failures = 0;
  let ran = 0;
  let simMs = 0;
  let lastReport = t0;
  for (let s = from; s < from + count; s++) {
    const res = await runSeed(s, { strictIo });
    ran++;
    simMs += res.simMs;
    if (!res.ok) {
      failures++;
      report(res);
      if (!keepGoing) break;
    }
    const now = performance.now();
    if (now - lastReport > 60_000) {
      lastReport = now;
      console.log(`… ${ran} seeds (up to ${s}), ${failures} failed, ${((now - t0) / 1000).toFixed(0)} s, ${((ran / (now - t0)) * 60_000).toFixed(1)} seeds/min`);
    }
  }
  const ms = performance.now() - t0;
  console.log(`${ran} seeds from ${from}: ${failures} failed; ${(ms / 1000).toFixed(1)} s wall, ${(simMs / 1000).toFixed(0)} s simulated, ${((ran / ms) * 60_000).toFixed(1)} seeds/min`);
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
