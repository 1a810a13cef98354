// DlqManager against the real broker. Dead letters are written the way the engine writes them (deadLetterRecord),
// so the provenance the manager parses is the real one.
import type { Admin, Kafka } from "kafkajs";
import {
  kafkaConnection,
  rawKafka,
  readTopic,
  startedProducer,
  testLogger as logger,
  uniqueName,
} from "@omnidaemon/testkit";
import { BusAdmin } from "../src/admin";
import { DLQ_READER_GROUP_PREFIX, DlqManager } from "../src/dlq-manager";
import { compareEntries } from "../src/dlq/entry";
import { deadLetterRecord, type InboundRecord } from "../src/engine/dead-letter";
import type { DeadLetterReason } from "../src/engine/types";
import { createEnvelope, encodeEnvelope, keyOf, type Envelope } from "../src/envelope";
import { BusError } from "../src/errors";
import { HEADER } from "../src/headers";
import { agentNames, type AgentNames } from "../src/naming";
import type { KafkaProducer, Publisher } from "../src/producer";

// testTimeout in a jest project entry is not applied (it is a global option), so set it here.
jest.setTimeout(60_000);

class PaymentDeclined extends Error {
  override readonly name = "PaymentDeclined";
}

let kafka: Kafka;
let raw: Admin;
let admin: BusAdmin;
let producer: KafkaProducer;
let manager: DlqManager;
let readerGroupsBefore: Set<string>;
const fixtures: AgentNames[] = [];

beforeAll(async () => {
  kafka = rawKafka();
  raw = kafka.admin();
  await raw.connect();
  admin = new BusAdmin({ connection: kafkaConnection(), logger });
  await admin.start();
  producer = await startedProducer();
  manager = new DlqManager({ connection: kafkaConnection(), publisher: producer, logger });
  await manager.start();
  readerGroupsBefore = new Set(
    (await admin.listGroups({ prefix: DLQ_READER_GROUP_PREFIX })).map((g) => g.groupId),
  );
});

afterAll(async () => {
  // Reverse of start: the manager before the producer it publishes with.
  await manager.stop();
  await producer.stop();
  for (const names of fixtures) {
    await admin
      .deleteAgentTopics(names.topic, names.agent, { retry: true, dlq: true })
      .catch(() => undefined);
    await admin.deleteTopic(names.topic).catch(() => undefined);
  }
  await admin.stop();
  await raw.disconnect();
});

async function agent(partitions = 2): Promise<AgentNames> {
  const names = agentNames(uniqueName("dlq"), uniqueName("agent"));
  fixtures.push(names);
  await admin.ensureAgentTopics(names.topic, names.agent, { partitions });
  return names;
}

interface Failure {
  taskId: string;
  error?: Error;
  reason?: DeadLetterReason;
  attempt?: number;
  /** Source partition/offset the engine read the event from. */
  partition?: number;
  offset?: number;
  now?: number;
  value?: Buffer | null;
  key?: string | null;
}

