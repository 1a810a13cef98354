// A record the broker will never accept (missing topic, too large) must fail alone, quickly, and not hold up the
// records of other callers that share the producer. Real broker with auto.create.topics.enable=false.
import type { Admin, Kafka } from "kafkajs";
import {
  committedTotal,
  createTopics,
  delay,
  kafkaConnection,
  rawKafka,
  readTopic,
  startedProducer,
  testLogger as logger,
  uniqueName,
  waitFor,
} from "@omnidaemon/testkit";
import { createAgentTopics, deleteAgentTopics, publishMany } from "./support";
import { AgentConsumer } from "../src/engine/agent-consumer";
import type { AgentHandler, EngineObserver } from "../src/engine/types";
import { createEnvelope, type Envelope } from "../src/envelope";
import { BusError } from "../src/errors";
import { HEADER } from "../src/headers";
import type { AgentNames } from "../src/naming";
import type { KafkaProducer } from "../src/producer";

let kafka: Kafka;
let admin: Admin;
/** The worker's producer: shared by every engine of the test, as in one worker process. */
let producer: KafkaProducer;
/** The test's own publisher, so that feeding events never depends on the producer under test. */
let feeder: KafkaProducer;
const engines: AgentConsumer[] = [];
const made: AgentNames[] = [];
const extraTopics: string[] = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
  feeder = await startedProducer();
});

afterEach(async () => {
  for (const engine of engines.splice(0).reverse()) await engine.stop();
});

afterAll(async () => {
  await producer.stop();
  await feeder.stop();
  for (const names of made) await deleteAgentTopics(admin, names);
  await admin.deleteTopics({ topics: extraTopics }).catch(() => undefined);
  await admin.disconnect();
});

async function agentTopics(partitions = 3): Promise<AgentNames> {
  const names = await createAgentTopics(admin, partitions, "pubfail");
  made.push(names);
  return names;
}

/** A topic whose records may be at most `maxMessageBytes` (the broker's own limit, not ours). */
async function smallTopic(maxMessageBytes: number): Promise<string> {
  const topic = uniqueName("small");
  await createTopics(admin, [
    {
      topic,
      numPartitions: 1,
      configEntries: [{ name: "max.message.bytes", value: String(maxMessageBytes) }],
    },
  ]);
  extraTopics.push(topic);
  return topic;
}

async function engine(
  names: AgentNames,
  handler: AgentHandler,
  observer: EngineObserver = {},
): Promise<AgentConsumer> {
  const consumer = new AgentConsumer({
    connection: kafkaConnection(),
    topic: names.topic,
    agent: names.agent,
    handler,
    publisher: producer,
    logger,
    observer,
    heartbeatIntervalMs: 500,
    sessionTimeoutMs: 10_000,
    commitIntervalMs: 200,
    drainTimeoutMs: 10_000,
    config: { retryBackoffMs: 50, maxRetryBackoffMs: 200 },
  });
  engines.push(consumer);
  await consumer.start();
  return consumer;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error("expected a rejection, got an acknowledgement"),
    (error: unknown) => error,
  );
}

describe("KafkaProducer: a record the broker cannot accept fails alone", () => {
  it("rejects a record for a missing topic as non-retriable while the records published with it are acknowledged", async () => {
    const good = await agentTopics(3);
    await producer.publish(createEnvelope({ topic: good.topic, content: "warm-up" }));
    const missing = uniqueName("missing");
    const others = Array.from({ length: 50 }, (_, i) =>
      producer.publish(createEnvelope({ topic: good.topic, content: { i } })),
    );
    const poison = rejection(producer.publish(createEnvelope({ topic: missing, content: "x" })));
    const more = Array.from({ length: 50 }, (_, i) =>
      producer.publish(createEnvelope({ topic: good.topic, content: { j: i } })),
    );
    await expect(Promise.all([...others, ...more])).resolves.toHaveLength(100);
    const error = await poison;
    expect(error).toBeInstanceOf(BusError);
    expect(error).toMatchObject({ code: "PUBLISH_REJECTED", retriable: false, field: "topic" });
    expect((error as Error).message).toContain(missing);
  });

  it("sends a record whose topic is created while it waits (within unknownTopicWaitMs)", async () => {
    const topic = uniqueName("late");
    const sent = producer.send({ topic, key: "k", value: Buffer.from("late") });
    await delay(500);
    await createTopics(admin, [{ topic, numPartitions: 1 }]);
    extraTopics.push(topic);
    await expect(sent).resolves.toBeUndefined();
    expect((await readTopic(topic)).map((r) => r.value)).toEqual(["late"]);
  });

  it("rejects a record larger than its topic's max.message.bytes without failing the other records of its batch", async () => {
    const good = await agentTopics(3);
    const small = await smallTopic(2048);
    const keys = { [good.topic]: [] as string[], [small]: [] as string[] };
    const record = (topic: string, bytes: number): Promise<void> => {
      const key = uniqueName("k");
      keys[topic]?.push(key);
      return producer.send({ topic, key, value: Buffer.alloc(bytes, 120) });
    };
    // Both topics known first, so that everything below is queued together and leaves in one request.
    await Promise.all([record(good.topic, 100), record(small, 100)]);
    const fine = [
      ...Array.from({ length: 40 }, () => record(good.topic, 100)),
      ...Array.from({ length: 5 }, () => record(small, 100)),
    ];
    const poison = rejection(
      producer.send({ topic: small, key: "poison", value: Buffer.alloc(10_000, 120) }),
    );
    fine.push(...Array.from({ length: 40 }, () => record(good.topic, 100)));
    await expect(Promise.all(fine)).resolves.toHaveLength(85);
    expect(await poison).toMatchObject({ code: "PUBLISH_REJECTED", retriable: false, field: "topic" });
    // Every acknowledged record is really there (a re-sent batch may add duplicates, never lose one).
    for (const topic of [good.topic, small]) {
      const stored = new Set((await readTopic(topic)).map((r) => r.key));
      expect(keys[topic]?.filter((key) => !stored.has(key))).toEqual([]);
      expect(stored.has("poison")).toBe(false);
    }
  });
});

