// What an agent reports on omnidaemon.task-events, per its config, through the real SDK and broker: `results`
// (all / failures / none) and `reportProcessingAfterMs` (a fast delivery reports only its end; a slow one still
// shows processing while it runs).
import { BusAdmin, SYSTEM_TOPICS } from "@omnidaemon/bus-kafka";
import { parseTaskEvent, type TaskEvent } from "@omnidaemon/protocol";
import type { Consumer } from "kafkajs";
import pino from "pino";
import { kafkaBrokers, uniqueName, waitFor, rawKafka, delay } from "@omnidaemon/testkit";
import { OmniDaemon, NonRetriableError } from "../src";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const reported: TaskEvent[] = [];
let consumer: Consumer;
let daemon: OmniDaemon | undefined;

beforeAll(async () => {
  // On a fresh broker nothing has created the system topics yet when this suite runs first: subscribing to a topic
  // that does not exist fails ("This server does not host this topic-partition").
  const admin = new BusAdmin({ connection: { brokers: kafkaBrokers() }, logger });
  await admin.start();
  try {
    await admin.ensureSystemTopics();
  } finally {
    await admin.stop();
  }
  const kafka = rawKafka("task-reports-test");
  consumer = kafka.consumer({ groupId: uniqueName("task-reports"), maxWaitTimeInMs: 100 });
  await consumer.connect();
  // From the end: only what this suite causes (the topic holds everyone's events).
  await consumer.subscribe({ topic: SYSTEM_TOPICS.taskEvents, fromBeginning: false });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = parseTaskEvent(JSON.parse(message.value?.toString() ?? "null"));
      if (event) reported.push(event);
    },
  });
  await waitFor("the task-events reader to join", () => joined, 30_000, 25);
});

afterAll(async () => {
  await daemon?.shutdown();
  await consumer?.disconnect();
});

const statusesOf = (taskId: string) => reported.filter((e) => e.task_id === taskId).map((e) => e.status);

describe("task reports per agent config", () => {
  it("reports all, failures only, or nothing, and skips processing for fast deliveries only", async () => {
    const topic = uniqueName("reports");
    daemon = new OmniDaemon({
      env: {
        OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
        OMNIDAEMON_COORDINATOR_URL: "http://127.0.0.1:9",
      },
      logger,
      overrides: { heartbeatIntervalMs: 500, partitions: 3 },
    });
    const fail = (envelope: { content: unknown }) => {
      if ((envelope.content as { fail?: boolean }).fail) throw new NonRetriableError("refused");
      return { ok: true };
    };
    await daemon.registerAgent({ topic, name: "all", callback: fail });
    await daemon.registerAgent({ topic, name: "failures", callback: fail, config: { results: "failures" } });
    await daemon.registerAgent({ topic, name: "none", callback: fail, config: { results: "none" } });
    await daemon.registerAgent({
      topic,
      name: "slow",
      callback: async (envelope) => {
        if ((envelope.content as { fail?: boolean }).fail) return { ok: false };
        await delay(600);
        return { ok: true };
      },
      config: { reportProcessingAfterMs: 100 },
    });
    await daemon.start();
    const ok = await daemon.publishTask({ topic, content: { fail: false } });
    const bad = await daemon.publishTask({ topic, content: { fail: true } });

    const byAgent = (taskId: string, agent: string) =>
      reported.filter((e) => e.task_id === taskId && e.agent === agent);
    await waitFor(
      "the reports",
      () =>
        ["all", "slow"].every((agent) => byAgent(ok, agent).some((e) => e.status === "completed")) &&
        ["all", "failures"].every((agent) => byAgent(bad, agent).some((e) => e.status === "dead_lettered")),
      30_000,
      25,
    );
    // Let anything that should not come have its chance to arrive.
    await delay(1000);

    expect(byAgent(ok, "all").map((e) => [e.status, e.processing_skipped])).toEqual([["completed", true]]);
    expect(byAgent(ok, "slow").map((e) => [e.status, e.processing_skipped])).toEqual([
      ["processing", undefined],
      ["completed", undefined],
    ]);
    expect(byAgent(ok, "failures")).toEqual([]);
    expect(byAgent(bad, "failures").map((e) => e.status)).toEqual(["dead_lettered"]);
    expect(byAgent(ok, "none")).toEqual([]);
    expect(byAgent(bad, "none")).toEqual([]);
    expect(statusesOf(bad).length).toBeGreaterThan(0);
  });
});