/** Dead-letters one event exactly as the engine does, and returns the envelope. */
async function deadLetter(names: AgentNames, failure: Failure): Promise<Envelope> {
  const envelope = createEnvelope({
    topic: names.topic,
    content: { task: failure.taskId },
    id: failure.taskId,
  });
  const partition = failure.partition ?? 0;
  const offset = failure.offset ?? 7;
  const key = failure.key === undefined ? keyOf(envelope) : failure.key;
  const record: InboundRecord = {
    tp: `${names.topic}:${partition}`,
    topic: names.topic,
    partition,
    offset,
    kafkaKey: key,
    value: failure.value === undefined ? encodeEnvelope(envelope) : failure.value,
    message: {
      offset: String(offset),
      key: key === null ? null : Buffer.from(key),
      value: null,
      timestamp: String(Date.now()),
      headers: () => ({ "user-header": `u-${failure.taskId}`, [HEADER.tenantId]: "tenant-1" }),
    },
    retry: false,
    attempt: failure.attempt ?? 4,
    waits: 0,
    replays: 0,
    key: key ?? `${names.topic}:${partition}:${offset}`,
    tenant: "tenant-1",
  };
  await producer.send(
    deadLetterRecord(record, names, {
      reason: failure.reason ?? "retries_exhausted",
      error: failure.error ?? new TypeError(`boom ${failure.taskId}`),
      attempt: failure.attempt ?? 4,
      now: failure.now ?? Date.now(),
    }),
  );
  return envelope;
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

async function highWatermarks(topic: string): Promise<number> {
  const offsets = (await admin.topicOffsets(topic)) ?? [];
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

describe("list and inspect", () => {
  it("lists dead letters with the provenance the engine wrote", async () => {
    const names = await agent();
    const before = Date.now();
    const envelope = await deadLetter(names, {
      taskId: "t-1",
      partition: 1,
      offset: 42,
      attempt: 4,
      now: before,
    });
    await deadLetter(names, {
      taskId: "t-2",
      error: new PaymentDeclined("card declined"),
      reason: "non_retriable",
      attempt: 1,
    });
    await deadLetter(names, {
      taskId: "t-3",
      value: Buffer.from("not json"),
      reason: "invalid_record",
      attempt: 1,
      key: null,
    });

    const entries = await manager.list(names.topic, names.agent);
    expect(entries).toHaveLength(3);
    const first = entries.find((e) => e.taskId === "t-1");
    expect(first).toMatchObject({
      key: envelope.id,
      taskId: "t-1",
      envelope: expect.objectContaining({ id: "t-1", topic: names.topic, content: { task: "t-1" } }),
      rawValue: JSON.stringify(envelope),
      reason: "retries_exhausted",
      errorClass: "TypeError",
      errorMessage: "boom t-1",
      errorStack: expect.stringContaining("TypeError: boom t-1"),
      attempts: 4,
      sourceTopic: names.topic,
      sourcePartition: 1,
      sourceOffset: "42",
      agent: names.agent,
      consumerGroup: names.groupId,
      firstFailureAt: before,
      lastFailureAt: before,
      replayed: false,
    });
    expect(first?.headers["user-header"]).toBe("u-t-1");
    expect(first?.headers[HEADER.tenantId]).toBe("tenant-1");
    expect(entries.find((e) => e.taskId === "t-2")).toMatchObject({
      errorClass: "PaymentDeclined",
      errorMessage: "card declined",
      reason: "non_retriable",
      attempts: 1,
    });
    const invalid = entries.find((e) => e.reason === "invalid_record");
    expect(invalid).toMatchObject({
      key: null,
      rawValue: "not json",
      taskId: undefined,
      envelope: undefined,
    });

    // Filters and limits.
    expect(
      (await manager.list(names.topic, names.agent, { filter: { errorClass: "PaymentDeclined" } })).map(
        (e) => e.taskId,
      ),
    ).toEqual(["t-2"]);
    expect(await manager.list(names.topic, names.agent, { filter: { since: Date.now() + 60_000 } })).toEqual(
      [],
    );
    expect(await manager.list(names.topic, names.agent, { limit: 2 })).toHaveLength(2);
    expect((await errorOf(manager.list(names.topic, names.agent, { limit: 0 }))).field).toBe("limit");
    expect((await errorOf(manager.list(names.topic, names.agent, { filter: { since: -1 } }))).field).toBe(
      "filter.since",
    );

    // Inspect by coordinates.
    const inspected = await manager.inspect(names.topic, names.agent, invalid!.partition, invalid!.offset);
    expect(inspected).toEqual(invalid);
    const missing = await errorOf(manager.inspect(names.topic, names.agent, 0, 10_000));
    expect(missing.code).toBe("NOT_FOUND");
    expect((await errorOf(manager.inspect(names.topic, names.agent, 99, 0))).code).toBe("NOT_FOUND");
  });

  it("returns nothing for an agent whose DLQ is empty or does not exist", async () => {
    const names = await agent(1);
    expect(await manager.list(names.topic, names.agent)).toEqual([]);
    expect(await manager.list(uniqueName("nodlq"), "ghost")).toEqual([]);
    expect((await errorOf(manager.inspect(uniqueName("nodlq"), "ghost", 0, 0))).code).toBe("NOT_FOUND");
  });
});

describe("replay", () => {
  it("replays by id to the retry topic as a fresh first attempt, records it in the ledger, and refuses a second time", async () => {
    const names = await agent();
    const envelope = await deadLetter(names, { taskId: "r-1", partition: 1, offset: 5 });
    await deadLetter(names, { taskId: "r-2" });
    const [target] = (await manager.list(names.topic, names.agent)).filter((e) => e.taskId === "r-1");
    const dlqEndBefore = await highWatermarks(names.dlqTopic);

    const before = Date.now();
    const result = await manager.replay(names.topic, names.agent, { ids: ["r-1", "nope"] });
    expect(result).toMatchObject({ dryRun: false, skipped: [], notFound: ["nope"] });
    expect(result.replayed.map((e) => [e.taskId, e.replayed])).toEqual([["r-1", true]]);

    // The retry topic got the original key and value, and headers that make the engine run it now as attempt 1.
    const retried = await readTopic(names.retryTopic);
    expect(retried).toHaveLength(1);
    const [record] = retried;
    expect(record?.key).toBe(envelope.id);
    expect(record?.value).toBe(JSON.stringify(envelope));
    expect(record?.headers).toMatchObject({
      "user-header": "u-r-1",
      [HEADER.tenantId]: "tenant-1",
      [HEADER.originTopic]: names.topic,
      [HEADER.originPartition]: "1",
      [HEADER.originOffset]: "5",
      [HEADER.attempt]: "1",
      [HEADER.replayOf]: `${names.dlqTopic}:${target?.partition}:${target?.offset}`,
    });
    expect(Number(record?.headers[HEADER.notBefore])).toBeGreaterThanOrEqual(before);
    expect(Number(record?.headers[HEADER.notBefore])).toBeLessThanOrEqual(Date.now());
    for (const dropped of [
      HEADER.errorClass,
      HEADER.errorMessage,
      HEADER.errorStack,
      HEADER.dlqReason,
      HEADER.firstFailureAt,
    ]) {
      expect(record?.headers[dropped]).toBeUndefined();
    }

    // The ledger: one marker in the same DLQ partition, hidden from the list, shown as replayed.
    expect(await highWatermarks(names.dlqTopic)).toBe(dlqEndBefore + 1);
    const markers = (await readTopic(names.dlqTopic)).filter(
      (r) => r.headers[HEADER.replayedMarker] !== undefined,
    );
    expect(markers).toEqual([
      expect.objectContaining({
        partition: target?.partition,
        value: null,
        headers: { [HEADER.replayedMarker]: `${target?.partition}:${target?.offset}` },
      }),
    ]);
    const listed = await manager.list(names.topic, names.agent);
    expect(listed.map((e) => [e.taskId, e.replayed]).sort()).toEqual([
      ["r-1", true],
      ["r-2", false],
    ]);

    // A second replay is refused; force replays again.
    const again = await manager.replay(names.topic, names.agent, { ids: ["r-1"] });
    expect(again.replayed).toEqual([]);
    expect(again.skipped.map((s) => [s.entry.taskId, s.reason])).toEqual([["r-1", "already replayed"]]);
    expect((await readTopic(names.retryTopic)).length).toBe(1);
    const forced = await manager.replay(names.topic, names.agent, { ids: ["r-1"], force: true });
    expect(forced.replayed).toHaveLength(1);
    expect((await readTopic(names.retryTopic)).length).toBe(2);

    // The same ledger answers for records selected by their coordinates.
    const byOffset = await manager.replay(names.topic, names.agent, {
      offsets: [{ partition: target!.partition, offset: target!.offset }],
    });
    expect(byOffset.skipped.map((s) => s.reason)).toEqual(["already replayed"]);
  });

  it("publishes nothing on a dry run", async () => {
    const names = await agent();
    await deadLetter(names, { taskId: "d-1" });
    await deadLetter(names, { taskId: "d-2" });
    const retryEnd = await highWatermarks(names.retryTopic);
    const dlqEnd = await highWatermarks(names.dlqTopic);

    const result = await manager.replay(names.topic, names.agent, { all: true, dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.replayed.map((e) => e.taskId).sort()).toEqual(["d-1", "d-2"]);
    expect(result.replayed.every((e) => !e.replayed)).toBe(true);
    expect(await highWatermarks(names.retryTopic)).toBe(retryEnd);
    expect(await highWatermarks(names.dlqTopic)).toBe(dlqEnd);
    expect((await manager.list(names.topic, names.agent)).every((e) => !e.replayed)).toBe(true);
  });

  it("replays by filter on the error class only what matches", async () => {
    const names = await agent();
    await deadLetter(names, { taskId: "f-1", error: new PaymentDeclined("no") });
    await deadLetter(names, { taskId: "f-2", error: new RangeError("out") });
    await deadLetter(names, { taskId: "f-3", error: new PaymentDeclined("no again") });

    const result = await manager.replay(names.topic, names.agent, {
      filter: { errorClass: "PaymentDeclined" },
    });
    expect(result.replayed.map((e) => e.taskId).sort()).toEqual(["f-1", "f-3"]);
    const retried = await readTopic(names.retryTopic);
    expect(retried.map((r) => (JSON.parse(r.value ?? "{}") as { id: string }).id).sort()).toEqual([
      "f-1",
      "f-3",
    ]);
    const listed = await manager.list(names.topic, names.agent);
    expect(
      listed
        .filter((e) => e.replayed)
        .map((e) => e.taskId)
        .sort(),
    ).toEqual(["f-1", "f-3"]);
  });

  it("refuses a replay without exactly one selector, naming the field", async () => {
    const names = await agent(1);
    const none = await errorOf(manager.replay(names.topic, names.agent, {}));
    expect(none).toMatchObject({ code: "REPLAY_REFUSED", field: "all" });
    const two = await errorOf(manager.replay(names.topic, names.agent, { all: true, ids: ["x"] }));
    expect(two).toMatchObject({ code: "REPLAY_REFUSED", field: "ids" });
    const empty = await errorOf(manager.replay(names.topic, names.agent, { filter: {} }));
    expect(empty).toMatchObject({ code: "REPLAY_REFUSED", field: "filter" });
  });
});

describe("summary", () => {
  it("counts entries by error class and reason, and each replayed entry once, whatever the markers", async () => {
    const names = await agent();
    const at = Date.now() - 60_000;
    await deadLetter(names, { taskId: "s-1", error: new PaymentDeclined("no"), now: at });
    await deadLetter(names, { taskId: "s-2", error: new RangeError("out"), reason: "non_retriable" });
    await deadLetter(names, { taskId: "s-3", error: new PaymentDeclined("no again"), partition: 1 });
    await manager.replay(names.topic, names.agent, { ids: ["s-1"] });
    await manager.replay(names.topic, names.agent, { ids: ["s-1"], force: true });

    const summary = await manager.summary(names.topic, names.agent);
    expect(summary.entries).toBe(3);
    expect(summary.replayed).toBe(1);
    expect(summary.errorClasses).toEqual([
      { errorClass: "PaymentDeclined", count: 2 },
      { errorClass: "RangeError", count: 1 },
    ]);
    expect(summary.reasons).toEqual([
      { reason: "retries_exhausted", count: 2 },
      { reason: "non_retriable", count: 1 },
    ]);
    expect(summary.oldestAt).not.toBeNull();
    expect(summary.newestAt as number).toBeGreaterThanOrEqual(summary.oldestAt as number);
  });

  it("is empty for an agent whose DLQ is empty or does not exist", async () => {
    const names = await agent();
    const empty = { entries: 0, replayed: 0, errorClasses: [], reasons: [], oldestAt: null, newestAt: null };
    expect(await manager.summary(names.topic, names.agent)).toEqual(empty);
    expect(await manager.summary(uniqueName("none"), "nobody")).toEqual(empty);
  });
});

describe("a DLQ larger than one page", () => {
  const PAGE = 10;
  const TOTAL = 60;

  it("pages through list and replay: every entry replayed once, the ledger honoured across pages, at most one page published at a time", async () => {
    const names = await agent(3);
    await Promise.all(
      Array.from({ length: TOTAL }, (_, i) => deadLetter(names, { taskId: `page-${i}`, key: `k-${i}` })),
    );
    // Two entries replayed before, by the shared manager: their markers sit in the middle of the DLQ.
    const first = await manager.replay(names.topic, names.agent, { ids: ["page-3", "page-41"] });
    expect(first.replayedCount).toBe(2);

    // A publisher that counts the sends in flight at once: a page is what the replay holds in memory.
    let inFlight = 0;
    let mostInFlight = 0;
    const counting: Publisher = {
      publish: (envelope, options) => producer.publish(envelope, options),
      send: async (record) => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          await producer.send(record);
        } finally {
          inFlight--;
        }
      },
    };
    const paged = new DlqManager({
      connection: kafkaConnection(),
      publisher: counting,
      logger,
      replayChunkSize: PAGE,
      maxReportedEntries: 15,
    });
    await paged.start();
    try {
      const dry = await paged.replay(names.topic, names.agent, { all: true, dryRun: true });
      expect(dry).toMatchObject({ replayedCount: TOTAL - 2, skippedCount: 2, truncated: true });
      expect(mostInFlight).toBe(0);

      const result = await paged.replay(names.topic, names.agent, { all: true });
      expect(result).toMatchObject({
        dryRun: false,
        replayedCount: TOTAL - 2,
        skippedCount: 2,
        truncated: true,
      });
      expect(result.replayed).toHaveLength(15);
      expect(result.replayed.every((entry) => entry.replayed)).toBe(true);
      expect(result.skipped.map((s) => [s.entry.taskId, s.reason]).sort()).toEqual([
        ["page-3", "already replayed"],
        ["page-41", "already replayed"],
      ]);
      expect(mostInFlight).toBeGreaterThan(0);
      expect(mostInFlight).toBeLessThanOrEqual(PAGE);

      // Every dead letter reached the retry topic exactly once.
      const retried = (await readTopic(names.retryTopic)).map((r) => r.key);
      expect(retried.sort()).toEqual(Array.from({ length: TOTAL }, (_, i) => `k-${i}`).sort());

      // The ledger now covers everything, across pages and partitions.
      const again = await paged.replay(names.topic, names.agent, { all: true });
      expect(again).toMatchObject({ replayedCount: 0, skippedCount: TOTAL });
      const byId = await paged.replay(names.topic, names.agent, { ids: ["page-59", "nope"], force: true });
      expect(byId).toMatchObject({ replayedCount: 1, notFound: ["nope"], truncated: false });

      // A list keeps only the oldest `limit` entries (by the time they were dead-lettered), with their ledger state.
      const everything = await paged.list(names.topic, names.agent, { limit: 1000 });
      expect(everything).toHaveLength(TOTAL);
      expect([...everything].sort(compareEntries)).toEqual(everything);
      const oldest = await paged.list(names.topic, names.agent, { limit: 25 });
      expect(oldest).toEqual(everything.slice(0, 25));
      expect(oldest.every((e) => e.replayed)).toBe(true);
    } finally {
      await paged.stop();
    }
  });
});

describe("purge", () => {
  it("empties the DLQ, markers included", async () => {
    const names = await agent();
    await deadLetter(names, { taskId: "p-1" });
    await deadLetter(names, { taskId: "p-2" });
    await manager.replay(names.topic, names.agent, { ids: ["p-1"] });

    expect(await manager.purge(names.topic, names.agent)).toEqual({ deleted: 3 });
    expect(await manager.list(names.topic, names.agent)).toEqual([]);
    expect(await manager.purge(names.topic, names.agent)).toEqual({ deleted: 0 });
    expect(await manager.purge(uniqueName("nodlq"), "ghost")).toEqual({ deleted: 0 });

    // New dead letters after a purge are listed as usual.
    await deadLetter(names, { taskId: "p-3" });
    expect((await manager.list(names.topic, names.agent)).map((e) => e.taskId)).toEqual(["p-3"]);
  });
});

describe("lifecycle", () => {
  it("leaves no reader groups behind", async () => {
    const after = (await admin.listGroups({ prefix: DLQ_READER_GROUP_PREFIX })).map((g) => g.groupId);
    expect(after.filter((groupId) => !readerGroupsBefore.has(groupId))).toEqual([]);
  });

  it("refuses work before start and after stop; stop is idempotent and safe before start", async () => {
    const fresh = new DlqManager({ connection: kafkaConnection(), publisher: producer, logger });
    expect((await errorOf(fresh.list("a", "b"))).code).toBe("NOT_STARTED");
    await Promise.all([fresh.stop(), fresh.stop()]);

    const other = new DlqManager({ connection: kafkaConnection(), publisher: producer, logger });
    await Promise.all([other.start(), other.start()]);
    // A read in progress when stop() is called ends (with its entries or STOPPED) and closes its consumer.
    const names = await agent(1);
    await deadLetter(names, { taskId: "s-1" });
    const reading = other.list(names.topic, names.agent).then(
      (entries) => entries.length,
      (error: unknown) => (error as BusError).code,
    );
    await other.stop();
    expect([1, "STOPPED"]).toContain(await reading);
    await other.stop();
    expect((await errorOf(other.list("a", "b"))).code).toBe("STOPPED");
  });
});
