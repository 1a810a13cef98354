import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Admin, Kafka } from "kafkajs";
import type { KafkaProducer } from "../src/producer";
import { EngineProcess } from "./engine-process";
import { localBroker, restartLocalBroker } from "./local-broker";
import {
  committedTotal,
  createAgentTopics,
  deleteAgentTopics,
  publishMany,
  rawKafka,
  startedProducer,
  waitFor,
} from "./support";

let kafka: Kafka;
let admin: Admin;
let producer: KafkaProducer;
let workdir: string;
let engine: EngineProcess | undefined;

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
  workdir = mkdtempSync(join(tmpdir(), "omni-broker-restart-"));
});

afterAll(async () => {
  await engine?.kill("SIGKILL");
  await producer.stop();
  await admin.disconnect();
  if (!process.env.TEST_KEEP_WORKDIR) rmSync(workdir, { recursive: true, force: true });
});

// Restarting the broker needs the local stack's process (scripts/stack.sh), which CI and development use.
const onLocalStack = localBroker() ? it : it.skip;

onLocalStack(
  "keeps a consumer process up through a broker restart while back-pressure is engaged: nothing lost, and stop() still drains and commits",
  async () => {
    const names = await createAgentTopics(admin, 4, "restart");
    const total = 8000;
    // 2 KiB records, so one fetch (1 MiB per partition) brings a few hundred, not the whole backlog: the backlog is
    // many fetches and many times the buffer, and fetching is paused by back-pressure most of the time.
    const pad = "x".repeat(2048);
    const published = await publishMany(producer, names.topic, total, (i) => ({ content: { i, pad } }));
    engine = new EngineProcess({
      topic: names.topic,
      agent: names.agent,
      outFile: join(workdir, "runs.txt"),
      handlerDelayMs: 5,
      concurrency: 4,
      maxBufferedRecords: 100,
    });
    const running = engine;
    await running.ready();
    await waitFor("the engine to be under way", () => running.runs().length >= 300, 60_000);

    await restartLocalBroker(3000);
    // The admin client's connection died with the broker; a fresh one is quicker than waiting for its retries.
    await admin.disconnect();
    admin = kafka.admin();
    await admin.connect();

    const expected = new Set(published.map((e) => e.id));
    await waitFor(
      "every published id to run",
      () => {
        if (!running.alive) throw new Error(`the engine process died: ${running.child.exitCode}`);
        const seen = new Set(running.runs().map((run) => run.id));
        return [...expected].every((id) => seen.has(id));
      },
      180_000,
      200,
    );
    expect(running.alive).toBe(true);

    const code = await running.kill("SIGTERM");
    expect(code).toBe(0);
    expect(running.stdout).toContain("stopped");
    expect(await committedTotal(admin, names.groupId, names.topic)).toBe(total);
    await deleteAgentTopics(admin, names);
  },
  300_000,
);
