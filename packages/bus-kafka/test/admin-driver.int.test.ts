// The admin driver contract (src/driver/admin.ts): the same cases on kafkajs and on @platformatic/kafka, against
// the real broker — topics, partitions, watermarks, record deletion, and consumer groups of both protocols: a
// classic group (a kafkajs consumer) and a KIP-848 consumer-protocol group (a bare @platformatic/kafka consumer with
// group.protocol=consumer), which the classic DescribeGroups request reports as Dead.
import type { Admin, Consumer as KafkajsConsumer, Kafka } from "kafkajs";
import {
  createTopics,
  kafkaBrokers,
  kafkaConnection,
  rawKafka,
  testLogger as logger,
  uniqueName,
  waitFor,
} from "@omnidaemon/testkit";
import { BusAdmin } from "../src/admin";
import { KAFKA_CLIENTS, parseKafkaConnection, type KafkaClientName } from "../src/config";
import type { AdminDriver, DriverGroup } from "../src/driver/admin";
import { createAdminDriver } from "../src/driver/factories";
import { hasBrokerError, KafkaDriverError } from "../src/driver/errors";
import { platformatic, type Platformatic } from "../src/driver/platformatic/load";
import { BusError } from "../src/errors";

let kafka: Kafka;
let admin: Admin;
const topics: string[] = [];
const groups: string[] = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.deleteTopics({ topics }).catch(() => undefined);
  for (const group of groups) await admin.deleteGroups([group]).catch(() => undefined);
  await admin.disconnect();
});

async function topicWithRecords(partitions: number, perPartition: number[]): Promise<string> {
  const name = uniqueName("adriver");
  await createTopics(admin, [{ topic: name, numPartitions: partitions }]);
  topics.push(name);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: name,
    messages: perPartition.flatMap((count, partition) =>
      Array.from({ length: count }, (_, i) => ({ partition, key: `k${i}`, value: `v${i}` })),
    ),
  });
  await producer.disconnect();
  return name;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error("expected a failure, got success"),
    (error: unknown) => error,
  );
}

/** A classic-protocol group of one kafkajs member reading `topic` and committing as it goes. */
async function classicMember(groupId: string, topic: string): Promise<{ close: () => Promise<void> }> {
  const consumer: KafkajsConsumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommitThreshold: 1, eachMessage: async () => undefined });
  return { close: () => consumer.disconnect() };
}

/** A KIP-848 (`group.protocol=consumer`) group of one bare @platformatic/kafka member, committing as it goes. */
async function consumerProtocolMember(
  groupId: string,
  topic: string,
): Promise<{ close: () => Promise<void> }> {
  const { Consumer } = platformatic();
  const consumer: Platformatic.Consumer = new Consumer({
    clientId: "admin-driver-test",
    bootstrapBrokers: kafkaBrokers(),
    groupId,
    groupProtocol: "consumer",
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: "earliest",
    autocommit: 100,
    maxWaitTime: 100,
  });
  stream.on("data", () => undefined);
  return {
    close: async () => {
      await stream.close();
      await consumer.close();
    },
  };
}

async function described(driver: AdminDriver, groupId: string): Promise<DriverGroup> {
  const [group] = await driver.describeGroups([groupId]);
  if (group === undefined) throw new Error(`describeGroups returned nothing for ${groupId}`);
  return group;
}

