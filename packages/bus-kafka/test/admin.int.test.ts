// BusAdmin against the real broker: topic creation (idempotent, racing workers), group listing with live members,
// lag of a group without members, and the refusals that protect live groups.
import { ConfigResourceTypes, type Admin, type Consumer, type Kafka } from "kafkajs";
import { kafkaConnection, rawKafka, testLogger as logger, uniqueName, waitFor } from "@omnidaemon/testkit";
import { BusAdmin } from "../src/admin";
import { BusError } from "../src/errors";
import { agentNames, type AgentNames } from "../src/naming";

// testTimeout in a jest project entry is not applied (it is a global option), so set it here.
jest.setTimeout(60_000);

let kafka: Kafka;
let raw: Admin;
let admin: BusAdmin;
const topics = new Set<string>();
const groups = new Set<string>();
const consumers: Consumer[] = [];

beforeAll(async () => {
  kafka = rawKafka();
  raw = kafka.admin();
  await raw.connect();
  admin = new BusAdmin({ connection: kafkaConnection(), logger, defaultPartitions: 3 });
  await admin.start();
});

afterAll(async () => {
  for (const consumer of consumers) await consumer.disconnect().catch(() => undefined);
  const existing = new Set(await raw.listTopics());
  const created = [...topics].filter((topic) => existing.has(topic));
  if (created.length > 0) await raw.deleteTopics({ topics: created });
  for (const groupId of groups) await raw.deleteGroups([groupId]).catch(() => undefined);
  await admin.stop();
  await raw.disconnect();
});

function agentFixture(prefix: string): AgentNames {
  const names = agentNames(uniqueName(prefix), uniqueName("agent"));
  for (const topic of [names.topic, names.retryTopic, names.dlqTopic]) topics.add(topic);
  groups.add(names.groupId);
  return names;
}

/** A live member of `groupId` reading `topic`; resolves once it holds its assignment. */
async function liveConsumer(groupId: string, topic: string): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  consumers.push(consumer);
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
  await waitFor("consumer joined its group", () => joined);
  return consumer;
}

async function errorOf(promise: Promise<unknown>): Promise<BusError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BusError);
    return error as BusError;
  }
  throw new Error("expected a BusError");
}

describe("lifecycle", () => {
  it("does no I/O before start, refuses calls before start, and stops idempotently (also before start)", async () => {
    const fresh = new BusAdmin({ connection: { brokers: ["127.0.0.1:1"] } });
    expect((await errorOf(fresh.listTopics())).code).toBe("NOT_STARTED");
    await Promise.all([fresh.stop(), fresh.stop()]);
    expect((await errorOf(fresh.start())).code).toBe("STOPPED");

    const other = new BusAdmin({ connection: kafkaConnection(), logger });
    await Promise.all([other.start(), other.start()]);
    const ping = await other.ping();
    expect(ping).toEqual({
      ok: true,
      brokers: expect.any(Number),
      clusterId: expect.any(String),
      latencyMs: expect.any(Number),
    });
    expect(ping.brokers).toBeGreaterThanOrEqual(1);
    await Promise.all([other.stop(), other.stop()]);
    expect((await errorOf(other.ping())).code).toBe("STOPPED");
  });

  it("reports an unreachable cluster as ADMIN_FAILED from start", async () => {
    const unreachable = new BusAdmin({
      connection: { brokers: ["127.0.0.1:1"], connectionTimeoutMs: 200, requestTimeoutMs: 500 },
    });
    const error = await errorOf(unreachable.start());
    expect(error.code).toBe("ADMIN_FAILED");
    expect(error.retriable).toBe(true);
    await unreachable.stop();
  }, 60_000);
});

