// Issue 9 item 3: a delivery aborted at its deadline keeps its key, its concurrency slot and its workdir until the
// callback really settles (bounded by `abortGraceMs`), even when the callback ignores its signal.
import { existsSync } from "node:fs";
import type { Admin, Kafka } from "kafkajs";
import { AgentConsumer, type AgentConsumerOptions } from "../src/engine/agent-consumer";
import type { AgentHandler, EngineObserver } from "../src/engine/types";
import type { AgentNames } from "../src/naming";
import type { KafkaProducer } from "../src/producer";
import {
  delay,
  kafkaConnection,
  rawKafka,
  startedProducer,
  testLogger as logger,
  waitFor,
} from "@omnidaemon/testkit";
import { createAgentTopics, deleteAgentTopics, publishMany } from "./support";

let kafka: Kafka;
let admin: Admin;
let producer: KafkaProducer;
const engines: AgentConsumer[] = [];
const made: AgentNames[] = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
});

afterAll(async () => {
  await producer.stop();
  for (const names of made) await deleteAgentTopics(admin, names);
  await admin.disconnect();
});

async function started(
  handler: AgentHandler,
  options: Partial<AgentConsumerOptions> = {},
): Promise<AgentNames> {
  return (await startedEngine(handler, options)).names;
}

async function startedEngine(
  handler: AgentHandler,
  options: Partial<AgentConsumerOptions> = {},
): Promise<{ names: AgentNames; engine: AgentConsumer }> {
  const names = await createAgentTopics(admin, 1, "aborted");
  made.push(names);
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
    config: { retryBackoffMs: 20, maxRetryBackoffMs: 50, ...options.config },
  });
  engines.push(engine);
  await engine.start();
  return { names, engine };
}

interface Run {
  key: string;
  attempt: number;
  workdir: string;
  workdirExistedAtEnd: boolean;
}

describe("a delivery aborted while its callback ignores the signal", () => {
  it("keeps its key, its concurrency slot and its workdir until the callback settles", async () => {
    const runs: Run[] = [];
    const runningKeys = new Set<string>();
    const overlaps: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const names = await started(
      async (envelope, ctx) => {
        const key = envelope.correlation_id as string;
        if (runningKeys.has(key)) overlaps.push(`${key} attempt ${ctx.attempt}`);
        runningKeys.add(key);
        running++;
        maxRunning = Math.max(maxRunning, running);
        const workdir = ctx.workdir;
        // The first attempt of every event hangs for 1 s, deaf to its signal (reclaimed after 200 ms).
        if (ctx.attempt === 1) await delay(1000);
        const workdirExistedAtEnd = existsSync(workdir);
        running--;
        runningKeys.delete(key);
        runs.push({ key, attempt: ctx.attempt, workdir, workdirExistedAtEnd });
        return "done";
      },
      { config: { reclaimIdleMs: 200, concurrency: 2 } },
    );
    // Two events of key "k" plus two other keys: with concurrency 2, four first attempts that outlive their deadline.
    await publishMany(producer, names.topic, 4, (i) => ({
      correlationId: ["k", "k", "x", "y"][i] as string,
    }));
    // Every event runs twice: the reclaimed first attempt (it still returns, late) and the retry that succeeds.
    await waitFor(
      "every event's retry to finish",
      () => runs.filter((r) => r.attempt === 2).length === 4,
      30_000,
    );
    await waitFor("the first attempts to return", () => runs.filter((r) => r.attempt === 1).length === 4);

    expect(overlaps).toEqual([]);
    expect(maxRunning).toBeLessThanOrEqual(2);
    expect(runs.filter((r) => !r.workdirExistedAtEnd)).toEqual([]);
    await waitFor("every workdir removed once its callback settled", () =>
      runs.every((r) => !existsSync(r.workdir)),
    );
  }, 60_000);

  it("starts a strict-order retry in place only after the reclaimed attempt's callback settled", async () => {
    const log: string[] = [];
    const names = await started(
      async (_envelope, ctx) => {
        log.push(`start ${ctx.attempt}`);
        if (ctx.attempt === 1) await delay(1000);
        log.push(`end ${ctx.attempt}`);
        return "done";
      },
      { config: { reclaimIdleMs: 200, strictKeyOrder: true } },
    );
    await publishMany(producer, names.topic, 1);
    await waitFor("the retry to finish", () => log.includes("end 2"));
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2"]);
  }, 60_000);

  it("holds the key of a delivery aborted by a forced stop until its callback settles, across pause and resume", async () => {
    const log: string[] = [];
    const { names, engine } = await startedEngine(
      async (_envelope, ctx) => {
        log.push(`start ${ctx.attempt}`);
        // Deaf to its signal on the first run: the drain deadline (200 ms) passes and the delivery is aborted.
        if (log.length === 1) await delay(1000);
        log.push(`end ${ctx.attempt}`);
        return "done";
      },
      { drainTimeoutMs: 200 },
    );
    await publishMany(producer, names.topic, 1);
    await waitFor("the first run", () => log.length === 1);
    await engine.pause();
    await engine.resume();
    // The aborted run was not committed, so it runs again, but only after the first callback returned.
    await waitFor("the run after resume", () => log.length === 4);
    expect(log).toEqual(["start 1", "end 1", "start 1", "end 1"]);
  }, 60_000);

  it("releases the key of a callback that never settles after abortGraceMs, reporting agent and task", async () => {
    const log: string[] = [];
    const abandoned: Array<{ agent: string; taskId: string }> = [];
    const observer: EngineObserver = {
      onCallbackAbandoned: ({ agent, taskId }) => {
        abandoned.push({ agent, taskId });
        log.push("abandoned");
      },
    };
    const names = await started(
      async (envelope, ctx) => {
        const hang = (envelope.content as { hang: boolean }).hang;
        log.push(`${hang ? "hung" : "next"} attempt ${ctx.attempt}`);
        if (hang && ctx.attempt === 1) await new Promise(() => undefined); // never settles
        return "done";
      },
      { observer, abortGraceMs: 1000, config: { reclaimIdleMs: 200 } },
    );
    const [hung] = await publishMany(producer, names.topic, 2, (i) => ({
      correlationId: "same",
      content: { hang: i === 0 },
    }));
    await waitFor("both events done", () => log.includes("next attempt 1") && log.includes("hung attempt 2"));
    // The key stayed held after the deadline until the grace ran out; only then did the key's next event start.
    expect(log.slice(0, 3)).toEqual(["hung attempt 1", "abandoned", "next attempt 1"]);
    expect(abandoned).toEqual([{ agent: names.agent, taskId: hung?.id }]);
  }, 60_000);
});
