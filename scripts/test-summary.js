#!/usr/bin/env node
// Prints the jest runs recorded by test/summary-reporter.js (one JSON line each, in the file given as the argument)
// and their total, in jest's own summary format: `.ci/run` ends with it. Exit code 1 when a run failed or none ran.
"use strict";
const fs = require("node:fs");

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/test-summary.js <summary file>");
  process.exit(2);
}
const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
const runs = lines.map((line) => JSON.parse(line));
const total = {
  suites: { passed: 0, failed: 0, total: 0 },
  tests: { passed: 0, failed: 0, skipped: 0, total: 0 },
};
console.log("== test summary (every jest run of this CI run)");
for (const run of runs) {
  for (const kind of ["suites", "tests"]) {
    for (const key of Object.keys(total[kind])) total[kind][key] += run[kind][key];
  }
  const failed = run.tests.failed > 0 ? `, ${run.tests.failed} failed` : "";
  console.log(
    `${run.success ? "PASS" : "FAIL"} ${run.projects.join("+")} on ${run.client}: ` +
      `${run.tests.passed} tests passed${failed} in ${run.suites.total} suites`,
  );
}
const part = (counts) =>
  [counts.failed ? `${counts.failed} failed` : "", counts.skipped ? `${counts.skipped} skipped` : ""]
    .concat(`${counts.passed} passed`, `${counts.total} total`)
    .filter(Boolean)
    .join(", ");
console.log(`Test Suites: ${part(total.suites)}`);
console.log(`Tests:       ${part(total.tests)}`);
console.log(`Jest runs:   ${runs.length}`);
process.exit(runs.length > 0 && runs.every((run) => run.success) ? 0 : 1);
