/**
 * Run the deterministic Raft cluster simulator.
 *
 *   npm run sim -- --seeds 10000          seeds 1..10000 (or --from F --seeds N)
 *   npm run sim -- --seed 1234 [--trace [--tail N | --full]]  replay one seed (with the end of its trace)
 *
 * A failing seed prints the exact command that replays it; the exit status is 1 on any failure.
 */
import { runSeed, livenessTicksMax } from '../test/sim/scenario.js';

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const one = arg('seed');
if (one !== undefined) {
  const seed = Number(one);
  const res = runSeed(seed, { trace: flag('trace') });
  if (res.trace !== undefined) {
    const tail = Number(arg('tail') ?? '400');
    for (const line of flag('full') ? res.trace : res.trace.slice(-tail)) console.log(line);
  }
  console.log(`seed ${seed}: ${res.ok ? 'ok' : 'FAIL'} | ${res.summary} | rounds=${res.rounds} livenessTicks=${res.livenessTicks}`);
  if (!res.ok) {
    console.log(res.error);
    console.log(`replay: npm run sim -- --seed ${seed} --trace`);
    process.exit(1);
  }
  process.exit(0);
}

const count = Number(arg('seeds') ?? '1000');
const from = Number(arg('from') ?? '1');
const stopOnFail = !flag('keep-going');
const t0 = performance.now();
let failures = 0;
let maxLiveness = 0;
let lastReport = t0;
let ran = 0;
for (let s = from; s < from + count; s++) {
  const res = runSeed(s);
  ran++;
  if (res.livenessTicks > maxLiveness) maxLiveness = res.livenessTicks;
  if (!res.ok) {
    failures++;
    console.log(`seed ${s} FAILED: ${res.error}\n  ${res.summary}\n  replay: npm run sim -- --seed ${s} --trace`);
    if (stopOnFail) break;
  }
  const now = performance.now();
  if (now - lastReport > 30_000) {
    lastReport = now;
    const done = s - from + 1;
    console.log(`… ${done} seeds, ${failures} failed, ${Math.round((done / (now - t0)) * 60_000)} seeds/min`);
  }
}
const ms = performance.now() - t0;
console.log(
  `${ran} seeds from ${from}: ${failures} failed; ${(ms / 1000).toFixed(1)} s, ${Math.round((ran / ms) * 60_000)} seeds/min; ` +
    `max liveness ${maxLiveness} ticks (bound ${livenessTicksMax})`,
);
process.exit(failures > 0 ? 1 : 0);
