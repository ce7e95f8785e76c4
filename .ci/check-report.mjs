// Reads vitest's JSON report and fails if a compat or browser test was skipped, or none of a
// kind ran: under CI the real etcd/etcdctl and Chromium are installed, so nothing may be skipped.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const report = JSON.parse(readFileSync(file, 'utf8'));
const kinds = [
  { name: 'compat', dir: '/test/compat/' },
  { name: 'browser', dir: '/test/browser/' },
];
let failed = false;
for (const kind of kinds) {
  let ran = 0;
  const skipped = [];
  for (const suite of report.testResults ?? []) {
    if (!suite.name.includes(kind.dir)) continue;
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'passed') ran++;
      else if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo') skipped.push(`${suite.name}: ${t.fullName}`);
    }
  }
  if (skipped.length > 0) {
    console.error(`${kind.name} tests skipped under CI (${skipped.length}):\n  ${skipped.join('\n  ')}`);
    failed = true;
  } else if (ran === 0) {
    console.error(`no ${kind.name} test ran under CI`);
    failed = true;
  } else {
    console.log(`${kind.name} check: ${ran} ${kind.name} tests ran, none skipped`);
  }
}
if (failed) process.exit(1);
