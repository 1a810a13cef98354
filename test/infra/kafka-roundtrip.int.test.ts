// Proves the integration services themselves: the broker the global setup resolved takes an idempotent acks=all
// write, serves it to a consumer group and keeps the group's committed offset. This is the one place outside
// packages/bus-kafka that imports kafkajs, because it tests the stack, not the product's Kafka code.
import { Kafka, logLevel, Partitioners, type RecordMetadata } from "kafkajs";
import { kafkaBrokers, uniqueName } from "@omnidaemon/testkit";

const RECEIVE_TIMEOUT_MS = 30_000;

interface Received {
  partition: number;
  offset: string;
  key: string | undefined;
  value: string | undefined;
}

describe("Kafka (integration services)", () => {
  const kafka = new Kafka({
    clientId: uniqueName("infra_test"),
    brokers: kafkaBrokers(),
    logLevel: logLevel.WARN,
  });

  it("round-trips a record through a consumer group and keeps its committed offset", async () => {
    const topic = uniqueName("infra_roundtrip");
    const groupId = uniqueName("infra_group");
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      try {
        const written = await produceOne(topic, "k1", "hello");
        expect(written).toMatchObject({ topicName: topic, partition: 0, errorCode: 0, baseOffset: "0" });

        const received = await consumeOneAndCommit(topic, groupId);
        expect(received).toEqual({ partition: 0, offset: "0", key: "k1", value: "hello" });

        const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
        expect(offsets).toEqual([
          { topic, partitions: [expect.objectContaining({ partition: 0, offset: "1" })] },
        ]);
      } finally {
        // The group exists once the consumer has joined, and keeps the committed offset until it is deleted.
        const { groups } = await admin.listGroups();
        if (groups.some((group) => group.groupId === groupId)) await admin.deleteGroups([groupId]);
        await admin.deleteTopics({ topics: [topic] });
      }
    } finally {
      await admin.disconnect();
    }
  });

  async function produceOne(topic: string, key: string, value: string): Promise<RecordMetadata | undefined> {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner, // explicit, which also silences kafkajs' v2 notice
    });
    await producer.connect();
    try {
      const [written] = await producer.send({ topic, acks: -1, messages: [{ key, value }] });
      return written;
    } finally {
      await producer.disconnect();
    }
  }

  async function consumeOneAndCommit(topic: string, groupId: string): Promise<Received> {
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      return await new Promise<Received>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no record within ${RECEIVE_TIMEOUT_MS} ms`)),
          RECEIVE_TIMEOUT_MS,
        );
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              // Commit the next offset to read, as bus-kafka does once a record is handled.
              await consumer.commitOffsets([
                { topic, partition, offset: String(BigInt(message.offset) + 1n) },
              ]);
              resolve({
                partition,
                offset: message.offset,
                key: message.key?.toString(),
                value: message.value?.toString(),
              });
            },
          })
          .catch(reject);
      });
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
    }
  }
});
