// Desired state is never guessed: an SDK that cannot read its control topic to the end in time starts its agents
// paused, and decides only once it has read it. The control topic is the test's own. It starts with an aborted
// transaction: the end a reader must reach is past the abort marker, and a read_committed reader is handed no record
// there, so catching up waits for the next record — the way a slow or unreachable topic would hold it up.
import { randomUUID } from "node:crypto";
import { desiredStateRecord, KafkaProducer } from "@omnidaemon/bus-kafka";
import { type AgentState } from "@omnidaemon/protocol";
import pino from "pino";
import { kafkaBrokers, uniqueName, waitFor, rawKafka, delay } from "@omnidaemon/testkit";
import { OmniDaemon } from "../src";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const kafka = rawKafka("sdk-desired-state-test");
let revision = Date.now() * 10;

function record(controlTopic: string, topic: string, agent: string, state: AgentState) {
  revision += 1;
  const r = desiredStateRecord(
    { topic, agent, state, revision, updated_at: new Date().toISOString(), updated_by: "test" },
    controlTopic,
  );
  return { key: r.key as string, value: r.value as Buffer };
}

describe("an SDK that cannot catch up with the control topic in time", () => {
  const admin = kafka.admin();
  const producer = new KafkaProducer({ connection: { brokers: kafkaBrokers() }, logger });
  const txProducer = kafka.producer({
    transactionalId: `sdk-desired-state-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  const controlTopic = uniqueName("sdkt_control");
  const topics = { paused: uniqueName("sdkt_held_paused"), unknown: uniqueName("sdkt_held_unknown") };
  let sdk: OmniDaemon | undefined;

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: controlTopic,
          numPartitions: 1,
          configEntries: [{ name: "cleanup.policy", value: "compact" }],
        },
      ],
    });
    await producer.start();
    await txProducer.connect();
  });

  afterAll(async () => {
    await sdk?.shutdown();
    await txProducer.disconnect();
    await producer.stop();
    await admin
      .deleteTopics({ topics: [controlTopic, topics.paused, topics.unknown] })
      .catch(() => undefined);
    await admin.disconnect();
  });

  it("starts every agent paused, then applies what the topic says: the paused agent stays paused, the agent with no record starts", async () => {
    const aborted = await txProducer.transaction();
    await aborted.send({
      topic: controlTopic,
      messages: [record(controlTopic, "sdkt_other", "other", "active")],
    });
    await aborted.abort();
    const seen: Record<string, string[]> = { paused: [], unknown: [] };

    sdk = new OmniDaemon({
      env: {
        OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
        OMNIDAEMON_COORDINATOR_URL: "http://127.0.0.1:9",
      },
      logger,
      overrides: { partitions: 3, controlTopic, controlCatchUpTimeoutMs: 1500 },
    });
    for (const which of ["paused", "unknown"] as const) {
      await sdk.registerAgent({
        topic: topics[which],
        name: "held",
        callback: async (message) => {
          seen[which]?.push(message.id);
          return null;
        },
      });
    }
    await sdk.start();

    // Not caught up: neither agent's state is known, so neither consumes.
    const states = () => Object.fromEntries(sdk!.statuses().map((s) => [s.topic, s.status.paused]));
    expect(states()).toEqual({ [topics.paused]: true, [topics.unknown]: true });
    const published = {
      paused: await sdk.publishTask({ topic: topics.paused, content: { n: 1 } }),
      unknown: await sdk.publishTask({ topic: topics.unknown, content: { n: 2 } }),
    };
    await delay(1500);
    expect(seen).toEqual({ paused: [], unknown: [] });

    // The next record (one agent paused) lets the SDK read to the end: the agent without a record is active
    // (registered, never paused), the paused one stays paused.
    await producer.send({ topic: controlTopic, ...record(controlTopic, topics.paused, "held", "paused") });
    await waitFor(
      "the agent with no record to process its event",
      () => seen.unknown?.length === 1,
      30_000,
      25,
    );
    expect(seen.unknown).toEqual([published.unknown]);
    await delay(1500);
    expect(seen.paused).toEqual([]);
    expect(states()).toEqual({ [topics.paused]: true, [topics.unknown]: false });
    expect(sdk.statuses().map((s) => [s.topic, s.desired])).toEqual(
      expect.arrayContaining([
        [topics.paused, "paused"],
        [topics.unknown, "active"],
      ]),
    );
  });
});
