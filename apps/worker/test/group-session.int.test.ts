// The Kafka group session of a worker process (the built CLI): OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS and
// OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS are validated before anything connects, and a worker killed with SIGKILL
// loses its partitions to the survivors after the configured session timeout, not kafkajs's 30 s default.
import {
  deadCoordinatorUrl,
  fleetConnection,
  newAgent,
  newTopic,
  Publisher,
  stopAll,
  testLogger as logger,
  waitFor,
  Worker,
  workerSuite,
} from "@omnidaemon/testkit";
import { agentNames, BusAdmin } from "@omnidaemon/bus-kafka";

const suite = workerSuite();
const { leftovers } = suite;

describe("the group session settings of a worker", () => {
  it("refuse a heartbeat interval not shorter than the session timeout: exit 2 naming OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS", async () => {
    const w = new Worker({
      id: newAgent("bad-heartbeat"),
      agents: [{ topic: newTopic("badhb"), name: newAgent("badhb") }],
      coordinatorUrl: await deadCoordinatorUrl(),
      logDir: suite.log.dir,
      env: {
        OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "5000",
        OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "5000",
      },
    });
    expect(await w.proc.waitExit(20_000)).toEqual({ code: 2, signal: null });
    expect(w.proc.stderr).toMatch(
      /^omnidaemon worker: invalid configuration: OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: 5000 must be shorter than OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS \(5000\)/m,
    );
    expect(w.proc.stdout).not.toContain("worker ready");
  });

  it("a SIGKILLed worker's partitions move to the survivor after the configured session timeout (5 s), not the 30 s default, and none of its events is lost", async () => {
    const topic = newTopic("session");
    const agent = newAgent("session");
    leftovers.agent(topic, agent);
    const publisher = await new Publisher().start();
    const admin = new BusAdmin({ connection: fleetConnection(), logger });
    await admin.start();
    try {
      await publisher.ensureTopic(topic);
      const url = await deadCoordinatorUrl();
      const session = {
        OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "5000",
        OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "500",
      };
      const [survivor, victim] = ["a", "b"].map(
        (suffix) =>
          new Worker({
            id: `${agent}-${suffix}`,
            agents: [{ topic, name: agent, config: { concurrency: 4 } }],
            coordinatorUrl: url,
            logDir: suite.log.dir,
            env: session,
          }),
      ) as [Worker, Worker];
      await Promise.all([survivor.ready(), victim.ready()]);
      await publisher.waitGroupStable(topic, agent, 2);

      victim.proc.signalGroup("SIGKILL");
      expect(await victim.proc.waitExit(10_000)).toEqual({ code: null, signal: "SIGKILL" });
      // Published after the kill: about half of them land on the dead member's partitions and wait for the move.
      const ids = await publisher.publishMany(
        topic,
        Array.from({ length: 48 }, (_, i) => ({ content: { i }, key: `k${i}` })),
      );

      // Not a latency assertion: 20 s sits between the configured 5 s and the 30 s default, so the test tells
      // the two apart on a slow machine too. (Before this setting existed, the move took the full 30 s.)
      const { groupId } = agentNames(topic, agent);
      await waitFor(
        "the survivor alone to hold every partition of the topic",
        async () => {
          const group = await admin.describeGroup(groupId);
          return (
            group.state === "Stable" &&
            group.members.length === 1 &&
            (group.members[0]?.assignments[topic]?.length ?? 0) === 12
          );
        },
        20_000,
        200,
        () => survivor.proc.tail(),
      );
      await waitFor(
        "every event published after the kill",
        () => ids.every((id) => suite.log.ended(agent).has(id)),
        30_000,
        100,
      );
    } finally {
      await stopAll(15_000);
      await admin.stop();
      await publisher.stop();
    }
  });
});