async function committed(driver: AdminDriver, groupId: string, topic: string): Promise<number> {
  const offsets = await driver.fetchOffsets(groupId, [topic]);
  return offsets
    .filter((entry) => entry.topic === topic)
    .flatMap((entry) => entry.partitions)
    .reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

describe.each(KAFKA_CLIENTS)("the admin driver on %s", (client: KafkaClientName) => {
  let driver: AdminDriver;

  beforeAll(async () => {
    driver = createAdminDriver(parseKafkaConnection({ ...kafkaConnection(), client }), logger);
    await driver.connect();
  });

  afterAll(async () => {
    await driver.disconnect();
  });

  it("describes the cluster: its id and its brokers", async () => {
    const reference = await admin.describeCluster();
    expect(await driver.describeCluster()).toEqual({
      clusterId: reference.clusterId,
      brokers: reference.brokers.length,
    });
  });

  it("creates a topic once with its configuration, reads its leaders, grows it, and deletes it", async () => {
    const name = uniqueName("adriver_topic");
    topics.push(name);
    const spec = {
      topic: name,
      partitions: 2,
      replicationFactor: -1,
      configs: { "max.message.bytes": "4096" },
    };
    expect(await driver.createTopic(spec)).toBe(true);
    expect(await driver.createTopic(spec)).toBe(false);
    expect(await driver.listTopics()).toContain(name);
    await waitFor("leaders for the new topic", async () => {
      const [metadata] = await driver.fetchTopicMetadata([name]).catch(() => []);
      return metadata?.partitions.every((p) => p.leader >= 0) === true;
    });
    expect((await driver.fetchTopicMetadata([name]))[0]).toEqual({
      topic: name,
      partitions: [
        { partition: 0, leader: expect.any(Number) },
        { partition: 1, leader: expect.any(Number) },
      ],
    });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name, configNames: ["max.message.bytes"] }],
    });
    expect(resources[0]?.configEntries[0]?.configValue).toBe("4096");

    await driver.createPartitions([{ topic: name, count: 4 }]);
    expect((await driver.fetchTopicMetadata([name]))[0]?.partitions).toHaveLength(4);
    const notGrown = await failureOf(driver.createPartitions([{ topic: name, count: 4 }]));
    expect(notGrown).toBeInstanceOf(KafkaDriverError);
    expect(hasBrokerError(notGrown, "INVALID_PARTITIONS")).toBe(true);

    await driver.deleteTopics([name]);
    await waitFor("the topic gone from the listing", async () => !(await driver.listTopics()).includes(name));
    const gone = await failureOf(driver.fetchTopicMetadata([name]));
    expect(hasBrokerError(gone, "UNKNOWN_TOPIC_OR_PARTITION")).toBe(true);
  });

  it("answers UNKNOWN_TOPIC_OR_PARTITION about a topic it read before and another client deleted", async () => {
    // kafkajs alone fails this with a TypeError ("reading 'topicMetadata'", tulios/kafkajs#549), which the
    // BusAdmin took for a broken cluster: a registration racing the cleanup of the same agent answered 503.
    const deleted = await topicWithRecords(1, [0]);
    expect(await driver.fetchTopicMetadata([deleted])).toHaveLength(1);
    await admin.deleteTopics({ topics: [deleted] });
    await waitFor(
      "the topic gone from the listing",
      async () => !(await driver.listTopics()).includes(deleted),
    );
    const gone = await failureOf(driver.fetchTopicMetadata([deleted]));
    expect(gone).toBeInstanceOf(KafkaDriverError);
    expect(hasBrokerError(gone, "UNKNOWN_TOPIC_OR_PARTITION")).toBe(true);
  });

  it("answers 'created' to exactly one of concurrent creations of a topic, from this client or another", async () => {
    const name = uniqueName("adriver_race");
    topics.push(name);
    const spec = { topic: name, partitions: 1, replicationFactor: -1, configs: {} };
    const other = createAdminDriver(parseKafkaConnection({ ...kafkaConnection(), client }), logger);
    await other.connect();
    try {
      const outcomes = await Promise.all([
        driver.createTopic(spec),
        driver.createTopic(spec),
        other.createTopic(spec),
      ]);
      expect(outcomes.filter((created) => created)).toHaveLength(1);
    } finally {
      await other.disconnect();
    }
  });

  it("reads each partition's low and high watermark, and deletes the records before an offset", async () => {
    const name = await topicWithRecords(3, [5, 3, 0]);
    const byPartition = async (): Promise<unknown[]> =>
      (await driver.fetchTopicOffsets(name)).sort((a, b) => a.partition - b.partition);
    expect(await byPartition()).toEqual([
      { partition: 0, low: "0", high: "5" },
      { partition: 1, low: "0", high: "3" },
      { partition: 2, low: "0", high: "0" },
    ]);
    await driver.deleteTopicRecords(name, [
      { partition: 0, offset: "3" },
      { partition: 1, offset: "3" },
    ]);
    expect(await byPartition()).toEqual([
      { partition: 0, low: "3", high: "5" },
      { partition: 1, low: "3", high: "3" },
      { partition: 2, low: "0", high: "0" },
    ]);
  });

  it("describes a group that does not exist as Dead, and refuses to delete it (GROUP_ID_NOT_FOUND)", async () => {
    const groupId = uniqueName("adriver_none");
    expect(await described(driver, groupId)).toEqual({
      groupId,
      state: "Dead",
      protocol: undefined,
      members: [],
    });
    expect(hasBrokerError(await failureOf(driver.deleteGroups([groupId])), "GROUP_ID_NOT_FOUND")).toBe(true);
  });

  const protocols = [
    ["classic", "a kafkajs consumer", classicMember],
    [
      "consumer",
      "a @platformatic/kafka consumer with group.protocol=consumer (KIP-848)",
      consumerProtocolMember,
    ],
  ] as const;

  it.each(protocols)(
    "a %s-protocol group (%s): listed, described with its member's assignment, its commits read, deleted once empty",
    async (protocol, _member, join) => {
      const name = await topicWithRecords(3, [4, 2, 3]);
      const groupId = uniqueName(`omnidaemon.adriver_${protocol}`);
      groups.push(groupId);
      const member = await join(groupId, name);
      let closed = false;
      try {
        await waitFor(`the ${protocol} member assigned every partition`, async () => {
          const group = await described(driver, groupId);
          return group.members[0]?.assignments[name]?.length === 3;
        });
        expect(await driver.listGroups()).toContain(groupId);
        expect(await described(driver, groupId)).toEqual({
          groupId,
          state: "Stable",
          protocol,
          members: [
            {
              memberId: expect.any(String),
              clientId: expect.any(String),
              host: expect.any(String),
              assignments: { [name]: [0, 1, 2] },
            },
          ],
        });
        await waitFor("the member's commits", async () => (await committed(driver, groupId, name)) === 9);

        const refused = await failureOf(driver.deleteGroups([groupId]));
        expect(hasBrokerError(refused, "NON_EMPTY_GROUP")).toBe(true);

        // The same through BusAdmin, on this driver: what the coordinator's cleanup and `bus groups` see.
        const bus = new BusAdmin({ connection: { ...kafkaConnection(), client }, logger });
        await bus.start();
        try {
          expect(await bus.listGroups({ prefix: groupId })).toEqual([
            {
              groupId,
              state: "Stable",
              members: [expect.objectContaining({ assignments: { [name]: [0, 1, 2] } })],
            },
          ]);
          const notEmpty = await failureOf(bus.deleteGroup(groupId));
          expect(notEmpty).toBeInstanceOf(BusError);
          expect(notEmpty).toMatchObject({
            code: "GROUP_NOT_EMPTY",
            message: expect.stringContaining("1 member"),
          });
          expect(await bus.groupLag(groupId, [name])).toMatchObject({ groupId, total: 0 });

          await member.close();
          closed = true;
          await waitFor("the group empty", async () => (await described(driver, groupId)).state === "Empty");
          expect(await bus.describeGroup(groupId)).toEqual({ groupId, state: "Empty", members: [] });
          expect(await bus.deleteGroup(groupId)).toBe(true);
          expect(await bus.deleteGroup(groupId)).toBe(false);
        } finally {
          await bus.stop();
        }
        expect(await described(driver, groupId)).toMatchObject({ state: "Dead", members: [] });
        expect(await driver.listGroups()).not.toContain(groupId);
      } finally {
        if (!closed) await member.close();
      }
    },
  );

  it("deletes an empty group of the consumer protocol directly, and then knows it no more", async () => {
    const name = await topicWithRecords(1, [1]);
    const groupId = uniqueName("adriver_direct");
    groups.push(groupId);
    const member = await consumerProtocolMember(groupId, name);
    await waitFor("the member's commit", async () => (await committed(driver, groupId, name)) === 1);
    await member.close();
    await waitFor("the group empty", async () => (await described(driver, groupId)).state === "Empty");
    await driver.deleteGroups([groupId]);
    expect(hasBrokerError(await failureOf(driver.deleteGroups([groupId])), "GROUP_ID_NOT_FOUND")).toBe(true);
  });
});
