import { BusAdmin, agentNames } from "@omnidaemon/bus-kafka";
import pino from "pino";
import { kafkaBrokers, uniqueName } from "@omnidaemon/testkit";
import { OmniDaemon } from "../src";

describe("OmniDaemon start-up with many agents", () => {
  it("starts its agents concurrently (bounded), not each one after the previous one joined its group", async () => {
    const messages: string[] = [];
    const logger = pino(
      { level: "debug" },
      {
        write: (line: string) => {
          messages.push((JSON.parse(line) as { msg: string }).msg);
        },
      },
    );
    const daemon = new OmniDaemon({
      // No coordinator listens here: start-up does not need one.
      env: {
        OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
        OMNIDAEMON_COORDINATOR_URL: "http://127.0.0.1:9",
      },
      logger,
      overrides: { partitions: 1, agentStartConcurrency: 3 },
    });
    const topic = uniqueName("startup");
    const names = ["a", "b", "c", "d"];
    try {
      for (const name of names) {
        await daemon.registerAgent({ topic, name, callback: () => undefined });
      }
      await daemon.start();
      const starting = (upTo: number) =>
        messages.slice(0, upTo).filter((msg) => msg === "agent starting").length;
      const firstStarted = messages.indexOf("agent consumer started");
      expect(firstStarted).toBeGreaterThan(0);
      // Three agents (the bound) were on their way before the first one had joined its group; the fourth waited.
      expect(starting(firstStarted)).toBe(3);
      expect(starting(messages.length)).toBe(4);
      expect(messages.filter((msg) => msg === "agent consumer started")).toHaveLength(4);
    } finally {
      await daemon.shutdown();
      // What this test made: the topic, each agent's retry and DLQ topics, and each agent's group.
      const admin = new BusAdmin({ connection: { brokers: kafkaBrokers() } });
      await admin.start();
      try {
        for (const name of names) {
          await admin.deleteAgentTopics(topic, name, { retry: true, dlq: true });
          await admin.deleteGroup(agentNames(topic, name).groupId).catch(() => undefined);
        }
        await admin.deleteTopic(topic);
      } finally {
        await admin.stop();
      }
    }
  });
});
