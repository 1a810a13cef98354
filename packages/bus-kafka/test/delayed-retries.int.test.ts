import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Admin, Kafka } from "kafkajs";
import { AgentConsumer } from "../src/engine/agent-consumer";
import type { AgentHandler } from "../src/engine/types";
import { RetryAfterError } from "../src/handler-errors";
import type { KafkaProducer } from "../src/producer";
import { EngineProcess } from "./engine-process";
import {
  delay,
  kafkaConnection,
  rawKafka,
  readTopic,
  startedProducer,
  testLogger as logger,
  waitFor,
} from "@omnidaemon/testkit";
import { createAgentTopics, deleteAgentTopics, publishMany } from "./support";

let kafka: Kafka;
let admin: Admin;
let producer: KafkaProducer;
let workdir: string;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
  workdir = mkdtempSync(join(tmpdir(), "omni-delayed-"));
});

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

afterAll(async () => {
  await producer.stop();
  await admin.disconnect();
  rmSync(workdir, { recursive: true, force: true });
});

/** The fixture's callback behaviour (test/fixtures/engine-process.ts), in process, recording every run. */
function scriptedHandler(runs: Array<{ id: string; attempt: number }>): AgentHandler {
  return (envelope, ctx) => {
    runs.push({ id: envelope.id, attempt: ctx.attempt });
    const content = envelope.content as { fail?: string; retryAfterMs?: number } | null;
    if (content?.fail === "always") throw new Error("fails every time");
    if (content?.retryAfterMs !== undefined && ctx.attempt === 1)
      throw new RetryAfterError(content.retryAfterMs);
    return null;
  };
}

it("a crash while a delayed retry is pending re-runs no completed retry: at most maxRetries + 1 runs and one dead letter per event", async () => {
  // One partition per topic: the delayed retry and the later, quicker retries share one retry partition.
  const names = await createAgentTopics(admin, 1, "delayed");
  stops.push(() => deleteAgentTopics(admin, names));
  const maxRetries = 2;
  const child = new EngineProcess({
    topic: names.topic,
    agent: names.agent,
    outFile: join(workdir, "child.txt"),
    maxRetries,
  });
  stops.push(() => child.kill("SIGKILL"));
  await child.ready();

  // A: its first attempt asks for a retry in 12 s. B: fails every time (retry backoff 100–200 ms).
  const [slow] = await publishMany(producer, names.topic, 1, () => ({
    content: { retryAfterMs: 12_000 },
    key: "a",
  }));
  await waitFor("A's first attempt", () => child.runs().some((run) => run.id === slow?.id));
  await waitFor("A's retry on the retry topic", async () => {
    const [end] = await admin.fetchTopicOffsets(names.retryTopic);
    return Number(end?.high) >= 1;
  });
  const [failing] = await publishMany(producer, names.topic, 1, () => ({
    content: { fail: "always" },
    key: "b",
  }));
  const runsOfB = (runs: Array<{ id: string }>): number =>
    runs.filter((run) => run.id === failing?.id).length;
  await waitFor("B's first attempt", () => runsOfB(child.runs()) >= 1);
  // Give B's retries time to run (they would, behind a held A) and their offsets time to be committed.
  const firstRunAt = Date.now();
  await waitFor(
    "B's retries or 3 s",
    () => runsOfB(child.runs()) > maxRetries || Date.now() - firstRunAt > 3000,
  );
  await delay(1000);
  await child.kill("SIGKILL");

  const survivorRuns: Array<{ id: string; attempt: number }> = [];
  const survivor = new AgentConsumer({
    connection: kafkaConnection(),
    topic: names.topic,
    agent: names.agent,
    publisher: producer,
    logger,
    heartbeatIntervalMs: 500,
    commitIntervalMs: 200,
    config: { maxRetries, retryBackoffMs: 100, maxRetryBackoffMs: 200 },
    handler: scriptedHandler(survivorRuns),
  });
  stops.push(() => survivor.stop());
  await survivor.start();

  const all = (): Array<{ id: string; attempt: number }> => [...child.runs(), ...survivorRuns];
  await waitFor(
    "A's second attempt, B's dead letter, and nothing left to do",
    async () => {
      const [dlqEnd] = await admin.fetchTopicOffsets(names.dlqTopic);
      const status = survivor.status();
      return (
        all().some((run) => run.id === slow?.id && run.attempt === 2) &&
        Number(dlqEnd?.high) >= 1 &&
        status.inFlight + status.buffered + status.delayed === 0
      );
    },
    90_000,
  );
  await delay(1500); // a duplicate chain would show up within a few backoffs

  expect(runsOfB(all())).toBe(maxRetries + 1);
  expect(all().filter((run) => run.id === slow?.id)).toHaveLength(2);
  const deadLetters = await readTopic(names.dlqTopic);
  expect(deadLetters.filter((record) => record.value?.includes(failing?.id ?? "?"))).toHaveLength(1);
}, 180_000);

it("a backlog of delayed retries does not pause the agent's topic", async () => {
  const names = await createAgentTopics(admin, 2, "delayed");
  stops.push(() => deleteAgentTopics(admin, names));
  const runs: Array<{ id: string; attempt: number }> = [];
  const engine = new AgentConsumer({
    connection: kafkaConnection(),
    topic: names.topic,
    agent: names.agent,
    publisher: producer,
    logger,
    heartbeatIntervalMs: 500,
    commitIntervalMs: 200,
    drainTimeoutMs: 5000,
    maxBufferedRecords: 20,
    config: { concurrency: 8, retryBackoffMs: 50, maxRetryBackoffMs: 100 },
    handler: scriptedHandler(runs),
  });
  stops.push(() => engine.stop());
  await engine.start();

  // Three times the buffer in retries that are due only in a minute.
  const delayed = await publishMany(producer, names.topic, 60, () => ({ content: { retryAfterMs: 60_000 } }));
  await waitFor("every first attempt", () => delayed.every((e) => runs.some((run) => run.id === e.id)));
  await waitFor("the delayed retries on the retry topic", async () => {
    const ends = await admin.fetchTopicOffsets(names.retryTopic);
    return ends.reduce((sum, p) => sum + Number(p.high), 0) >= 60;
  });
  await delay(500); // let the engine fetch them

  const fresh = await publishMany(producer, names.topic, 10);
  await waitFor(
    "fresh events to run while the retries wait",
    () => fresh.every((e) => runs.some((run) => run.id === e.id)),
    20_000,
  );
  expect(runs.filter((run) => run.attempt === 2)).toHaveLength(0);
}, 90_000);
