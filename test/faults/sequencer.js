// The fault suite's files run in a fixed order (jest's default orders by past durations and failures), so the
// table reads the same every run and the poison scenario comes last: a poison task event that the coordinator
// cannot ingest stays in the shared task-events topic and would stall the result checks of every scenario after it.
"use strict";
const path = require("node:path");
const Sequencer = require("@jest/test-sequencer").default;

const ORDER = ["broker", "postgres", "coordinator", "workers", "handlers", "poison"];

class FaultsSequencer extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const i = ORDER.indexOf(path.basename(test.path).replace(/\.faults\.test\.ts$/, ""));
      return i === -1 ? ORDER.length : i;
    };
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
}

module.exports = FaultsSequencer;
