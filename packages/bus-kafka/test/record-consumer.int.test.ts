// Issue 10, item 1: a RecordConsumer whose handler fails with a non-retriable error used to crash (kafkajs gives
// up with KafkaJSNonRetriableError) and stay stopped while its process kept running. It must restart itself, say
// so in status(), and lose nothing: the failed batch is handled again once the handler succeeds.
import { randomUUID } from "node:crypto";
import type { Admin, Kafka } from "kafkajs";
import { RecordConsumer, type ConsumedRecord } from "../src/record-consumer";
import { kafkaConnection, rawKafka, testLogger as logger, waitFor } from "@omnidaemon/testkit";

let kafka: Kafka;
let admin: Admin;
const topic = `record-consumer-${randomUUID().slice(0, 8)}`;
const groupId = `record-consumer-group-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
});

test("a handler that throws a non-retriable error: the consumer restarts itself and the batch is handled again", async () => {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: "k", value: JSON.stringify({ n: 1 }) }] });
  await producer.disconnect();

  let failuresLeft = 3;
  const handled: ConsumedRecord[] = [];
  const consumer = new RecordConsumer({
    connection: kafkaConnection(),
    topic,
    groupId,
    logger,
    retry: { retries: 0, initialRetryTime: 100, maxRetryTime: 200 },
    restartDelayMs: { initial: 100, max: 500 },
    handle: async (records) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        // As a StoreError for a row Postgres refuses: `retriable: false` makes kafkajs give up at once.
        throw Object.assign(new Error("simulated poison"), { retriable: false });
      }
      handled.push(...records);
    },
  });
  try {
    await consumer.start();
    await waitFor("the batch to be handled after the failures", () => handled.length === 1, 60_000);
    expect(handled[0]?.value).toEqual({ n: 1 });
    expect(consumer.status()).toEqual(expect.objectContaining({ running: true }));
    expect(consumer.status().restarts).toBeGreaterThanOrEqual(1);
  } finally {
    await consumer.stop();
  }
  expect(consumer.status().running).toBe(false);
});
