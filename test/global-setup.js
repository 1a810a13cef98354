// Jest globalSetup of the `integration` project: finds a real Kafka and a real Postgres, in this order:
//   1. services named by env: OMNIDAEMON_KAFKA_BROKERS and OMNIDAEMON_DATABASE_URL, both set (CI runs
//      `npm run stack -- up` and sources .stack/env first);
//   2. testcontainers, when a Docker engine answers;
//   3. the local stack: `bash scripts/stack.sh up`, then the values from .stack/env.
// The two values go into process.env. globalSetup runs in jest's parent process before any test worker is forked,
// so the workers inherit them (test/helpers/services.ts reads them). It prints one line naming the source and
// the versions, so a CI log shows that the services were real. test/global-teardown.js stops only what this
// setup started: containers, or the local stack when it was not already up.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { waitForKafka } = require("../scripts/wait-kafka.js");

const ROOT = path.resolve(__dirname, "..");
const STACK_SCRIPT = path.join(ROOT, "scripts", "stack.sh");
const STACK_ENV_FILE = path.join(ROOT, ".stack", "env");
const STOP_KEY = "__omnidaemonIntegrationStop";
const DOCKER_PROBE_TIMEOUT_MS = 5_000;
const READY_TIMEOUT_MS = 30_000;
// Images for the testcontainers path; @testcontainers/kafka drives Confluent's image (8.x runs KRaft).
const KAFKA_IMAGE = process.env.OMNIDAEMON_TEST_KAFKA_IMAGE || "confluentinc/cp-kafka:8.2.0";
const POSTGRES_IMAGE = process.env.OMNIDAEMON_TEST_POSTGRES_IMAGE || "postgres:15-alpine";
const DATABASE = "omnidaemon";

module.exports = async function globalSetup() {
  const skipped = [];
  const services = fromEnv() ?? (await fromTestcontainers(skipped)) ?? fromStack();
  process.env.OMNIDAEMON_KAFKA_BROKERS = services.kafkaBrokers;
  process.env.OMNIDAEMON_DATABASE_URL = services.databaseUrl;
  try {
    const brokers = services.kafkaBrokers.split(",");
    const [cluster, pgVersion] = await Promise.all([
      waitForKafka({ brokers, timeoutMs: READY_TIMEOUT_MS }).catch((error) => {
        throw new Error(
          `Kafka at ${services.kafkaBrokers} (${services.source}) is not ready: ${error.message}`,
        );
      }),
      postgresVersion(services.databaseUrl).catch((error) => {
        throw new Error(
          `Postgres at ${redact(services.databaseUrl)} (${services.source}) does not answer: ${error.message}`,
        );
      }),
    ]);
    const skippedNote = skipped.length ? ` (${skipped.join("; ")})` : "";
    console.log(
      `\nintegration services from ${services.source}${skippedNote}: ` +
        `${services.kafkaVersion || "Kafka (version not reported by the protocol)"} at ${services.kafkaBrokers} ` +
        `(cluster ${cluster.clusterId}); PostgreSQL ${pgVersion} at ${redact(services.databaseUrl)}`,
    );
  } catch (error) {
    // Jest runs no globalTeardown when globalSetup throws: stop what was started here before failing.
    await services.stop?.();
    throw error;
  }
  globalThis[STOP_KEY] = services.stop;
};

function fromEnv() {
  const { OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers, OMNIDAEMON_DATABASE_URL: databaseUrl } = process.env;
  if (!kafkaBrokers && !databaseUrl) return undefined;
  if (!kafkaBrokers || !databaseUrl) {
    // Half of a configuration is more likely a mistake than a wish to mix sources.
    throw new Error(
      "Set both OMNIDAEMON_KAFKA_BROKERS and OMNIDAEMON_DATABASE_URL to test against existing services, or " +
        `neither (then testcontainers or scripts/stack.sh provide them); only ${kafkaBrokers ? "OMNIDAEMON_KAFKA_BROKERS" : "OMNIDAEMON_DATABASE_URL"} is set.`,
    );
  }
  return {
    source: "env (OMNIDAEMON_KAFKA_BROKERS, OMNIDAEMON_DATABASE_URL)",
    kafkaBrokers,
    databaseUrl,
    // Set when the env came from .stack/env, e.g. in CI.
    kafkaVersion:
      process.env.OMNIDAEMON_STACK_KAFKA_VERSION &&
      `Apache Kafka ${process.env.OMNIDAEMON_STACK_KAFKA_VERSION}`,
    stop: undefined,
  };
}

