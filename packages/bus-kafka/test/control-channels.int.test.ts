import type { Admin, Kafka } from "kafkajs";
import { BusAdmin } from "../src/admin";
import { ControlFollower } from "../src/control/control-follower";
import { desiredStateRecord, type DesiredState } from "../src/control/desired-state";
import { rateHint, rateHintRecord } from "../src/control/rate-hint";
import type { RateHint } from "@omnidaemon/protocol";
import { SYSTEM_TOPICS } from "../src/naming";
import type { KafkaProducer } from "../src/producer";
import { RecordConsumer, type ConsumedRecord } from "../src/record-consumer";
import { taskEventRecord } from "../src/task-events";
import {
  kafkaConnection,
  rawKafka,
  startedProducer,
  testLogger as logger,
  uniqueName,
  waitFor,
} from "@omnidaemon/testkit";

let kafka: Kafka;
let admin: Admin;
let busAdmin: BusAdmin;
let producer: KafkaProducer;

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  busAdmin = new BusAdmin({ connection: kafkaConnection(), logger });
  await busAdmin.start();
  await busAdmin.ensureSystemTopics();
  producer = await startedProducer();
});

afterAll(async () => {
  await producer.stop();
  await busAdmin.stop();
  await admin.disconnect();
});

function state(topic: string, agent: string, value: DesiredState["state"], revision: number): DesiredState {
  return { topic, agent, state: value, revision, updated_at: new Date().toISOString(), updated_by: "test" };
}

describe("control topic", () => {
  it("is compacted and has one partition, so every worker reads one ordered log", async () => {
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: SYSTEM_TOPICS.control, configNames: ["cleanup.policy"] }],
    });
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe("compact");
    expect(await busAdmin.topicPartitions(SYSTEM_TOPICS.control)).toBe(1);
  });

  it("gives a starting follower the latest desired state before start() returns, then follows changes", async () => {
    const topic = uniqueName("ctl");
    // Followers of earlier suites' processes (a SIGKILLed worker's stays a member until its session expires) are
    // not this follower's: only groups that had no member before it started count below.
    const busyBefore = new Set(
      (await busAdmin.listGroups({ prefix: "omnidaemon.control-reader." }))
        .filter((g) => g.members.length > 0)
        .map((g) => g.groupId),
    );
    await producer.send(desiredStateRecord(state(topic, "a", "active", 1_000_001)));
    await producer.send(desiredStateRecord(state(topic, "a", "paused", 1_000_002)));
    await producer.send(desiredStateRecord(state(topic, "b", "active", 1_000_003)));
    const seen = new Map<string, string>();
    const follower = new ControlFollower({
      connection: kafkaConnection(),
      logger,
      onState: (s) => void (s.topic === topic && seen.set(s.agent, s.state)),
    });
    await follower.start();
    try {
      expect(Object.fromEntries(seen)).toEqual({ a: "paused", b: "active" });
      await producer.send(desiredStateRecord(state(topic, "a", "active", 1_000_004)));
      await waitFor("the resume", () => seen.get("a") === "active", 5000);
      // An older revision arriving late never undoes a newer one.
      await producer.send(desiredStateRecord(state(topic, "a", "paused", 1_000_000)));
      await producer.send(desiredStateRecord(state(topic, "b", "deleted", 1_000_005)));
      await waitFor("the delete", () => seen.get("b") === "deleted", 5000);
      expect(seen.get("a")).toBe("active");
      expect(follower.revisionOf(topic, "a")).toBe(1_000_004);
    } finally {
      await follower.stop();
    }
    const groups = await busAdmin.listGroups({ prefix: "omnidaemon.control-reader." });
    expect(groups.filter((g) => g.members.length > 0 && !busyBefore.has(g.groupId))).toEqual([]);
  });
});

describe("control topic: limits and rate hints (docs/rate-limits.md)", () => {
  it("passes every rate hint to onRateHint (no revision rule), a desired state's limits to onState, and skips garbage", async () => {
    const topic = uniqueName("ctl-hint");
    const hints: RateHint[] = [];
    const states: DesiredState[] = [];
    const follower = new ControlFollower({
      connection: kafkaConnection(),
      logger,
      onState: (s) => void (s.topic === topic && states.push(s)),
      onRateHint: (h) => void (h.topic === topic && hints.push(h)),
    });
    await follower.start();
    try {
      const now = Date.now();
      const first = rateHint(
        { topic, agent: "a" },
        { factor: 0.8, holdUntil: now + 5000, retryAfterMs: 5000 },
        new Date(),
        "w1",
      );
      const second = rateHint(
        { topic, agent: "a" },
        { factor: 0.64, holdUntil: now + 6000, retryAfterMs: 6000 },
        new Date(),
        "w2",
      );
      await producer.send(rateHintRecord(first));
      // Not a control record at all: logged and skipped, the follower goes on.
      await producer.send({
        topic: SYSTEM_TOPICS.control,
        key: `${topic}/a/garbage`,
        value: Buffer.from("{not json"),
      });
      await producer.send(rateHintRecord(second));
      await producer.send(
        desiredStateRecord({
          ...state(topic, "a", "active", 2_000_001),
          limits: { rateLimit: { perSecond: 50 } },
        }),
      );
      await waitFor("both hints and the state", () => hints.length === 2 && states.length === 1, 10_000);
      expect(hints.map((h) => [h.factor, h.worker_id])).toEqual([
        [0.8, "w1"],
        [0.64, "w2"],
      ]);
      expect(states[0]?.limits?.rateLimit).toMatchObject({ perSecond: 50 });
      // Hints are not desired states: the agent's revision is the state's.
      expect(follower.revisionOf(topic, "a")).toBe(2_000_001);
    } finally {
      await follower.stop();
    }
  });
});

describe("RecordConsumer", () => {
  it("hands task events over in batches and commits only after the handler resolved", async () => {
    const groupId = uniqueName("coordinator_test");
    const taskIds = Array.from({ length: 20 }, () => uniqueName("task"));
    await Promise.all(
      taskIds.map((taskId) =>
        producer.send(
          taskEventRecord({
            task_id: taskId,
            topic: "t",
            agent: "a",
            status: "completed",
            attempt: 1,
            at: new Date().toISOString(),
          }),
        ),
      ),
    );
    const handled: ConsumedRecord[] = [];
    let failOnce = true;
    const consumer = new RecordConsumer({
      connection: kafkaConnection(),
      topic: SYSTEM_TOPICS.taskEvents,
      groupId,
      logger,
      handle: async (records) => {
        // The first batch fails (Postgres down): it must come back, not be skipped.
        if (failOnce) {
          failOnce = false;
          throw new Error("database unavailable");
        }
        handled.push(...records);
      },
    });
    await consumer.start();
    try {
      await waitFor(
        "all 20 events",
        () => taskIds.every((id) => handled.some((r) => (r.value as { task_id: string }).task_id === id)),
        60_000,
      );
    } finally {
      await consumer.stop();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  });
});