describe("topics", () => {
  it("creates an agent's topics once, with the main topic's partitions and room for a 1 MiB envelope", async () => {
    const names = agentFixture("ensure");
    const first = await admin.ensureAgentTopics(names.topic, names.agent, { partitions: 4 });
    expect(first).toEqual({
      topic: names.topic,
      retryTopic: names.retryTopic,
      dlqTopic: names.dlqTopic,
      partitions: 4,
      created: [names.topic, names.retryTopic, names.dlqTopic],
    });
    for (const topic of [names.topic, names.retryTopic, names.dlqTopic]) {
      expect(await admin.topicPartitions(topic)).toBe(4);
    }
    const again = await admin.ensureAgentTopics(names.topic, names.agent, { partitions: 9 });
    expect(again).toMatchObject({ partitions: 4, created: [] });

    const configs = await raw.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: names.dlqTopic, configNames: ["max.message.bytes"] },
      ],
    });
    const maxBytes = configs.resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes");
    expect(Number(maxBytes?.configValue)).toBe(1024 * 1024 + 64 * 1024);
  });

  it("leaves an existing main topic as it is and sizes the retry and DLQ topics after it", async () => {
    const names = agentFixture("existing");
    expect(await admin.ensureTopic(names.topic, { partitions: 2 })).toEqual({ created: true });
    expect(await admin.ensureTopic(names.topic, { partitions: 5 })).toEqual({ created: false });
    const result = await admin.ensureAgentTopics(names.topic, names.agent);
    expect(result).toMatchObject({ partitions: 2, created: [names.retryTopic, names.dlqTopic] });
    expect(await admin.topicPartitions(names.retryTopic)).toBe(2);
    expect(await admin.topicPartitions(names.dlqTopic)).toBe(2);
  });

  it("lets two workers create the same agent's topics at the same moment", async () => {
    const names = agentFixture("race");
    const second = new BusAdmin({ connection: kafkaConnection(), logger, defaultPartitions: 3 });
    await second.start();
    try {
      const [a, b, c] = await Promise.all([
        admin.ensureAgentTopics(names.topic, names.agent),
        second.ensureAgentTopics(names.topic, names.agent),
        admin.ensureAgentTopics(names.topic, names.agent),
      ]);
      for (const result of [a, b, c]) expect(result.partitions).toBe(3);
      // Every topic was created by exactly one of the racers (the others saw it exist, or lost the race quietly).
      const created = [...a.created, ...b.created, ...c.created].sort();
      expect(new Set(created).size).toBe(created.length);
      for (const topic of [names.topic, names.retryTopic, names.dlqTopic]) {
        expect(await admin.topicPartitions(topic)).toBe(3);
      }
      // Plain ensureTopic races the same way.
      const other = uniqueName("race_plain");
      topics.add(other);
      const outcomes = await Promise.all([admin.ensureTopic(other), second.ensureTopic(other)]);
      expect(outcomes.filter((o) => o.created).length).toBeLessThanOrEqual(1);
      expect(await admin.topicPartitions(other)).toBe(3);
    } finally {
      await second.stop();
    }
  });

  it("grows a retry topic that has fewer partitions than the main topic", async () => {
    const names = agentFixture("grow");
    await admin.ensureAgentTopics(names.topic, names.agent, { partitions: 2 });
    await raw.createPartitions({ topicPartitions: [{ topic: names.topic, count: 4 }] });
    await waitFor("main topic grown", async () => (await admin.topicPartitions(names.topic)) === 4);
    const result = await admin.ensureAgentTopics(names.topic, names.agent);
    expect(result).toMatchObject({ partitions: 4, created: [] });
    expect(await admin.topicPartitions(names.retryTopic)).toBe(4);
    expect(await admin.topicPartitions(names.dlqTopic)).toBe(4);
  });

  it("deletes an agent's retry and DLQ topics but never its main topic; missing topics are a no-op", async () => {
    const names = agentFixture("delete");
    await admin.ensureAgentTopics(names.topic, names.agent, { partitions: 1 });
    expect(await admin.deleteAgentTopics(names.topic, names.agent, { retry: true, dlq: false })).toEqual({
      deleted: [names.retryTopic],
    });
    expect(await admin.deleteAgentTopics(names.topic, names.agent, { retry: true, dlq: true })).toEqual({
      deleted: [names.dlqTopic],
    });
    expect(await admin.deleteAgentTopics(names.topic, names.agent, { retry: true, dlq: true })).toEqual({
      deleted: [],
    });
    await waitFor("topics gone", async () => (await admin.topicPartitions(names.dlqTopic)) === undefined);
    expect(await admin.topicPartitions(names.topic)).toBe(1);
    expect(await admin.deleteTopic(names.topic)).toBe(true);
    expect(await admin.deleteTopic(names.topic)).toBe(false);
    expect(await admin.topicOffsets(names.topic)).toBeUndefined();
    expect((await errorOf(admin.deleteTopic("omnidaemon.dlq.x.y"))).code).toBe("INVALID_NAME");
  });

  it("keeps working after a topic it read is deleted behind its back (kafkajs remembers topics)", async () => {
    const names = agentFixture("stale");
    await admin.ensureAgentTopics(names.topic, names.agent, { partitions: 1 });
    // Reading offsets makes kafkajs track the topic in every later metadata refresh…
    expect(await admin.groupLag(names.groupId, [names.topic])).toMatchObject({ total: 0 });
    // …so another process deleting it would break every later call, were it not for the reconnect.
    await raw.deleteTopics({ topics: [names.topic] });
    await waitFor("topic gone", async () => !(await raw.listTopics()).includes(names.topic));
    // Several calls at once hit the stale client together; one replacement serves them all.
    const replacement = uniqueName("after_stale");
    topics.add(replacement);
    const [listed, ensured, lag] = await Promise.all([
      admin.listGroups({ prefix: names.groupId }),
      admin.ensureTopic(replacement, { partitions: 1 }),
      admin.groupLag(names.groupId, [replacement]),
    ]);
    expect(listed).toEqual([]);
    expect(ensured).toEqual({ created: true });
    expect(lag.total).toBe(0);
    expect(await admin.groupLag(names.groupId, [names.topic])).toEqual({
      groupId: names.groupId,
      partitions: [],
      total: 0,
    });
  });
});

