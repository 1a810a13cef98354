// Jest globalSetup of the `secure` project (npm run test:secure): the local stack in secure mode — a SASL_SSL
// (SCRAM-SHA-512) Kafka listener and PostgreSQL with TLS, see `npm run stack -- up --secure` in
// docs/development.md. A secure stack that is already up is used as it is (CI brings it up before `npm test`);
// otherwise this setup starts one and test/secure/global-teardown.js stops it again. A stack that is up without
// --secure is refused with the command that fixes it (a running stack cannot gain secure mode).
// The OMNIDAEMON_* variables of .stack/env.secure go into process.env; jest's workers inherit them.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const STACK_SCRIPT = path.join(ROOT, "scripts", "stack.sh");
const SECURE_ENV_FILE = path.join(ROOT, ".stack", "env.secure");
const STOP_KEY = "__omnidaemonSecureStop";

function stack(...args) {
  return spawnSync("bash", [STACK_SCRIPT, ...args], { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
}

/** `export NAME=value` lines (values optionally single-quoted), as `source` reads them. */
function readEnvFile(file) {
  const vars = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) vars[match[1]] = match[2].replace(/^'(.*)'$/, "$1");
  }
  return vars;
}

module.exports = async function globalSetup() {
  let startedHere = false;
  if (!fs.existsSync(SECURE_ENV_FILE)) {
    const before = stack("status");
    const nothingUp = /kafka\s+down/.test(before.stdout) && /postgres\s+down/.test(before.stdout);
    const up = stack("up", "--secure");
    if (up.status !== 0) {
      throw new Error(`npm run stack -- up --secure failed (exit ${up.status}):\n${up.stdout}${up.stderr}`);
    }
    startedHere = nothingUp;
  }
  const vars = readEnvFile(SECURE_ENV_FILE);
  Object.assign(process.env, vars);
  console.log(
    `\nsecure services from ${path.relative(ROOT, SECURE_ENV_FILE)}: Apache Kafka ${vars.OMNIDAEMON_STACK_KAFKA_VERSION} ` +
      `SASL_SSL at ${vars.OMNIDAEMON_KAFKA_BROKERS}; PostgreSQL ${vars.OMNIDAEMON_STACK_POSTGRES_VERSION} with TLS` +
      (startedHere ? " (started by this run)" : ""),
  );
  globalThis[STOP_KEY] = startedHere ? () => stack("down") : undefined;
};
