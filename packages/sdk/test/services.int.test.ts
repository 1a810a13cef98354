// The SDK's services entered by an app into its own lifecycle stack, the way the worker's main.ts does it.
import { ServiceStack } from "@omnidaemon/lifecycle";
import pino from "pino";
import { kafkaBrokers, uniqueName } from "../../../test/helpers";
import { NonRetriableError, OmniDaemon } from "../src";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("OmniDaemon's services in an app's own stack", () => {
  it("start in the app's order, run agents, hand dead letters to the DLQ manager, and stop in reverse", async () => {
    const topic = uniqueName("services");
    const daemon = new OmniDaemon({
      env: {
        OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
        OMNIDAEMON_COORDINATOR_URL: "http://127.0.0.1:9",
      },
      logger,
      dlqDepthIntervalMs: 60_000,
      overrides: { heartbeatIntervalMs: 500, partitions: 2 },
    });
    const seen: string[] = [];
    await daemon.registerAgent({
      topic,
      name: "picky",
      callback: (envelope) => {
        seen.push(envelope.id);
        if ((envelope.content as { bad?: boolean }).bad) throw new NonRetriableError("refused");
        return { ok: true };
      },
    });
    const services = daemon.services();
    expect(daemon.services()).toBe(services);
    const stack = new ServiceStack({ logger });
    try {
      await stack.enter(services.producer);
      await stack.enter(services.admin);
      await services.admin.ensureSystemTopics();
      await stack.enter(services.coordinatorLink);
      await stack.enter(services.controlFollower);
      await stack.enter(services.agents);
      await stack.enter(services.dlqManager);
      expect(daemon.statuses().map((s) => [s.name, s.status.phase])).toEqual([["picky", "running"]]);

      const good = await daemon.publishTask({ topic, content: { bad: false } });
      const bad = await daemon.publishTask({ topic, content: { bad: true } });
      await waitFor("both deliveries", () => seen.includes(good) && seen.includes(bad));
      // The dead letter went through the DLQ manager, which counts it at once.
      await waitFor("the DLQ depth", () => services.dlqManager.depths()[0]?.depth === 1);
      expect(services.dlqManager.depths()).toEqual([{ topic, agent: "picky", depth: 1 }]);
    } finally {
      await stack.close();
    }
    expect(daemon.statuses().map((s) => s.status.phase)).toEqual(["stopped"]);
  });

  it("refuses to build its services from a bad environment, naming the variable", () => {
    const daemon = new OmniDaemon({ env: { OMNIDAEMON_KAFKA_BROKERS: "" }, logger });
    expect(() => daemon.services()).toThrow(/OMNIDAEMON_KAFKA_BROKERS/);
  });
});
