// Shared helpers for bus-kafka integration tests. Using kafkajs directly here is fine: this is inside the package.
import { Kafka, logLevel, type Admin, type ITopicConfig } from "kafkajs";
import pino from "pino";
import { kafkaBrokers, kafkaConnection, uniqueName } from "../../../test/helpers";
import { createEnvelope, type Envelope } from "../src/envelope";
import { decodeHeaders, type RecordHeaders } from "../src/headers";
import { agentNames, type AgentNames } from "../src/naming";
import { KafkaProducer } from "../src/producer";

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** The test broker, on the suite's Kafka client (OMNIDAEMON_KAFKA_CLIENT). */
export function connection(): ReturnType<typeof kafkaConnection> {
  return kafkaConnection("omnidaemon-test");
}

export function rawKafka(): Kafka {
  return new Kafka({ brokers: kafkaBrokers(), clientId: "omnidaemon-test-raw", logLevel: logLevel.NOTHING });
}

/**
 * Creates topics and waits until every partition is served: it has a leader, and the leader answers for its offsets.
 * Not kafkajs' `waitForLeaders`: it gives up at once when the broker answers a just-created topic with
 * UNKNOWN_TOPIC_OR_PARTITION, and a leader named in the metadata may still answer NOT_LEADER_OR_FOLLOWER for a
 * moment, which kafkajs' `fetchTopicOffsets` (readAll) does not retry.
 */
export async function createTopics(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics });
  const names = topics.map((t) => t.topic);
  await waitFor(`leaders for ${names.join(", ")}`, async () => {
    const metadata = await admin.fetchTopicMetadata({ topics: names }).catch(() => undefined);
    if (
      metadata?.topics.length !== names.length ||
      !metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
    ) {
      return false;
    }
    const served = await Promise.all(
      names.map((name) =>
        admin.fetchTopicOffsets(name).then(
          () => true,
          () => false,
        ),
      ),
    );
    return served.every(Boolean);
  });
}

/** Creates the agent's topic, retry topic and DLQ with `partitions` partitions each; returns the names. */
export async function createAgentTopics(
  admin: Admin,
  partitions = 12,
  prefix = "engine",
): Promise<AgentNames> {
  const names = agentNames(uniqueName(prefix), uniqueName("agent").replace(/_/g, "-"));
  await createTopics(
    admin,
    [names.topic, names.retryTopic, names.dlqTopic].map((topic) => ({ topic, numPartitions: partitions })),
  );
  return names;
}

export async function deleteAgentTopics(admin: Admin, names: AgentNames): Promise<void> {
  await admin
    .deleteTopics({ topics: [names.topic, names.retryTopic, names.dlqTopic] })
    .catch(() => undefined);
  await admin.deleteGroups([names.groupId]).catch(() => undefined);
}

export async function startedProducer(): Promise<KafkaProducer> {
  const producer = new KafkaProducer({ connection: connection(), logger });
  await producer.start();
  return producer;
}

export async function publishMany(
  producer: KafkaProducer,
  topic: string,
  count: number,
  build: (i: number) => { content?: unknown; key?: string; correlationId?: string } = (i) => ({
    content: { i },
  }),
): Promise<Envelope[]> {
  const envelopes = Array.from({ length: count }, (_, i) => {
    const spec = build(i);
    return {
      envelope: createEnvelope({
        topic,
        content: spec.content ?? { i },
        correlationId: spec.correlationId ?? null,
      }),
      key: spec.key,
    };
  });
  await Promise.all(
    envelopes.map(({ envelope, key }) => producer.publish(envelope, key === undefined ? {} : { key })),
  );
  return envelopes.map((e) => e.envelope);
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: RecordHeaders;
}

/** Reads every record of `topic` up to its current end with a throwaway group. */
export async function readAll(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  timeoutMs = 20_000,
): Promise<ReadRecord[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const remaining = new Map(
    ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
  );
  const records: ReadRecord[] = [];
  if (remaining.size === 0) return records;
  const groupId = uniqueName("reader");
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`readAll(${topic}) timed out`)), timeoutMs);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: decodeHeaders(message.headers as Record<string, unknown>),
        });
        const end = remaining.get(partition);
        if (end !== undefined && Number(message.offset) + 1 >= end) remaining.delete(partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return records;
}

/** Committed offsets of a group, summed over the topic's partitions. */
export async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
