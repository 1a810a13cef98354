import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Admin, Kafka } from "kafkajs";
import { AgentConsumer } from "../src/engine/agent-consumer";
import type { KafkaProducer } from "../src/producer";
import {
  kafkaConnection,
  rawKafka,
  startedProducer,
  testLogger as logger,
  waitFor,
  Proc,
} from "@omnidaemon/testkit";
import { createAgentTopics, deleteAgentTopics, publishMany } from "./support";

let kafka: Kafka;
let admin: Admin;
let producer: KafkaProducer;
let child: Proc | undefined;
let workdir: string;

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = await startedProducer();
  workdir = mkdtempSync(join(tmpdir(), "omni-crash-"));
});

afterAll(async () => {
  child?.signal("SIGKILL");
  await producer.stop();
  await admin.disconnect();
  rmSync(workdir, { recursive: true, force: true });
});

function linesOf(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

it("loses no event when a consumer process is killed with SIGKILL mid-batch", async () => {
  const names = await createAgentTopics(admin, 6, "crash");
  const outFile = join(workdir, "child.txt");
  child = new Proc(
    "the child consumer",
    [
      "--import",
      "tsx",
      join(__dirname, "fixtures", "consumer-process.ts"),
      names.topic,
      names.agent,
      outFile,
      "20",
    ],
    { env: process.env, detached: false },
  );
  await child.waitForLine("ready", (line) => (line.includes("ready") ? true : undefined));

  const published = await publishMany(producer, names.topic, 600);
  await waitFor("the child to be mid-way", () => linesOf(outFile).length >= 150, 30_000);
  child.signal("SIGKILL");
  await child.exited;
  const seenByChild = new Set(linesOf(outFile));
  expect(seenByChild.size).toBeLessThan(600);

  const seenBySurvivor = new Set<string>();
  const survivor = new AgentConsumer({
    connection: kafkaConnection(),
    topic: names.topic,
    agent: names.agent,
    publisher: producer,
    logger,
    heartbeatIntervalMs: 500,
    config: { concurrency: 32 },
    handler: (envelope) => void seenBySurvivor.add(envelope.id),
  });
  await survivor.start();
  try {
    const all = new Set(published.map((e) => e.id));
    await waitFor(
      "every published id seen by the child or the survivor",
      () => [...all].every((id) => seenByChild.has(id) || seenBySurvivor.has(id)),
      60_000,
    );
    // Duplicates are only what the child finished but had not committed yet: a small window, not a replay.
    const duplicates = [...seenBySurvivor].filter((id) => seenByChild.has(id)).length;
    expect(duplicates).toBeLessThan(150);
  } finally {
    await survivor.stop();
    await producer.stop();
    await deleteAgentTopics(admin, names);
  }
}, 120_000);
