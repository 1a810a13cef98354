// A jest reporter that appends one JSON line per jest run to the file named by OMNIDAEMON_TEST_SUMMARY (and does
// nothing without it). `.ci/run` sets it, and `scripts/test-summary.js` prints every run's counts and their total as
// the last lines of the CI log, so the log's tail says how many tests ran on which project and client.
const fs = require("node:fs");

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.OMNIDAEMON_TEST_SUMMARY;
    if (!file) return;
    const projects = [
      ...new Set(results.testResults.map((r) => r.displayName?.name ?? r.displayName ?? "default")),
    ];
    const line = {
      projects: projects.sort(),
      client: process.env.OMNIDAEMON_KAFKA_CLIENT ?? "kafkajs",
      suites: {
        passed: results.numPassedTestSuites,
        failed: results.numFailedTestSuites,
        total: results.numTotalTestSuites,
      },
      tests: {
        passed: results.numPassedTests,
        failed: results.numFailedTests,
        skipped: results.numPendingTests + results.numTodoTests,
        total: results.numTotalTests,
      },
      // jest sets `results.success` only after the reporters ran: decided here from the counts.
      success:
        results.numFailedTestSuites === 0 &&
        results.numFailedTests === 0 &&
        results.numRuntimeErrorTestSuites === 0,
    };
    fs.appendFileSync(file, JSON.stringify(line) + "\n");
  }
}

module.exports = SummaryReporter;
