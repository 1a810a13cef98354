// Jest globalSetup of the `faults` project (npm run test:faults): the integration setup (services from env, else
// testcontainers, else the local stack), then two checks of its own:
// - the services must be the local stack's (scripts/stack.sh), because the scenarios stop, kill and restart them
//   through it; a broker from testcontainers or elsewhere cannot be restarted with its data, so the suite refuses
//   to run rather than pass without its faults;
// - a fresh rows file for this run, where each scenario appends its row of the table that
//   test/faults/global-teardown.js prints and writes to bench/results/faults-latest.md.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const integrationSetup = require("../global-setup.js");

const ROOT = path.resolve(__dirname, "..", "..");
const STACK_ENV_FILE = path.join(ROOT, ".stack", "env");

module.exports = async function globalSetup() {
  await integrationSetup();
  const status = spawnSync("bash", [path.join(ROOT, "scripts", "stack.sh"), "status"], {
    cwd: ROOT,
    stdio: "ignore",
  }).status;
  const stackEnv = fs.existsSync(STACK_ENV_FILE) ? fs.readFileSync(STACK_ENV_FILE, "utf8") : "";
  const brokers = /^export OMNIDAEMON_KAFKA_BROKERS=(.*)$/m.exec(stackEnv)?.[1];
  const database = /^export OMNIDAEMON_DATABASE_URL=(.*)$/m.exec(stackEnv)?.[1];
  if (
    status !== 0 ||
    brokers !== process.env.OMNIDAEMON_KAFKA_BROKERS ||
    database !== process.env.OMNIDAEMON_DATABASE_URL
  ) {
    await globalThis[integrationSetup.STOP_KEY]?.();
    throw new Error(
      "The fault suite restarts Kafka and Postgres through scripts/stack.sh, so it needs the local stack's services: " +
        "run `npm run stack -- up && source .stack/env` first (OMNIDAEMON_KAFKA_BROKERS and OMNIDAEMON_DATABASE_URL " +
        `must be the ones in .stack/env; they are ${process.env.OMNIDAEMON_KAFKA_BROKERS} and ` +
        `${process.env.OMNIDAEMON_DATABASE_URL}, .stack/env says ${brokers} and ${database}).`,
    );
  }
  const rows = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "omnidaemon-faults-")), "rows.jsonl");
  fs.writeFileSync(rows, "");
  // Jest forks its workers after globalSetup: they inherit it.
  process.env.OMNIDAEMON_FAULTS_ROWS = rows;
};
