import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Admin, Kafka } from "kafkajs";
import { AgentConsumer } from "../src/engine/agent-consumer";
import { agentNames, type AgentNames } from "../src/naming";
import type { KafkaProducer } from "../src/producer";
import {
  committedTotal,
  onLocalStack,
  startLocalBroker,
  StopWaiting,
  stopLocalBroker,
  kafkaConnection,
  rawKafka,
  startedProducer,
  testLogger as logger,
  uniqueName,
  waitFor,
  delay,
} from "@omnidaemon/testkit";
import { deleteAgentTopics, publishMany } from "./support";
import { EngineProcess } from "./engine-process";

let kafka: Kafka;
let admin: Admin;
let producer: KafkaProducer;
let workdir: string;
// Made up front: right after a broker restart, creating a topic can fail while partition leadership settles.
let restartTopics: AgentNames | undefined;
let outageTopics: AgentNames | undefined;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
  workdir = mkdtempSync(join(tmpdir(), "omni-broker-restart-"));
  restartTopics = await agentTopics("restart");
  outageTopics = await agentTopics("outage");
});

/**
 * The agent's topics, 4 partitions each. Shortly after a broker restart the broker may answer metadata requests
 * for a just-created topic with UNKNOWN_TOPIC_OR_PARTITION (kafkajs's `waitForLeaders` gives up on that), so this
 * waits for the leaders itself.
 */
async function agentTopics(prefix: string): Promise<AgentNames> {
  const names = agentNames(uniqueName(prefix), uniqueName("agent").replace(/_/g, "-"));
  const topics = [names.topic, names.retryTopic, names.dlqTopic];
  await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((topic) => ({ topic, numPartitions: 4 })),
  });
  await waitFor("the new topics' partition leaders", async () => {
    const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
    return (
      metadata?.topics.every((t) => t.partitions.length === 4 && t.partitions.every((p) => p.leader >= 0)) ??
      false
    );
  });
  return names;
}

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

afterAll(async () => {
  await producer.stop();
  for (const names of [restartTopics, outageTopics]) {
    if (names) await deleteAgentTopics(admin, names);
  }
  await admin.disconnect();
  if (!process.env.TEST_KEEP_WORKDIR) rmSync(workdir, { recursive: true, force: true });
});

/** The admin client's connection died with the broker; a fresh one is quicker than waiting for its retries. */
async function reconnectAdmin(): Promise<void> {
  await admin.disconnect();
  admin = kafka.admin();
  await admin.connect();
}

// Restarting the broker needs the local stack's process (scripts/stack.sh), which CI and development use.
const onTheLocalStack = onLocalStack() ? it : it.skip;

onTheLocalStack(
  "keeps a consumer process up through a broker restart while back-pressure is engaged: back-pressure holds after the restart, nothing is lost, and stop() still drains and commits",
  async () => {
    const names = restartTopics as AgentNames;
    const total = 8000;
    const recordBytes = 2048;
    const maxBufferedRecords = 100;
    // 2 KiB records, so one fetch (1 MiB per partition) brings a few hundred, not the whole backlog: the backlog is
    // many fetches and many times the buffer, and fetching is paused by back-pressure most of the time.
    const pad = "x".repeat(recordBytes);
    const published = await publishMany(producer, names.topic, total, (i) => ({ content: { i, pad } }));
    // Slow callbacks (about 100 a second) while the broker goes away, so the buffer is still full when the consumer
    // crashes and back-pressure is on through the restart; fast ones afterwards.
    const delayFile = join(workdir, "delay-ms");
    writeFileSync(delayFile, "40");
    const engine = new EngineProcess({
      topic: names.topic,
      agent: names.agent,
      outFile: join(workdir, "runs.txt"),
      handlerDelayFile: delayFile,
      concurrency: 4,
      maxBufferedRecords,
    });
    stops.push(() => engine.kill("SIGKILL"));
    await engine.ready();
    // Engaged: the buffer is past its limit (kafkajs overshoots it by whole fetch responses, ten times over here;
    // the platformatic driver by at most one batch, since a pause holds back even a fetch under way).
    await waitFor(
      "back-pressure with a full buffer",
      () => engine.bufferedSamples().some((sample) => sample.buffered > maxBufferedRecords),
      60_000,
    );

    await stopLocalBroker();
    await delay(3000);
    await startLocalBroker();
    const restartedAt = Date.now();
    writeFileSync(delayFile, "2");
    await reconnectAdmin();

    const expected = new Set(published.map((e) => e.id));
    await waitFor(
      "every published id to run",
      () => {
        if (!engine.alive)
          throw new StopWaiting(`the engine process died: ${JSON.stringify(engine.proc.exit)}`);
        const seen = new Set(engine.runs().map((run) => run.id));
        return [...expected].every((id) => seen.has(id));
      },
      180_000,
      200,
    );
    expect(engine.alive).toBe(true);

    // After kafkajs restarted its consumer, back-pressure still bounds memory: the buffer never holds more than
    // its limit plus two fetches (1 MiB per partition each) — without the pauses re-applied, the whole backlog.
    const bound = maxBufferedRecords + 2 * 4 * Math.ceil((1024 * 1024) / recordBytes);
    const afterRestart = engine.bufferedSamples().filter((sample) => sample.at > restartedAt);
    expect(afterRestart.length).toBeGreaterThan(0);
    expect(Math.max(...afterRestart.map((sample) => sample.buffered))).toBeLessThanOrEqual(bound);

    const code = await engine.kill("SIGTERM");
    expect(code).toBe(0);
    expect(engine.stdout).toContain("stopped");
    expect(await committedTotal(admin, names.groupId, names.topic)).toBe(total);
  },
  300_000,
);

onTheLocalStack(
  "stop() during a broker outage (the consumer crashed) completes, leaves no phase wedged, and nothing is lost",
  async () => {
    const names = outageTopics as AgentNames;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    stops.push(async () => process.off("unhandledRejection", onUnhandled));

    const seen = new Set<string>();
    const published = await publishMany(producer, names.topic, 2000);
    const engine = new AgentConsumer({
      connection: kafkaConnection(),
      topic: names.topic,
      agent: names.agent,
      publisher: producer,
      logger,
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 6000,
      commitIntervalMs: 200,
      drainTimeoutMs: 2000,
      maxBufferedRecords: 50,
      config: { concurrency: 2 },
      handler: async (envelope) => {
        await delay(5);
        seen.add(envelope.id);
      },
    });
    await engine.start();
    await waitFor("the engine to be under way", () => seen.size >= 100);

    await stopLocalBroker();
    try {
      await waitFor("the consumer to lose its group", () => !engine.status().member, 60_000);
      await engine.stop();
      expect(engine.status()).toMatchObject({ phase: "stopped", inFlight: 0, buffered: 0, delayed: 0 });
    } finally {
      await startLocalBroker();
      await reconnectAdmin();
    }
    expect(unhandled).toEqual([]);

    // What the stopped engine did not commit is processed by the next one: nothing lost.
    const next = new AgentConsumer({
      connection: kafkaConnection(),
      topic: names.topic,
      agent: names.agent,
      publisher: producer,
      logger,
      heartbeatIntervalMs: 500,
      commitIntervalMs: 200,
      config: { concurrency: 16 },
      handler: (envelope) => void seen.add(envelope.id),
    });
    stops.push(() => next.stop());
    await next.start();
    await waitFor("every published id to run", () => published.every((e) => seen.has(e.id)), 90_000);
  },
  300_000,
);
