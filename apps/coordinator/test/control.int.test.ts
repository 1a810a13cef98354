// Postgres is the source of truth for desired state; the control topic follows it. A coordinator that wrote a change
// to Postgres and crashed before publishing it must not leave workers on the old state: the reconciler republishes
// at start (docs/control-plane.md, services/control-publisher.ts).
import { ControlFollower } from "@omnidaemon/bus-kafka";
import { type DesiredState } from "@omnidaemon/protocol";
import { PgStore, type AgentRecord } from "@omnidaemon/store-pg";
import {
  databaseUrl,
  dropSchema,
  kafkaConnection,
  KafkaLeftovers,
  newAgent,
  newTopic,
  testLogger as logger,
  waitFor,
} from "@omnidaemon/testkit";
import { newSchema, startCoordinator, type RunningCoordinator } from "./support";

const schema = newSchema("control");
const leftovers = new KafkaLeftovers();
const topic = newTopic("reconcile");
const pausedAgent = newAgent("paused");
const deletedAgent = newAgent("deleted");
const seen: DesiredState[] = [];
let coordinator: RunningCoordinator | undefined;
let follower: ControlFollower | undefined;
let paused: AgentRecord | undefined;
let deleted: AgentRecord | undefined;

beforeAll(async () => {
  leftovers.agent(topic, pausedAgent);
  leftovers.agent(topic, deletedAgent);
  const first = await startCoordinator({ schema });
  try {
    for (const name of [pausedAgent, deletedAgent]) {
      expect((await first.request("POST", "/agents", { json: { topic, name } })).status).toBe(200);
    }
  } finally {
    await first.close();
  }

  // What a coordinator that crashed between its Postgres write and the publish leaves behind: the new state in
  // Postgres (written the way the coordinator writes it), nothing on the control topic.
  const store = new PgStore({ databaseUrl: databaseUrl(), schema, logger });
  await store.start();
  try {
    paused = await store.agents.setState(topic, pausedAgent, "paused");
    deleted = await store.agents.setState(topic, deletedAgent, "deleted");
  } finally {
    await store.stop();
  }

  follower = new ControlFollower({
    connection: kafkaConnection(),
    logger,
    onState: (state) => {
      if (state.topic === topic) seen.push(state);
    },
  });
  await follower.start();
  coordinator = await startCoordinator({ schema });
});

afterAll(async () => {
  await follower?.stop();
  await coordinator?.close();
  await leftovers.clean();
  await dropSchema(schema);
});

test("after a restart, a pause that reached Postgres but not the control topic is republished", async () => {
  const state = await waitFor(
    "the paused state on the control topic",
    () => seen.find((s) => s.agent === pausedAgent && s.state === "paused"),
    5000,
  );
  expect(state.revision).toBe(paused?.revision);
});

// BUG (services/control-publisher.ts reconcile): it reads store.agents.list(), which leaves deleted agents out
// (store-pg's list() excludes them unless includeDeleted), so a lost "deleted" publish is never healed and workers
// keep consuming a deleted agent.
test("after a restart, a delete that reached Postgres but not the control topic is republished", async () => {
  const state = await waitFor(
    "the deleted state on the control topic",
    () => seen.find((s) => s.agent === deletedAgent && s.state === "deleted"),
    5000,
  );
  expect(state.revision).toBe(deleted?.revision);
});
