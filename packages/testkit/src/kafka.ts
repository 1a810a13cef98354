// Kafka in tests: the raw client to set up and observe the real broker (kafkajs is fine outside src/), the bus's own
// producer and admin for what the product would do, reading a topic back, and the clean-up of what a test made.
import {
  BusAdmin,
  KafkaProducer,
  SYSTEM_TOPICS,
  agentNames,
  decodeHeaders,
  taskEventRecord,
  type RecordHeaders,
} from "@omnidaemon/bus-kafka";
import { controlKey, type TaskEvent } from "@omnidaemon/protocol";
import { Kafka, logLevel, type Admin, type ITopicConfig } from "kafkajs";
import { testLogger } from "./logs";
import { uniqueName } from "./names";
import { kafkaBrokers, kafkaConnection } from "./services";
import { waitFor } from "./wait";

/** A kafkajs client on the test broker, silent. */
export function rawKafka(clientId = "omnidaemon-test-raw"): Kafka {
  return new Kafka({ brokers: kafkaBrokers(), clientId, logLevel: logLevel.NOTHING });
}

/**
 * Creates topics and waits until every partition is served: it has a leader, and the leader answers for its offsets.
 * Not kafkajs' `waitForLeaders`: it gives up at once when the broker answers a just-created topic with
 * UNKNOWN_TOPIC_OR_PARTITION, and a leader named in the metadata may still answer NOT_LEADER_OR_FOLLOWER for a
 * moment, which kafkajs' `fetchTopicOffsets` does not retry.
 */
export async function createTopics(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics });
  const names = topics.map((t) => t.topic);
  await waitFor(
    `leaders for ${names.join(", ")}`,
    async () => {
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
    },
    30_000,
    50,
  );
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: RecordHeaders;
}

/**
 * The records of `topic` from the beginning, read by a throwaway group (deleted afterwards): up to the topic's end
 * when called, or, with `until`, until it accepts what was read so far. Rejects after `timeoutMs`.
 */
export async function readTopic(
  topic: string,
  options: { until?: (records: ReadRecord[]) => boolean; timeoutMs?: number } = {},
): Promise<ReadRecord[]> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const kafka = rawKafka();
  const admin = kafka.admin();
  const groupId = uniqueName("reader");
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await admin.connect();
  try {
    let done = options.until;
    if (done === undefined) {
      const ends = await admin.fetchTopicOffsets(topic);
      const remaining = new Map(
        ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
      );
      if (remaining.size === 0) return records;
      done = (read) => {
        const last = read.at(-1) as ReadRecord;
        const end = remaining.get(last.partition);
        if (end !== undefined && Number(last.offset) + 1 >= end) remaining.delete(last.partition);
        return remaining.size === 0;
      };
    }
    const until = done;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic}: not done within ${timeoutMs} ms (${records.length} read)`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString("utf8") ?? null,
            value: message.value?.toString("utf8") ?? null,
            headers: decodeHeaders(message.headers as Record<string, unknown> | undefined),
          });
          if (until(records)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return records;
}

/** Committed offsets of a group, summed over the topic's partitions. */
export async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** The bus's producer on the test broker, started; the caller stops it. */
export async function startedProducer(clientId = "omnidaemon-test"): Promise<KafkaProducer> {
  const producer = new KafkaProducer({ connection: kafkaConnection(clientId), logger: testLogger });
  await producer.start();
  return producer;
}

/** Runs `work` with a started producer, stopped afterwards. */
export async function withProducer<T>(work: (producer: KafkaProducer) => Promise<T>): Promise<T> {
  const producer = await startedProducer();
  try {
    return await work(producer);
  } finally {
    await producer.stop();
  }
}

/** Runs `work` with a started bus admin, stopped afterwards. */
export async function withBusAdmin<T>(work: (admin: BusAdmin) => Promise<T>): Promise<T> {
  const admin = new BusAdmin({ connection: kafkaConnection(), logger: testLogger });
  await admin.start();
  try {
    return await work(admin);
  } finally {
    await admin.stop();
  }
}

/** A task event as a worker reports it. */
export function taskEvent(
  fields: Pick<TaskEvent, "task_id" | "topic" | "agent" | "status"> & Partial<TaskEvent>,
): TaskEvent {
  return {
    attempt: 1,
    at: new Date().toISOString(),
    correlation_id: null,
    tenant_id: null,
    worker_id: "int-test-worker",
    ...fields,
  };
}

/** Publishes task events in order (one after the other, so events of one task keep their order). */
export async function reportTaskEvents(producer: KafkaProducer, events: TaskEvent[]): Promise<void> {
  for (const event of events) await producer.send(taskEventRecord(event));
}

/**
 * Everything a test made on the broker, removed once every client that used it is gone (a group with members cannot
 * be deleted; kafkajs#1622: a live client that used a deleted topic stalls): agents (their main, retry and DLQ
 * topics, their group, and a tombstone for their control record), plain topics and groups.
 */
export class KafkaLeftovers {
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private readonly agents = new Map<string, { topic: string; agent: string }>();

  /** The agent's main, retry and DLQ topics, its group, and its control record. */
  agent(topic: string, agent: string): void {
    this.topics.add(topic);
    this.groups.add(agentNames(topic, agent).groupId);
    this.agents.set(controlKey(topic, agent), { topic, agent });
  }

  topic(topic: string): void {
    this.topics.add(topic);
  }

  group(groupId: string): void {
    this.groups.add(groupId);
  }

  async clean(): Promise<void> {
    if (this.agents.size === 0 && this.topics.size === 0 && this.groups.size === 0) return;
    await withBusAdmin(async (admin) => {
      for (const group of this.groups) await admin.deleteGroup(group).catch(() => undefined);
      // Retry and DLQ topics carry the reserved prefix, which deleteTopic() refuses: deleteAgentTopics() is theirs.
      for (const { topic, agent } of this.agents.values()) {
        await admin.deleteAgentTopics(topic, agent, { retry: true, dlq: true }).catch(() => undefined);
      }
      const existing = new Set(await admin.listTopics());
      for (const topic of this.topics) {
        if (existing.has(topic)) await admin.deleteTopic(topic).catch(() => undefined);
      }
    });
    if (this.agents.size > 0) {
      // Tombstones, so compaction drops our agents' desired state from the shared control topic.
      await withProducer(async (producer) => {
        for (const key of this.agents.keys()) {
          await producer.send({ topic: SYSTEM_TOPICS.control, key, value: null }).catch(() => undefined);
        }
      });
    }
    this.agents.clear();
    this.topics.clear();
    this.groups.clear();
  }
}

/** {@link readTopic} of a topic of JSON values, until `done` accepts the values read so far; the values. */
export async function readTopicJson(topic: string, done: (values: unknown[]) => boolean): Promise<unknown[]> {
  const parse = (records: ReadRecord[]): unknown[] =>
    records.map((record) => (record.value === null ? null : (JSON.parse(record.value) as unknown)));
  return parse(await readTopic(topic, { until: (records) => done(parse(records)), timeoutMs: 15_000 }));
}
