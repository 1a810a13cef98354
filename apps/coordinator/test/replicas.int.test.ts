// Several coordinator replicas on one database: they share the task-events group (every result is ingested once,
// by whichever replica owns its partition), and exactly one of them — the holder of the Postgres leader lock — runs
// the leader-only jobs; when it stops, another takes over.
import type { KafkaProducer } from "@omnidaemon/bus-kafka";
import {
  dropSchema,
  newAgent,
  newTopic,
  reportTaskEvents,
  startedProducer,
  taskEvent,
  waitFor,
} from "@omnidaemon/testkit";
import { newSchema, startCoordinator, type RunningCoordinator } from "./support";

const schema = newSchema("replicas");
const replicas: RunningCoordinator[] = [];
let producer: KafkaProducer | undefined;

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.close()));
  await producer?.stop();
  await dropSchema(schema);
});

async function leaderGauge(replica: RunningCoordinator): Promise<string | undefined> {
  const metrics = await replica.handles.registry.metrics();
  return /^omnidaemon_coordinator_leader (\d)$/m.exec(metrics)?.[1];
}

describe("coordinator replicas", () => {
  it("elect exactly one leader, hand over when it stops, and both serve every ingested result", async () => {
    for (let i = 0; i < 2; i++)
      replicas.push(await startCoordinator({ schema }, { leaderCheckIntervalMs: 200 }));
    const [a, b] = replicas as [RunningCoordinator, RunningCoordinator];
    await waitFor("exactly one leader", async () =>
      [a, b].filter((r) => r.handles.leadership.isLeader()).length === 1 ? true : undefined,
    );
    const leader = a.handles.leadership.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    expect([await leaderGauge(leader), await leaderGauge(follower)]).toEqual(["1", "0"]);

    producer = await startedProducer();
    const topic = newTopic("replicas");
    const agent = newAgent("replicas");
    const ids = Array.from({ length: 50 }, (_, i) => `${topic}-task-${i}`);
    await reportTaskEvents(
      producer,
      ids.map((task_id) => taskEvent({ task_id, topic, agent, status: "completed", result: { task_id } })),
    );
    await waitFor("every result stored", async () => {
      const found = await Promise.all(
        ids.map(async (id) => (await follower.request("GET", `/tasks/${id}`)).status === 200),
      );
      return found.every(Boolean) ? true : undefined;
    });

    await leader.close();
    await waitFor("the follower to take over", async () =>
      follower.handles.leadership.isLeader() ? true : undefined,
    );
    expect(await leaderGauge(follower)).toBe("1");
  });
});
