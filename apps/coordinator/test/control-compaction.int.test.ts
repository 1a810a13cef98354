// Publication order cannot make the compacted control topic keep a stale desired state. Compaction keeps the last
// record of each key by offset, not by revision: if an older revision of an agent is published after a newer one
// (two concurrent requests, or the reconciler republishing a row it read before a change), the log cleaner leaves
// the stale one, and every worker that starts afterwards follows it. The control topic here is the test's own, made
// with tiny segments and a tiny dirty ratio so the broker's real log cleaner compacts it within seconds.
import { ControlFollower, desiredStateRecord } from "@omnidaemon/bus-kafka";
import { controlKey, type DesiredState } from "@omnidaemon/protocol";
import { PgStore } from "@omnidaemon/store-pg";
import { ControlPublisher } from "../src/services/control-publisher";
import {
  databaseUrl,
  delay,
  dropSchema,
  kafkaConnection,
  newAgent,
  newTopic,
  rawKafka,
  startedProducer,
  testLogger as logger,
  uniqueName,
  waitFor,
} from "@omnidaemon/testkit";
import { newSchema } from "./support";

/** Every record of the topic, from the beginning to its current end, by a throwaway reader. */
async function readAll(topic: string): Promise<Array<{ key: string; offset: number }>> {
  const kafka = rawKafka();
  const admin = kafka.admin();
  await admin.connect();
  const groupId = uniqueName("coord-compaction-reader");
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const records: Array<{ key: string; offset: number }> = [];
  try {
    const [end] = await admin.fetchTopicOffsets(topic);
    const last = Number(end?.high ?? 0) - 1;
    if (last < 0) return records;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          records.push({ key: message.key?.toString("utf8") ?? "", offset: Number(message.offset) });
          if (Number(message.offset) >= last) resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return records;
}

describe("the control topic under compaction", () => {
  const controlTopic = uniqueName("coordt_control");
  const schema = newSchema("compaction");
  const pg = new PgStore({ databaseUrl: databaseUrl(), schema, logger });
  const admin = rawKafka().admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: controlTopic,
          numPartitions: 1,
          configEntries: [
            { name: "cleanup.policy", value: "compact" },
            // A new segment for every record written 100 ms after the previous one: only closed segments are
            // cleaned, and the cleaner takes any log with a dirty record.
            { name: "segment.ms", value: "100" },
            { name: "min.cleanable.dirty.ratio", value: "0.001" },
            { name: "min.compaction.lag.ms", value: "0" },
            { name: "delete.retention.ms", value: "100" },
          ],
        },
      ],
    });
    await pg.start();
  });

  afterAll(async () => {
    await pg.stop();
    await dropSchema(schema);
    await admin.deleteTopics({ topics: [controlTopic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("keeps the newest revision of an agent after the log cleaner runs, even when an older revision is published after it", async () => {
    const store = pg;
    const producer = await startedProducer();
    const control = new ControlPublisher(store.agents, producer, logger, 10_000, controlTopic);
    const topic = newTopic("compaction");
    const name = newAgent("compaction");
    try {
      const registered = await store.agents.upsert({
        topic,
        name,
        description: "",
        version: null,
        tags: [],
        config: {},
      });
      const paused = await store.agents.setState(topic, name, "paused");
      if (!paused) throw new Error("setState returned no row");
      expect(paused.revision).toBeGreaterThan(registered.revision);

      // The pause is published, then the registration's row — read before the pause, published late.
      await control.publish(paused, "test");
      await control.publish(registered, "test");

      // Roll segments and wait for the cleaner: once the agent has one record left, compaction has run over it.
      const key = controlKey(topic, name);
      let filler = 0;
      await waitFor(
        "the log cleaner to compact the agent's records to one",
        async () => {
          await delay(150);
          filler += 1;
          await producer.send(
            desiredStateRecord(
              {
                topic: "coordt_filler",
                agent: "filler",
                state: "active",
                revision: filler,
                updated_at: new Date().toISOString(),
              },
              controlTopic,
            ),
          );
          return (await readAll(controlTopic)).filter((r) => r.key === key).length === 1;
        },
        90_000,
        1000,
      );

      // A worker starting now reads only what compaction kept.
      const applied: DesiredState[] = [];
      const follower = new ControlFollower({
        connection: kafkaConnection(),
        logger,
        topic: controlTopic,
        onState: (state) => void applied.push(state),
      });
      await follower.start();
      await follower.stop();
      expect(follower.caughtUp).toBe(true);
      const mine = applied.filter((s) => s.topic === topic && s.agent === name);
      expect(mine.map((s) => ({ state: s.state, revision: s.revision }))).toEqual([
        { state: "paused", revision: paused.revision },
      ]);
    } finally {
      await producer.stop();
    }
  });
});
