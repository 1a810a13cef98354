// The worker's side of the DLQ manager: it owns the dead-letter writes of the agents' consumers and reports the
// depth of each agent's DLQ. Real broker, real consumer.
import type { Admin, Kafka } from "kafkajs";
import { DlqManager } from "../src/dlq-manager";
import { AgentConsumer } from "../src/engine/agent-consumer";
import type { DeadLetterMeta, DeadLetterSink } from "../src/engine/types";
import { NonRetriableError } from "../src/handler-errors";
import { HEADER } from "../src/headers";
import { agentNames, type AgentNames } from "../src/naming";
import type { KafkaProducer } from "../src/producer";
import {
  kafkaConnection as connection,
  rawKafka,
  readTopic,
  startedProducer,
  testLogger as logger,
  waitFor,
} from "@omnidaemon/testkit";
import { createAgentTopics, deleteAgentTopics, publishMany } from "./support";

jest.setTimeout(90_000);

let kafka: Kafka;
let admin: Admin;
let producer: KafkaProducer;
const made: AgentNames[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await producer.stop();
  for (const names of made) await deleteAgentTopics(admin, names);
  await admin.disconnect();
});

async function dlqRecords(names: AgentNames): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(names.dlqTopic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

function manager(): DlqManager {
  const dlq = new DlqManager({ connection: connection(), publisher: producer, logger, depthIntervalMs: 200 });
  cleanups.push(() => dlq.stop());
  return dlq;
}

describe("the worker's DLQ manager", () => {
  it("writes every dead letter an agent's consumer hands it — before it started and after it stopped too — and reports the DLQ's depth", async () => {
    const names = await createAgentTopics(admin, 2);
    made.push(names);
    const dlq = manager();
    dlq.watch(names.topic, names.agent);
    const handed: DeadLetterMeta[] = [];
    const sink: DeadLetterSink = {
      deadLetter: (record, meta) => {
        handed.push(meta);
        return dlq.deadLetter(record, meta);
      },
    };
    const consumer = new AgentConsumer({
      connection: connection(),
      topic: names.topic,
      agent: names.agent,
      handler: () => {
        throw new NonRetriableError("declined");
      },
      publisher: producer,
      deadLetters: sink,
      logger,
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 10_000,
      commitIntervalMs: 200,
    });
    cleanups.push(() => consumer.stop());
    await consumer.start();

    // The worker enters its DLQ manager after its consumers: dead letters before its start still land.
    await publishMany(producer, names.topic, 2);
    await waitFor("two dead letters", async () => (await dlqRecords(names)) === 2);
    expect(dlq.depths()).toEqual([]);

    await dlq.start();
    await waitFor("the depth read at start", () => dlq.depths()[0]?.depth === 2);
    expect(dlq.depths()).toEqual([{ topic: names.topic, agent: names.agent, depth: 2 }]);

    await publishMany(producer, names.topic, 3);
    await waitFor("the depth after three more", () => dlq.depths()[0]?.depth === 5);

    // Stopped first on shutdown (the reverse of its entry), while the consumers still drain: writes go on.
    await dlq.stop();
    await publishMany(producer, names.topic, 1);
    await waitFor("a dead letter after the manager stopped", async () => (await dlqRecords(names)) === 6);

    expect(handed).toHaveLength(6);
    expect(new Set(handed.map((meta) => JSON.stringify(meta)))).toEqual(
      new Set([JSON.stringify({ topic: names.topic, agent: names.agent, reason: "non_retriable" })]),
    );
    const letters = await readTopic(names.dlqTopic);
    expect(letters.map((l) => l.headers[HEADER.dlqReason])).toEqual(Array(6).fill("non_retriable"));
    expect(letters.map((l) => l.headers[HEADER.errorClass])).toEqual(Array(6).fill("NonRetriableError"));
  });

  it("reports 0 for a watched agent whose DLQ is empty or does not exist, and nothing for agents it does not watch", async () => {
    const empty = await createAgentTopics(admin, 1);
    made.push(empty);
    const missing = agentNames(empty.topic, "never-created");
    const dlq = manager();
    dlq.watch(empty.topic, empty.agent);
    dlq.watch(missing.topic, missing.agent);
    await dlq.start();
    await waitFor("both depths", () => dlq.depths().length === 2);
    expect(dlq.depths()).toEqual([
      { topic: empty.topic, agent: empty.agent, depth: 0 },
      { topic: missing.topic, agent: missing.agent, depth: 0 },
    ]);
    dlq.unwatch(missing.topic, missing.agent);
    expect(dlq.depths()).toEqual([{ topic: empty.topic, agent: empty.agent, depth: 0 }]);
  });

  it("reads no depth without a depth interval (the coordinator's manager)", async () => {
    const names = await createAgentTopics(admin, 1);
    made.push(names);
    const dlq = new DlqManager({ connection: connection(), publisher: producer, logger });
    cleanups.push(() => dlq.stop());
    dlq.watch(names.topic, names.agent);
    await dlq.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(dlq.depths()).toEqual([]);
  });
});
