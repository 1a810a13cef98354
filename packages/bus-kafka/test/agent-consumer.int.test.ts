import { existsSync } from "node:fs";
import type { Admin, Kafka } from "kafkajs";
import { AgentConsumer, type AgentConsumerOptions } from "../src/engine/agent-consumer";
import type { AgentHandler, EngineObserver } from "../src/engine/types";
import { createEnvelope, type Envelope } from "../src/envelope";
import { NonRetriableError, RetryAfterError } from "../src/handler-errors";
import { HEADER } from "../src/headers";
import type { AgentNames } from "../src/naming";
import type { KafkaProducer } from "../src/producer";
import {
  committedTotal,
  delay,
  kafkaConnection,
  rawKafka,
  readTopic,
  startedProducer,
  testLogger as logger,
  waitFor,
} from "@omnidaemon/testkit";
import { createAgentTopics, deleteAgentTopics, publishMany } from "./support";

let kafka: Kafka;
let admin: Admin;
let producer: KafkaProducer;
const cleanups: Array<() => Promise<void>> = [];
// Topics are deleted once, after the producer stops: kafkajs#1622 makes a client that wrote to a deleted topic
// stall ~10 s on its next metadata refresh (the producer recovers, but every test would pay for it).
const made: AgentNames[] = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await producer.stop();
  for (const names of made) await deleteAgentTopics(admin, names);
  await admin.disconnect();
});

async function agentTopics(partitions = 12): Promise<AgentNames> {
  const names = await createAgentTopics(admin, partitions);
  made.push(names);
  return names;
}

/** A started consumer that the test's cleanup stops. Short timeouts keep group changes fast in tests. */
async function consumer(
  names: AgentNames,
  handler: AgentHandler,
  options: Partial<AgentConsumerOptions> = {},
): Promise<AgentConsumer> {
  const engine = new AgentConsumer({
    connection: kafkaConnection(),
    topic: names.topic,
    agent: names.agent,
    handler,
    publisher: producer,
    logger,
    heartbeatIntervalMs: 500,
    sessionTimeoutMs: 10_000,
    commitIntervalMs: 200,
    drainTimeoutMs: 10_000,
    ...options,
    config: { retryBackoffMs: 50, maxRetryBackoffMs: 200, ...options.config },
  });
  cleanups.push(() => engine.stop());
  await engine.start();
  return engine;
}

function ids(envelopes: Envelope[]): string[] {
  return envelopes.map((e) => e.id).sort();
}

