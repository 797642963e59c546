// Totals the test results written by scripts/test.sh and prints, as its last line,
// `N passed, N failed` (and `, N skipped` when any). Each check step counts as one item; a
// tier that wrote no report (it crashed) counts as one failure. Exit 1 on any failure or when
// no test ran at all.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir = '.conduit/test-results', ...tiers] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
let tests = 0;
const rows = [];

const steps = existsSync(join(dir, 'check.json'))
  ? JSON.parse(readFileSync(join(dir, 'check.json'), 'utf8'))
  : {};
for (const extra of ['build', 'migrate']) {
  if (existsSync(join(dir, `${extra}.json`)))
    Object.assign(steps, JSON.parse(readFileSync(join(dir, `${extra}.json`), 'utf8')));
}
for (const [name, ok] of Object.entries(steps)) {
  ok ? passed++ : failed++;
  rows.push([`check:${name}`, ok ? 1 : 0, ok ? 0 : 1, 0]);
}
for (const tier of tiers) {
  const file = join(dir, `${tier}.json`);
  if (!existsSync(file)) {
    failed++;
    rows.push([tier, 0, 1, 0, 'no report: the tier crashed']);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const p = report.numPassedTests ?? 0;
  const f = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load reports no failed test: count it.
  const brokenSuites = (report.testResults ?? []).filter(
    (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
  ).length;
  passed += p;
  failed += f + brokenSuites;
  skipped += s;
  tests += p + f;
  rows.push([tier, p, f + brokenSuites, s]);
}

console.log('\nsuite            passed  failed  skipped');
for (const [name, p, f, s, note] of rows) {
  console.log(
    `${name.padEnd(16)} ${String(p).padStart(6)}  ${String(f).padStart(6)}  ${String(s).padStart(7)}${note ? `  ${note}` : ''}`,
  );
}
if (tests === 0 && tiers.length > 0) {
  failed++;
  console.log('no test ran');
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
