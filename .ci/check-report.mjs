// Reads vitest's JSON report and fails if a compat test was skipped or none ran.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const report = JSON.parse(readFileSync(file, 'utf8'));
let compatRan = 0;
const skipped = [];
for (const suite of report.testResults ?? []) {
  if (!suite.name.includes('/test/compat/')) continue;
  for (const t of suite.assertionResults ?? []) {
    if (t.status === 'passed') compatRan++;
    else if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo') skipped.push(`${suite.name}: ${t.fullName}`);
  }
}
if (skipped.length > 0) {
  console.error(`compat tests skipped under CI (${skipped.length}):\n  ${skipped.join('\n  ')}`);
  process.exit(1);
}
if (compatRan === 0) {
  console.error('no compat test ran under CI');
  process.exit(1);
}
console.log(`compat check: ${compatRan} compat tests ran, none skipped`);