describe("groups", () => {
  it("lists a live group with its members and their assignments", async () => {
    const names = agentFixture("groups");
    await admin.ensureAgentTopics(names.topic, names.agent, { partitions: 3 });
    const consumer = await liveConsumer(names.groupId, names.topic);

    let group: Awaited<ReturnType<BusAdmin["listGroups"]>>[number] | undefined;
    await waitFor("group is stable", async () => {
      group = (await admin.listGroups()).find((g) => g.groupId === names.groupId);
      return group?.state === "Stable";
    });
    expect(group).toEqual({
      groupId: names.groupId,
      state: "Stable",
      members: [
        {
          memberId: expect.any(String),
          clientId: "omnidaemon-test-raw",
          host: expect.any(String),
          assignments: { [names.topic]: [0, 1, 2] },
        },
      ],
    });
    // Only groups under the prefix are listed.
    expect((await admin.listGroups({ prefix: `${names.groupId}-nope` })).length).toBe(0);
    expect(await admin.describeGroup(names.groupId)).toEqual(group);

    // A live group is protected; the message says how many members are in it.
    const refused = await errorOf(admin.deleteGroup(names.groupId));
    expect(refused.code).toBe("GROUP_NOT_EMPTY");
    expect(refused.message).toContain("1 member");

    await consumer.disconnect();
    await waitFor(
      "group is empty",
      async () => (await admin.describeGroup(names.groupId)).members.length === 0,
    );
    expect(await admin.deleteGroup(names.groupId)).toBe(true);
    expect(await admin.deleteGroup(names.groupId)).toBe(false);
    expect(await admin.deleteGroup(uniqueName("never_existed"))).toBe(false);
    expect((await admin.listGroups()).some((g) => g.groupId === names.groupId)).toBe(false);
  });

  it("reports lag of a group without members, per partition and in total", async () => {
    const names = agentFixture("lag");
    await admin.ensureAgentTopics(names.topic, names.agent, { partitions: 2 });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: names.topic,
        acks: -1,
        messages: [
          ...Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: `p0-${i}` })),
          ...Array.from({ length: 3 }, (_, i) => ({ partition: 1, value: `p1-${i}` })),
        ],
      });
    } finally {
      await producer.disconnect();
    }
    // The group committed 2 records of partition 0 and left (a paused agent): committed offsets, no members.
    const member = await liveConsumer(names.groupId, names.topic);
    await member.commitOffsets([{ topic: names.topic, partition: 0, offset: "2" }]);
    await member.disconnect();
    expect((await admin.describeGroup(names.groupId)).members).toEqual([]);

    const lag = await admin.groupLag(names.groupId, [names.topic, names.retryTopic, uniqueName("missing")]);
    expect(lag).toEqual({
      groupId: names.groupId,
      partitions: [
        { topic: names.retryTopic, partition: 0, committed: null, high: "0", lag: 0 },
        { topic: names.retryTopic, partition: 1, committed: null, high: "0", lag: 0 },
        { topic: names.topic, partition: 0, committed: "2", high: "5", lag: 3 },
        { topic: names.topic, partition: 1, committed: null, high: "3", lag: 3 },
      ].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
      total: 6,
    });

    // Records deleted by retention are not lag: the group cannot read them any more.
    await admin.deleteRecordsBefore(names.topic, [{ partition: 1, offset: "2" }]);
    const after = await admin.groupLag(names.groupId, [names.topic]);
    expect(after.partitions.find((p) => p.partition === 1)).toMatchObject({ committed: null, lag: 1 });
    expect(after.total).toBe(4);
  });
});
