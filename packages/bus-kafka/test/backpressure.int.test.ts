import type { Admin, Kafka, Producer } from "kafkajs";
import { AgentConsumer } from "../src/engine/agent-consumer";
import type { AgentHandler } from "../src/engine/types";
import { createEnvelope, encodeEnvelope, type Envelope } from "../src/envelope";
import type { AgentNames } from "../src/naming";
import type { KafkaProducer } from "../src/producer";
import {
  kafkaConnection,
  rawKafka,
  startedProducer,
  testLogger as logger,
  waitFor,
} from "@omnidaemon/testkit";
import { createAgentTopics, deleteAgentTopics } from "./support";

let kafka: Kafka;
let admin: Admin;
let raw: Producer;
let producer: KafkaProducer;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  raw = kafka.producer();
  await raw.connect();
  producer = await startedProducer();
});

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

afterAll(async () => {
  await producer.stop();
  await raw.disconnect();
  await admin.disconnect();
});

/** Publishes `count` events straight into one partition; returns them. */
async function publishTo(
  names: AgentNames,
  partition: number,
  count: number,
  content: unknown = {},
): Promise<Envelope[]> {
  const envelopes = Array.from({ length: count }, () => createEnvelope({ topic: names.topic, content }));
  await raw.send({
    topic: names.topic,
    acks: -1,
    messages: envelopes.map((e) => ({
      partition,
      key: e.id,
      value: encodeEnvelope(e, Number.MAX_SAFE_INTEGER),
    })),
  });
  return envelopes;
}

function engine(
  names: AgentNames,
  handler: AgentHandler,
  options: Partial<ConstructorParameters<typeof AgentConsumer>[0]>,
): AgentConsumer {
  const consumer = new AgentConsumer({
    connection: kafkaConnection(),
    topic: names.topic,
    agent: names.agent,
    publisher: producer,
    logger,
    heartbeatIntervalMs: 500,
    sessionTimeoutMs: 10_000,
    commitIntervalMs: 200,
    drainTimeoutMs: 2000,
    handler,
    ...options,
  });
  stops.push(() => consumer.stop());
  return consumer;
}

it("re-evaluates back-pressure when an assignment change takes the buffered records away, so it does not stay on with nothing pending", async () => {
  const names = await createAgentTopics(admin, 2, "backpressure");
  stops.push(() => deleteAgentTopics(admin, names));

  // The first consumer runs one delivery at a time and pauses fetching at 10 buffered records.
  let release: () => void = () => undefined;
  const blocked = new Promise<void>((resolve) => (release = resolve));
  stops.push(async () => release());
  let blockerStarted = false;
  let received = 0;
  const first = engine(
    names,
    async (envelope) => {
      if ((envelope.content as { block?: boolean }).block) {
        blockerStarted = true;
        await blocked;
      }
    },
    {
      maxBufferedRecords: 10,
      config: { concurrency: 1 },
      observer: { onReceived: () => void received++ },
    },
  );
  await first.start();

  // A long delivery from partition 0 holds the only slot; 30 records of partition 1 wait: back-pressure is on.
  await publishTo(names, 0, 1, { block: true });
  await waitFor("the long delivery to start", () => blockerStarted);
  const waiting = await publishTo(names, 1, 30);
  await waitFor("the first consumer to buffer partition 1", () => first.status().buffered === 30);

  // A second member joins: the sticky assignor leaves partition 0 with the first consumer and moves partition 1,
  // and the records buffered for it, to the second. Nothing is pending on the first consumer any more.
  const seenBySecond = new Set<string>();
  const second = engine(names, (envelope) => void seenBySecond.add(envelope.id), {
    config: { concurrency: 8 },
  });
  await second.start();
  await waitFor("the second consumer to run partition 1", () => waiting.every((e) => seenBySecond.has(e.id)));
  expect(first.status().buffered).toBe(0);

  // New records for the partition the first consumer kept must be fetched while its long delivery still runs.
  const before = received;
  await publishTo(names, 0, 5);
  await waitFor("the first consumer to fetch its partition again", () => received >= before + 5, 15_000);
  expect(first.status().inFlight).toBe(1);
  release();
}, 90_000);
