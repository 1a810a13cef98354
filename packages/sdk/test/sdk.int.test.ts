import { desiredStateRecord, KafkaProducer } from "@omnidaemon/bus-kafka";
import { type Envelope } from "@omnidaemon/protocol";
import pino from "pino";
import { kafkaBrokers, uniqueName, waitFor, delay } from "@omnidaemon/testkit";
import { OmniDaemon } from "../src";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const sdks: OmniDaemon[] = [];
let producer: KafkaProducer;
let revision = Date.now() * 10;

function env(): Record<string, string> {
  // No coordinator listens here: the SDK must start, consume and stop without one (it is not on the data path).
  return {
    OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
    OMNIDAEMON_COORDINATOR_URL: "http://127.0.0.1:9",
  };
}

function sdk(): OmniDaemon {
  const instance = new OmniDaemon({
    env: env(),
    logger,
    overrides: { heartbeatIntervalMs: 500, partitions: 3 },
  });
  sdks.push(instance);
  return instance;
}

async function setDesired(topic: string, agent: string, state: "active" | "paused"): Promise<void> {
  revision += 1;
  await producer.send(
    desiredStateRecord({
      topic,
      agent,
      state,
      revision,
      updated_at: new Date().toISOString(),
      updated_by: "test",
    }),
  );
}

beforeAll(async () => {
  producer = new KafkaProducer({ connection: { brokers: kafkaBrokers() }, logger });
  await producer.start();
});

afterEach(async () => {
  for (const instance of sdks.splice(0)) await instance.shutdown();
});

afterAll(async () => {
  await producer.stop();
});

describe("OmniDaemon SDK against a real broker, with the coordinator down", () => {
  it("runs a registered agent: publishTask reaches the callback with the full envelope and a context", async () => {
    const topic = uniqueName("sdk");
    const seen: Array<{ envelope: Envelope; attempt: number }> = [];
    const daemon = sdk();
    await daemon.registerAgent({
      topic,
      name: "echo",
      callback: (envelope, ctx) => {
        seen.push({ envelope, attempt: ctx.attempt });
        return { ok: true };
      },
    });
    await daemon.start();
    const taskId = await daemon.publishTask({
      topic,
      content: { hello: "world" },
      tenantId: "t1",
      correlationId: "c1",
    });
    await waitFor("the delivery", () => seen.length === 1, 20_000, 25);
    expect(seen[0]?.envelope).toMatchObject({
      id: taskId,
      topic,
      content: { hello: "world" },
      tenant_id: "t1",
    });
    expect(seen[0]?.attempt).toBe(1);
    expect(daemon.statuses()).toEqual([
      expect.objectContaining({
        topic,
        name: "echo",
        desired: "active",
        status: expect.objectContaining({ member: true }),
      }),
    ]);
  });

  it("follows a fleet-wide pause within 3 s, reports lag while paused, and resume processes what was published meanwhile", async () => {
    const topic = uniqueName("sdk_pause");
    const seen: string[] = [];
    const daemon = sdk();
    await daemon.registerAgent({ topic, name: "worker", callback: (e) => void seen.push(e.id) });
    await daemon.start();
    await setDesired(topic, "worker", "paused");
    const pausedAt = Date.now();
    await waitFor("the pause", () => daemon.statuses()[0]?.status.paused === true, 3000, 25);
    expect(Date.now() - pausedAt).toBeLessThan(3000);
    const ids = await Promise.all([1, 2, 3].map((i) => daemon.publishTask({ topic, content: i })));
    await delay(1000);
    expect(seen).toEqual([]);
    // Lag stays visible while paused: computed from committed offsets, not from a running consumer.
    const lag = await daemon.lag(topic, "worker");
    expect(lag.reduce((sum, p) => sum + p.lag, 0)).toBe(3);
    await setDesired(topic, "worker", "active");
    await waitFor("the events published while paused", () => seen.length === 3, 20_000, 25);
    expect(seen.sort()).toEqual(ids.sort());
  });

  it("does not consume when it starts while its agent is paused", async () => {
    const topic = uniqueName("sdk_startpaused");
    await setDesired(topic, "late", "paused");
    const seen: string[] = [];
    const daemon = sdk();
    await daemon.registerAgent({ topic, name: "late", callback: (e) => void seen.push(e.id) });
    await daemon.start();
    expect(daemon.statuses()[0]).toMatchObject({
      desired: "paused",
      status: { paused: true, member: false },
    });
    await daemon.publishTask({ topic, content: "waits" });
    await delay(1500);
    expect(seen).toEqual([]);
  });

  it("shares nothing between two instances carrying the same agent: each event is processed once", async () => {
    const topic = uniqueName("sdk_two");
    const counts = new Map<string, number>();
    const definition = {
      topic,
      name: "shared",
      callback: (e: Envelope) => void counts.set(e.id, (counts.get(e.id) ?? 0) + 1),
    };
    const [a, b] = [sdk(), sdk()];
    await a.registerAgent(definition);
    await b.registerAgent(definition);
    await Promise.all([a.start(), b.start()]);
    const ids = await Promise.all(Array.from({ length: 60 }, (_, i) => a.publishTask({ topic, content: i })));
    await waitFor("all 60", () => ids.every((id) => counts.has(id)), 30_000, 25);
    await delay(500);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it("refuses to publish before start, naming what to do", async () => {
    await expect(sdk().publishTask({ topic: "t", content: 1 })).rejects.toThrow(/start\(\) first/);
  });
});
