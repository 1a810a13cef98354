// Waits until a Kafka broker is ready for consumer groups. Used by scripts/stack.sh after it starts the broker,
// and by test/global-setup.js for brokers it did not start.
//
//   node scripts/wait-kafka.js --brokers 127.0.0.1:19092 [--pid 1234] [--timeout-ms 60000]
//
// Exit code 0 when ready, 1 on timeout or when the broker process (--pid) exits first.
//
// "Ready" means the broker serves what the product uses first, each of which is lazy on a fresh broker:
// - describeCluster: metadata;
// - describeGroups for a group nobody uses: creates __consumer_offsets and loads the group coordinator;
// - an idempotent producer's InitProducerId: fetches the first block of producer ids from the controller.
// Before the last two, a consumer's JoinGroup or a producer's connect gets COORDINATOR_LOAD_IN_PROGRESS; kafkajs
// retries, but logs it as an ERROR (for a consumer: a crash and restart), which reads like a failing test.
// The Kafka protocol does not report the broker's release version; stack.sh reads it from the broker's log.
"use strict";
const { setTimeout: sleep } = require("node:timers/promises");

const PROBE_GROUP = "__omnidaemon_stack_ready";

function processExited(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error.code === "ESRCH";
  }
}

async function probeOnce(brokers) {
  const { Kafka, logLevel } = require("kafkajs");
  // No client-side retries and short timeouts: the caller's loop retries; the broker log has the details.
  const kafka = new Kafka({
    clientId: "omnidaemon-stack-wait",
    brokers,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  // kafkajs refuses an idempotent producer without retries; one, quickly, stays within the probe.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 1, initialRetryTime: 100 },
  });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.describeGroups([PROBE_GROUP]);
    await producer.connect();
    return cluster;
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}

/**
 * Resolves with kafkajs' describeCluster() answer once the brokers are ready for consumer groups; rejects after
 * `timeoutMs`, or as soon as process `pid` (when given) is gone.
 */
async function waitForKafka({ brokers, pid, timeoutMs = 60_000 }) {
  const started = Date.now();
  let lastError;
  while (Date.now() - started < timeoutMs) {
    if (pid !== undefined && processExited(pid)) {
      throw new Error(`the broker process (pid ${pid}) exited before it became ready`);
    }
    try {
      return await probeOnce(brokers);
    } catch (error) {
      lastError = error;
      await sleep(200);
    }
  }
  throw new Error(
    `no answer from ${brokers.join(",")} within ${timeoutMs} ms (last error: ${lastError?.message})`,
  );
}

async function main() {
  const { parseArgs } = require("node:util");
  const { values } = parseArgs({
    options: {
      brokers: { type: "string" },
      pid: { type: "string" },
      "timeout-ms": { type: "string", default: "60000" },
    },
  });
  if (!values.brokers) {
    console.error(
      "usage: node scripts/wait-kafka.js --brokers host:port[,host:port] [--pid N] [--timeout-ms N]",
    );
    return 2;
  }
  try {
    require.resolve("kafkajs");
  } catch {
    console.error("wait-kafka: kafkajs is not installed; run `npm ci` in the project first");
    return 1;
  }
  const started = Date.now();
  try {
    const cluster = await waitForKafka({
      brokers: values.brokers.split(","),
      pid: values.pid ? Number(values.pid) : undefined,
      timeoutMs: Number(values["timeout-ms"]),
    });
    const hosts = cluster.brokers.map((b) => `${b.host}:${b.port}`).join(",");
    console.log(
      `wait-kafka: ready after ${Date.now() - started} ms ` +
        `(cluster ${cluster.clusterId}, controller ${cluster.controller}, brokers ${hosts})`,
    );
    return 0;
  } catch (error) {
    console.error(`wait-kafka: ${error.message}`);
    return 1;
  }
}

module.exports = { waitForKafka };

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