describe("AgentConsumer against a real broker", () => {
  it("processes every published event once and commits them all", async () => {
    const names = await agentTopics();
    const seen: string[] = [];
    const engine = await consumer(names, (envelope) => {
      seen.push(envelope.id);
      return { ok: true };
    });
    const published = await publishMany(producer, names.topic, 300);
    await waitFor("all 300 processed", () => seen.length >= 300);
    await waitFor(
      "all committed",
      async () => (await committedTotal(admin, names.groupId, names.topic)) === 300,
    );
    expect(seen.sort()).toEqual(ids(published));
    expect(engine.status()).toMatchObject({ phase: "running", member: true, inFlight: 0 });
  });

  it("sends invalid records to the DLQ with the reason while later records still succeed", async () => {
    const names = await agentTopics(1);
    const seen: string[] = [];
    await consumer(names, (envelope) => void seen.push(envelope.id));
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({
      topic: names.topic,
      messages: [
        { key: "bad-1", value: "this is not json" },
        { key: "bad-2", value: JSON.stringify({ hello: 1 }) },
      ],
    });
    await raw.disconnect();
    const good = await publishMany(producer, names.topic, 5);
    await waitFor("the valid records after the invalid ones", () => seen.length === 5);
    expect(seen.sort()).toEqual(ids(good));
    // The dead letters are published while the valid records run: wait for both to land before reading.
    await waitFor("the two dead letters", async () => {
      const ends = await admin.fetchTopicOffsets(names.dlqTopic);
      return ends.reduce((sum, p) => sum + Number(p.high), 0) >= 2;
    });
    const dlq = await readTopic(names.dlqTopic);
    expect(dlq).toHaveLength(2);
    const byKey = Object.fromEntries(dlq.map((r) => [r.key, r]));
    expect(byKey["bad-1"]?.value).toBe("this is not json");
    expect(byKey["bad-1"]?.headers).toMatchObject({
      [HEADER.dlqReason]: "invalid_record",
      [HEADER.errorClass]: "InvalidEnvelope",
      [HEADER.originTopic]: names.topic,
      [HEADER.originPartition]: "0",
      [HEADER.originOffset]: "0",
    });
    expect(byKey["bad-1"]?.headers[HEADER.errorMessage]).toMatch(/not JSON/);
    expect(byKey["bad-2"]?.headers[HEADER.errorMessage]).toMatch(/invalid envelope: id/);
  });

  it("retries a flaky handler until it succeeds on attempt 3", async () => {
    const names = await agentTopics(3);
    const attempts: number[] = [];
    const done: Envelope[] = [];
    await consumer(names, (envelope, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error(`flaky ${ctx.attempt}`);
      done.push(envelope);
      return "ok";
    });
    const [event] = await publishMany(producer, names.topic, 1);
    await waitFor("success on the third attempt", () => done.length === 1);
    expect(attempts).toEqual([1, 2, 3]);
    expect(done[0]?.id).toBe(event?.id);
    expect(done[0]?.delivery_attempts).toBe(3);
    expect(await readTopic(names.dlqTopic)).toHaveLength(0);
  });

  it("dead-letters an always-failing event after exactly 1 + maxRetries attempts, with provenance", async () => {
    const names = await agentTopics(3);
    const attempts: number[] = [];
    await consumer(
      names,
      (_envelope, ctx) => {
        attempts.push(ctx.attempt);
        throw new TypeError("always broken");
      },
      { config: { maxRetries: 2 } },
    );
    const [event] = await publishMany(producer, names.topic, 1, () => ({ content: "x", key: "k1" }));
    await waitFor("a DLQ record", async () => (await readTopic(names.dlqTopic)).length === 1);
    await delay(300);
    expect(attempts).toEqual([1, 2, 3]);
    const [record] = await readTopic(names.dlqTopic);
    expect(record?.key).toBe("k1");
    expect(JSON.parse(record?.value ?? "{}")).toMatchObject({ id: event?.id, content: "x" });
    expect(record?.headers).toMatchObject({
      [HEADER.dlqReason]: "retries_exhausted",
      [HEADER.errorClass]: "TypeError",
      [HEADER.errorMessage]: "always broken",
      [HEADER.attempt]: "3",
      [HEADER.agent]: names.agent,
      [HEADER.consumerGroup]: names.groupId,
      [HEADER.originTopic]: names.topic,
    });
    expect(record?.headers[HEADER.errorStack]).toMatch(/TypeError: always broken/);
    expect(Number(record?.headers[HEADER.lastFailureAt])).toBeGreaterThanOrEqual(
      Number(record?.headers[HEADER.firstFailureAt]),
    );
  });

  it("sends NonRetriableError straight to the DLQ, and maxRetries 0 means no retry", async () => {
    const names = await agentTopics(1);
    const attempts: string[] = [];
    await consumer(
      names,
      (envelope) => {
        attempts.push(envelope.id);
        if ((envelope.content as { kind: string }).kind === "fatal") throw new NonRetriableError("bad input");
        throw new Error("transient");
      },
      { config: { maxRetries: 0 } },
    );
    await publishMany(producer, names.topic, 2, (i) => ({
      content: { kind: i === 0 ? "fatal" : "transient" },
    }));
    await waitFor("two DLQ records", async () => (await readTopic(names.dlqTopic)).length === 2);
    expect(attempts).toHaveLength(2);
    const reasons = (await readTopic(names.dlqTopic)).map((r) => r.headers[HEADER.dlqReason]).sort();
    expect(reasons).toEqual(["non_retriable", "retries_exhausted"]);
  });

  it("honours RetryAfterError's delay", async () => {
    const names = await agentTopics(1);
    const startedAt: number[] = [];
    await consumer(names, (_envelope, ctx) => {
      startedAt.push(Date.now());
      if (ctx.attempt === 1) throw new RetryAfterError(1500);
      return "ok";
    });
    await publishMany(producer, names.topic, 1);
    await waitFor("the retry", () => startedAt.length === 2);
    expect((startedAt[1] as number) - (startedAt[0] as number)).toBeGreaterThanOrEqual(1400);
  });

  it("does not hold other keys back while one key is retrying", async () => {
    const names = await agentTopics(1);
    const finished: Array<{ key: string; at: number }> = [];
    await consumer(
      names,
      (envelope, ctx) => {
        const key = envelope.correlation_id as string;
        if (key === "slow" && ctx.attempt === 1) throw new RetryAfterError(3000);
        finished.push({ key, at: Date.now() });
      },
      { config: { concurrency: 4 } },
    );
    const publishedAt = Date.now();
    await publishMany(producer, names.topic, 21, (i) => ({ correlationId: i === 0 ? "slow" : `fast-${i}` }));
    await waitFor("all events", () => finished.length === 21, 20_000);
    const fast = finished.filter((f) => f.key !== "slow");
    const slow = finished.find((f) => f.key === "slow");
    // All 20 other keys finished before the slow key's retry was even due — on the same single partition.
    expect(Math.max(...fast.map((f) => f.at))).toBeLessThan((slow?.at ?? 0) - 1000);
    expect((slow?.at ?? 0) - publishedAt).toBeGreaterThanOrEqual(2900);
  });

  it("holds a key's later events behind a failing one in strict key order mode", async () => {
    const names = await agentTopics(1);
    const order: string[] = [];
    await consumer(
      names,
      (envelope, ctx) => {
        const step = (envelope.content as { step: string }).step;
        if (step === "first" && ctx.attempt < 3) throw new Error("not yet");
        order.push(step);
      },
      { config: { strictKeyOrder: true } },
    );
    await publishMany(producer, names.topic, 2, (i) => ({
      correlationId: "conv",
      content: { step: i === 0 ? "first" : "second" },
    }));
    await waitFor("both events", () => order.length === 2);
    expect(order).toEqual(["first", "second"]);
  });

  it("reclaims a hanging handler at its deadline: the signal aborts and the attempt is retried", async () => {
    const names = await agentTopics(1);
    const aborts: unknown[] = [];
    const attempts: number[] = [];
    await consumer(
      names,
      async (_envelope, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) {
          await new Promise<void>((resolve) =>
            ctx.signal.addEventListener("abort", () => {
              aborts.push(ctx.signal.reason);
              resolve();
            }),
          );
          return "too late";
        }
        return "ok";
      },
      { config: { reclaimIdleMs: 500 } },
    );
    await publishMany(producer, names.topic, 1);
    await waitFor("second attempt", () => attempts.length === 2);
    expect((aborts[0] as Error).name).toBe("DeadlineExceededError");
    expect(attempts).toEqual([1, 2]);
  });

  it("keeps its group membership while a handler runs longer than the session timeout", async () => {
    const names = await agentTopics(2);
    const rebalances: number[] = [];
    const observer: EngineObserver = { onRebalance: ({ assigned }) => void rebalances.push(assigned) };
    const done: string[] = [];
    await consumer(
      names,
      async (envelope) => {
        await delay(8000);
        done.push(envelope.id);
      },
      { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, observer },
    );
    await publishMany(producer, names.topic, 1);
    await waitFor("the 8 s handler", () => done.length === 1, 20_000);
    await waitFor("its commit", async () => (await committedTotal(admin, names.groupId, names.topic)) === 1);
    expect(rebalances).toEqual([2]);
  }, 60_000);

  it("never overlaps same-key events while 200+ different keys run concurrently on 12 partitions", async () => {
    const names = await agentTopics(12);
    const running = new Set<string>();
    let maxConcurrent = 0;
    let overlaps = 0;
    let done = 0;
    await consumer(
      names,
      async (envelope) => {
        const key = envelope.correlation_id as string;
        if (running.has(key)) overlaps++;
        running.add(key);
        maxConcurrent = Math.max(maxConcurrent, running.size);
        await delay(300);
        running.delete(key);
        done++;
      },
      { config: { concurrency: 256 } },
    );
    // 250 distinct keys, plus 3 more events on each of 10 "hot" keys.
    await publishMany(producer, names.topic, 280, (i) => ({
      correlationId: i < 250 ? `key-${i}` : `key-${i % 10}`,
    }));
    await waitFor("all events", () => done === 280, 30_000);
    expect(overlaps).toBe(0);
    expect(maxConcurrent).toBeGreaterThanOrEqual(200);
  });

  it("gives each delivery its own workdir and removes it afterwards", async () => {
    const names = await agentTopics(1);
    const dirs: string[] = [];
    await consumer(
      names,
      (_envelope, ctx) => {
        dirs.push(ctx.workdir);
        expect(existsSync(ctx.workdir)).toBe(true);
      },
      { config: { concurrency: 4 } },
    );
    await publishMany(producer, names.topic, 4);
    await waitFor("4 deliveries", () => dirs.length === 4);
    await delay(100);
    expect(new Set(dirs).size).toBe(4);
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });

  it("dead-letters a callback result that is not JSON", async () => {
    const names = await agentTopics(1);
    await consumer(names, () => ({ when: new Date() }));
    await publishMany(producer, names.topic, 1);
    await waitFor("a DLQ record", async () => (await readTopic(names.dlqTopic)).length === 1);
    const [record] = await readTopic(names.dlqTopic);
    expect(record?.headers).toMatchObject({
      [HEADER.dlqReason]: "non_retriable",
      [HEADER.errorClass]: "ResultNotJsonError",
    });
  });

  it("publishes the result to reply_to with causation, correlation and tenant kept and no webhook", async () => {
    const names = await agentTopics(1);
    const replies = await agentTopics(1);
    await consumer(names, (envelope) => ({ echoed: envelope.content }));
    const source = createEnvelope({
      topic: names.topic,
      content: "hi",
      correlationId: "conv-1",
      tenantId: "tenant-a",
      replyTo: replies.topic,
      webhook: "https://example.test/hook",
    });
    await producer.publish(source);
    await waitFor("the reply", async () => (await readTopic(replies.topic)).length === 1);
    const [reply] = await readTopic(replies.topic);
    expect(JSON.parse(reply?.value ?? "{}")).toMatchObject({
      topic: replies.topic,
      content: { echoed: "hi" },
      causation_id: source.id,
      correlation_id: "conv-1",
      tenant_id: "tenant-a",
      webhook: null,
    });
  });

  it("spreads events over three consumers of one group, each event processed exactly once", async () => {
    const names = await agentTopics(12);
    const seen = new Map<string, number>();
    const perConsumer = [0, 0, 0];
    // Each consumer's latest share of the agent's 12 partitions, as its rebalance hook reports it.
    const shares = [0, 0, 0];
    const engines = await Promise.all(
      [0, 1, 2].map((n) =>
        consumer(
          names,
          (envelope) => {
            seen.set(envelope.id, (seen.get(envelope.id) ?? 0) + 1);
            perConsumer[n] = (perConsumer[n] ?? 0) + 1;
          },
          { observer: { onRebalance: ({ assigned }) => void (shares[n] = assigned) } },
        ),
      ),
    );
    // Let the group settle (every join changes the assignment) before publishing: all three hold a share of the
    // agent's partitions, and the shares add up to all of them.
    await waitFor(
      "a settled assignment of the 12 partitions over the three",
      () =>
        engines.every((e) => e.status().member) &&
        shares.every((share) => share > 0) &&
        shares.reduce((a, b) => a + b, 0) === 12,
      30_000,
    );
    const published = await publishMany(producer, names.topic, 600);
    await waitFor("all processed", () => seen.size === 600, 30_000);
    await delay(500);
    expect([...seen.keys()].sort()).toEqual(ids(published));
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(perConsumer.filter((count) => count > 0)).toHaveLength(3);
  }, 90_000);

  it("pause → publish → resume processes everything once, nothing skipped", async () => {
    const names = await agentTopics(3);
    const seen: string[] = [];
    const engine = await consumer(names, (envelope) => void seen.push(envelope.id));
    const before = await publishMany(producer, names.topic, 20);
    await waitFor("first batch", () => seen.length === 20);
    await engine.pause();
    expect(engine.status()).toMatchObject({ paused: true, member: false, phase: "idle" });
    const during = await publishMany(producer, names.topic, 30);
    await delay(1500);
    expect(seen).toHaveLength(20);
    await engine.resume();
    await waitFor("events published while paused", () => seen.length === 50);
    await delay(500);
    expect(seen.sort()).toEqual(ids([...before, ...during]));
  });

  it("stop drains in-flight work and commits, so a restart reprocesses nothing", async () => {
    const names = await agentTopics(3);
    const first: string[] = [];
    const engine = await consumer(
      names,
      async (envelope) => {
        await delay(200);
        first.push(envelope.id);
      },
      { config: { concurrency: 16 } },
    );
    await publishMany(producer, names.topic, 40);
    await waitFor("work in flight", () => engine.status().inFlight > 0);
    await engine.stop();
    const processedBeforeStop = first.length;
    expect(processedBeforeStop).toBeGreaterThan(0);
    const committed = await committedTotal(admin, names.groupId, names.topic);
    expect(committed).toBe(processedBeforeStop);

    const second: string[] = [];
    await consumer(names, (envelope) => void second.push(envelope.id));
    await waitFor("the rest", () => first.length + second.length === 40);
    await delay(500);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
  });
});