describe("KafkaProducer: stop() while records wait for their topic", () => {
  it("returns, and rejects the waiting record instead of leaving its caller hanging", async () => {
    const own = await startedProducer();
    const waiting = rejection(own.send({ topic: uniqueName("missing"), key: null, value: Buffer.from("x") }));
    await own.stop();
    expect(await waiting).toBeInstanceOf(BusError);
    expect(await waiting).toMatchObject({ retriable: false });
  });
});

describe("AgentConsumer: a poison reply or follow-up publish does not stall the worker", () => {
  const poisons: Array<[string, () => Promise<{ replyTo: string; result: unknown; brokerError: string }>]> = [
    [
      "a reply_to naming a topic that does not exist",
      async () => ({
        replyTo: uniqueName("no-such-topic"),
        result: { ok: true },
        brokerError: "UNKNOWN_TOPIC",
      }),
    ],
    [
      "a reply larger than the reply topic's max.message.bytes",
      async () => ({
        replyTo: await smallTopic(2048),
        result: { text: "x".repeat(20_000) },
        brokerError: "MESSAGE_TOO_LARGE",
      }),
    ],
  ];

  it.each(poisons)(
    "%s dead-letters that task with the reason while another agent's steady traffic all completes",
    async (_kind, makePoison) => {
      const poisoned = await agentTopics(1);
      const steady = await agentTopics(3);
      const steadyReplies = await agentTopics(3);
      const poison = await makePoison();
      const reported: string[] = [];
      await engine(poisoned, () => poison.result, {
        onSucceeded: () => void reported.push("succeeded"),
        onFailed: ({ outcome }) => void reported.push(`failed:${outcome}`),
      });
      const steadySeen = new Set<string>();
      await engine(steady, (envelope) => {
        steadySeen.add(envelope.id);
        return { echoed: envelope.content };
      });

      const poisonEvent = createEnvelope({
        topic: poisoned.topic,
        content: "poison",
        replyTo: poison.replyTo,
      });
      await feeder.publish(poisonEvent);
      // Steady traffic of the other agent, each event with a reply through the same (worker) producer.
      const steadyEvents: Envelope[] = [];
      for (let round = 0; round < 20; round++) {
        const batch = Array.from({ length: 10 }, (_, i) =>
          createEnvelope({ topic: steady.topic, content: { round, i }, replyTo: steadyReplies.topic }),
        );
        await Promise.all(batch.map((e) => feeder.publish(e)));
        steadyEvents.push(...batch);
        await delay(100);
      }

      await waitFor(
        "every steady event done (reply acknowledged and offset committed)",
        async () => (await committedTotal(admin, steady.groupId, steady.topic)) === steadyEvents.length,
      );
      expect(steadySeen.size).toBe(steadyEvents.length);
      const replies = await readTopic(steadyReplies.topic);
      const answered = new Set(replies.map((r) => (JSON.parse(r.value ?? "{}") as Envelope).causation_id));
      expect(steadyEvents.filter((e) => !answered.has(e.id))).toEqual([]);

      await waitFor(
        "the poison task in the DLQ",
        async () => (await readTopic(poisoned.dlqTopic)).length >= 1,
      );
      const [dead] = await readTopic(poisoned.dlqTopic);
      expect(JSON.parse(dead?.value ?? "{}")).toMatchObject({ id: poisonEvent.id });
      expect(dead?.headers).toMatchObject({
        [HEADER.dlqReason]: "non_retriable",
        [HEADER.errorClass]: "ReplyRejectedError",
      });
      expect(dead?.headers[HEADER.errorMessage]).toContain(poison.replyTo);
      expect(dead?.headers[HEADER.errorMessage]).toContain(poison.brokerError);
      await waitFor(
        "the poison task's offset committed",
        async () => (await committedTotal(admin, poisoned.groupId, poisoned.topic)) === 1,
      );
      // Reported as dead-lettered only: a "completed" report would be final and hide the failure.
      expect(reported).toEqual(["failed:dead_letter"]);
    },
  );

  it("ctx.publish to a missing topic rejects with a clear, non-retriable error the callback can handle", async () => {
    const names = await agentTopics(1);
    const missing = uniqueName("no-such-follow-up");
    const errors: unknown[] = [];
    await engine(names, async (_envelope, ctx) => {
      try {
        await ctx.publish({ topic: missing, content: "next" });
      } catch (error) {
        errors.push(error);
      }
      return { handled: true };
    });
    await publishMany(feeder, names.topic, 1);
    await waitFor("the callback saw the publish fail", () => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(BusError);
    expect(errors[0]).toMatchObject({ code: "PUBLISH_REJECTED", retriable: false, field: "topic" });
    expect((errors[0] as Error).message).toContain(missing);
    await waitFor(
      "the task completed and committed",
      async () => (await committedTotal(admin, names.groupId, names.topic)) === 1,
    );
  });
});
