// The SDK's services entered by an app into its own lifecycle stack, the way the worker's main.ts does it.
import { ServiceStack } from "@omnidaemon/lifecycle";
import { kafkaBrokers, testLogger as logger, uniqueName, waitFor } from "@omnidaemon/testkit";
import { NonRetriableError, OmniDaemon } from "../src";

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
      await waitFor("both deliveries", () => seen.includes(good) && seen.includes(bad), 20_000, 25);
      // The dead letter went through the DLQ manager, which counts it at once.
      await waitFor("the DLQ depth", () => services.dlqManager.depths()[0]?.depth === 1, 20_000, 25);
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