async function fromTestcontainers(skipped) {
  let testcontainers;
  try {
    testcontainers = require("testcontainers");
  } catch (error) {
    const wants = readJson(require.resolve("testcontainers/package.json"))?.engines?.node;
    skipped.push(
      `testcontainers skipped: it does not load on Node ${process.version}${wants ? `, it wants ${wants}` : ""}: ${firstLine(error.message)}`,
    );
    return undefined;
  }
  try {
    await withTimeout(testcontainers.getContainerRuntimeClient(), DOCKER_PROBE_TIMEOUT_MS);
  } catch (error) {
    skipped.push(`testcontainers skipped: no Docker engine answers (${firstLine(error.message)})`);
    return undefined;
  }

  const { KafkaContainer } = require("@testcontainers/kafka");
  const { PostgreSqlContainer } = require("@testcontainers/postgresql");
  const started = await Promise.allSettled([
    // The same broker settings as scripts/stack.sh, so tests behave alike on both.
    new KafkaContainer(KAFKA_IMAGE)
      .withEnvironment({
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
        KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS: "1000",
      })
      .start(),
    new PostgreSqlContainer(POSTGRES_IMAGE).withDatabase(DATABASE).start(),
  ]);
  const containers = started.filter((s) => s.status === "fulfilled").map((s) => s.value);
  const stop = async () => {
    await Promise.all(containers.map((container) => container.stop()));
  };
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [kafka, postgres] = containers;
  return {
    source: "testcontainers",
    kafkaBrokers: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
    databaseUrl: postgres.getConnectionUri(),
    kafkaVersion: KAFKA_IMAGE,
    stop,
  };
}

function fromStack() {
  // Exit code 0 means both services already run (a developer's `npm run stack -- up`): use them, leave them up.
  const alreadyUp = runStack("status", { quiet: true }) === 0;
  if (!alreadyUp) {
    const code = runStack("up");
    if (code !== 0) {
      throw new Error(
        `\`bash scripts/stack.sh up\` failed (exit code ${code}); its output is above, logs in .stack/logs/`,
      );
    }
  }
  const env = readEnvFile(STACK_ENV_FILE);
  return {
    source: alreadyUp
      ? "local stack (already up; left running)"
      : "local stack (started for this run, stopped after it)",
    kafkaBrokers: env.OMNIDAEMON_KAFKA_BROKERS,
    databaseUrl: env.OMNIDAEMON_DATABASE_URL,
    kafkaVersion: env.OMNIDAEMON_STACK_KAFKA_VERSION && `Apache Kafka ${env.OMNIDAEMON_STACK_KAFKA_VERSION}`,
    stop: alreadyUp
      ? undefined
      : async () => {
          const code = runStack("down");
          if (code !== 0) throw new Error(`\`bash scripts/stack.sh down\` failed (exit code ${code})`);
        },
  };
}

function runStack(command, { quiet = false } = {}) {
  const result = spawnSync("bash", [STACK_SCRIPT, command], {
    cwd: ROOT,
    stdio: ["ignore", quiet ? "ignore" : "inherit", "inherit"],
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** Reads the `export NAME=value` lines of .stack/env. */
function readEnvFile(file) {
  const env = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = match[2];
  }
  if (!env.OMNIDAEMON_KAFKA_BROKERS || !env.OMNIDAEMON_DATABASE_URL) {
    throw new Error(`${file} does not name OMNIDAEMON_KAFKA_BROKERS and OMNIDAEMON_DATABASE_URL`);
  }
  return env;
}

async function postgresVersion(connectionString) {
  const { Client } = require("pg");
  const client = new Client({ connectionString, connectionTimeoutMillis: READY_TIMEOUT_MS });
  await client.connect();
  try {
    const { rows } = await client.query("show server_version");
    return rows[0].server_version;
  } finally {
    await client.end();
  }
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

function firstLine(text) {
  return String(text).split("\n")[0];
}

module.exports.STOP_KEY = STOP_KEY;
