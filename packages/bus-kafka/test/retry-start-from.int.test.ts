// Issue 9 item 6: `startFrom: "latest"` applies to the agent's topic only; its retry topic is always read from the
// earliest offset not yet committed, so a retry written before the group's first commit is never skipped.
import type { Admin, Kafka } from "kafkajs";
import { AgentConsumer } from "../src/engine/agent-consumer";
import { createEnvelope, encodeEnvelope } from "../src/envelope";
import { HEADER } from "../src/headers";
import type { AgentNames } from "../src/naming";
import type { KafkaProducer } from "../src/producer";
import {
  kafkaConnection,
  rawKafka,
  startedProducer,
  testLogger as logger,
  waitFor,
} from "@omnidaemon/testkit";
import { createAgentTopics, deleteAgentTopics, publishMany } from "./support";

let kafka: Kafka;
let admin: Admin;
let producer: KafkaProducer;
let names: AgentNames | undefined;
let engine: AgentConsumer | undefined;

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
});

afterAll(async () => {
  await engine?.stop();
  await producer.stop();
  if (names) await deleteAgentTopics(admin, names);
  await admin.disconnect();
});

it("processes a retry written before the group's first commit even when the agent starts from latest", async () => {
  names = await createAgentTopics(admin, 1, "latest");
  // Before the group exists: an old event on the agent's topic (skipped: latest) and a pending retry, as left by
  // a worker that failed an event and died before its first commit.
  const [old] = await publishMany(producer, names.topic, 1, () => ({ content: "old" }));
  const pending = createEnvelope({ topic: names.topic, content: "retry", correlationId: "k" });
  const raw = kafka.producer();
  await raw.connect();
  await raw.send({
    topic: names.retryTopic,
    messages: [
      {
        key: "k",
        value: encodeEnvelope({ ...pending, delivery_attempts: 2 }, Number.MAX_SAFE_INTEGER),
        headers: { [HEADER.attempt]: "2", [HEADER.notBefore]: String(Date.now()) },
      },
    ],
  });
  await raw.disconnect();

  const seen: Array<{ id: string; attempt: number }> = [];
  engine = new AgentConsumer({
    connection: kafkaConnection(),
    topic: names.topic,
    agent: names.agent,
    publisher: producer,
    logger,
    heartbeatIntervalMs: 500,
    commitIntervalMs: 200,
    config: { startFrom: "latest" },
    handler: (envelope, ctx) => void seen.push({ id: envelope.id, attempt: ctx.attempt }),
  });
  await engine.start();
  await waitFor("the pending retry", () => seen.some((s) => s.id === pending.id), 20_000);
  const [fresh] = await publishMany(producer, names.topic, 1, () => ({ content: "new" }));
  await waitFor("the event published after the start", () => seen.some((s) => s.id === fresh?.id));
  expect(seen).toEqual([
    { id: pending.id, attempt: 2 },
    { id: fresh?.id, attempt: 1 },
  ]);
  expect(seen.some((s) => s.id === old?.id)).toBe(false);
}, 60_000);
