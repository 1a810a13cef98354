// Fleet-wide limits, changed live (docs/rate-limits.md): PUT/DELETE /agents/{topic}/{name}/limits on a real
// coordinator (real Postgres, real Kafka) → Postgres (a new revision) → the control topic, where a follower-side
// reader decodes the agent's desired state with its limits and applies it to a Throttle; the audit log records who
// changed what. And the rate hint a worker publishes on a RetryAfterError makes the same trip between workers.
import {
  ControlFollower,
  KafkaProducer,
  SYSTEM_TOPICS,
  Throttle,
  applyControlRecord,
  rateHint,
  rateHintRecord,
} from "@omnidaemon/bus-kafka";
import { rateHintKey, type AgentLimits, type DesiredState } from "@omnidaemon/protocol";
import {
  ControlTopicReader,
  dropSchema,
  kafkaConnection,
  KafkaLeftovers,
  newAgent,
  newTopic,
  type SeenControlRecord,
  testLogger as logger,
  waitFor,
} from "@omnidaemon/testkit";
import { newSchema, startCoordinator, type RunningCoordinator } from "./support";

const schema = newSchema("limits");
const leftovers = new KafkaLeftovers();
const topic = newTopic("limits");
const agent = newAgent("writer");
const CONFIG = { maxRetries: 1, rateLimit: { perSecond: 50 }, maxInFlight: 20 };
const CONFIGURED: AgentLimits = { rateLimit: { perSecond: 50 }, maxInFlight: 20 };

let coordinator: RunningCoordinator | undefined;
let reader: ControlTopicReader | undefined;
let follower: ControlFollower | undefined;
const followed: DesiredState[] = [];
const path = `/agents/${topic}/${agent}/limits`;

/** The agent's desired state at `revision` as the control topic carries it (waits for it). */
function stateAt(revision: number): Promise<DesiredState> {
  return (reader as ControlTopicReader).waitFor(`the control record of revision ${revision}`, (seen) =>
    seen.record.kind === "desired_state" && seen.record.state.revision === revision
      ? seen.record.state
      : undefined,
  );
}

beforeAll(async () => {
  leftovers.agent(topic, agent);
  coordinator = await startCoordinator({ schema });
  const registered = await coordinator.request("POST", "/agents", {
    json: { topic, name: agent, config: CONFIG },
  });
  expect(registered.status).toBe(200);
  reader = new ControlTopicReader((key) => key.startsWith(`${topic}/`));
  await reader.start();
  // The follower every worker runs today: it must hand the limits on, and shrug off rate hints.
  follower = new ControlFollower({
    connection: kafkaConnection(),
    logger,
    onState: (state) => {
      if (state.topic === topic) followed.push(state);
    },
  });
  await follower.start();
});

afterAll(async () => {
  await follower?.stop();
  await reader?.stop();
  await coordinator?.close();
  const producer = new KafkaProducer({ connection: kafkaConnection(), logger });
  await producer.start();
  await producer.send({ topic: SYSTEM_TOPICS.control, key: rateHintKey(topic, agent), value: null });
  await producer.stop();
  await leftovers.clean();
  await dropSchema(schema);
});

describe("limits through the coordinator", () => {
  it("puts the configured limits on the control topic when the agent registers", async () => {
    const { body } = await (coordinator as RunningCoordinator).request("GET", path);
    expect(body.limits).toEqual({ configured: CONFIGURED, override: null, effective: CONFIGURED });
    const state = await stateAt(body.revision);
    expect(state).toMatchObject({ kind: "desired_state", state: "active", limits: CONFIGURED });
  });

  it("PUT changes them fleet-wide: Postgres, then the control topic, which a worker's throttle applies", async () => {
    const c = coordinator as RunningCoordinator;
    const override = { rateLimit: { perSecond: 10, burst: 5 }, maxInFlight: null };
    const sentAt = Date.now();
    const response = await c.request("PUT", path, {
      json: override,
      headers: { "x-omnidaemon-actor": "cli:ops" },
    });
    expect(response.status).toBe(200);
    const effective = { rateLimit: { perSecond: 10, burst: 5 } };
    expect(response.body.limits).toEqual({ configured: CONFIGURED, override, effective });

    const seen = await (reader as ControlTopicReader).waitFor("the new limits on the control topic", (s) =>
      s.record.kind === "desired_state" && s.record.state.revision === response.body.revision ? s : undefined,
    );
    logger.info({ ms: seen.seenAt - sentAt }, "limits change reached the control topic");
    expect(seen.record).toMatchObject({
      state: { limits: effective, updated_by: "cli:ops", state: "active" },
    });

    // What a worker does with it: its throttle (12 of 24 partitions) now enforces half of 10/s.
    const throttle = new Throttle({ limits: CONFIGURED });
    throttle.onAssignment(12, 24, Date.now());
    expect(applyControlRecord(throttle, seen.record, Date.now())).toBe("limits");
    expect(throttle.readings(Date.now())).toMatchObject({
      effectiveRatePerSecond: 10,
      workerRatePerSecond: 5,
      inFlightLimit: undefined,
    });
    // The follower workers run hands the limits on with the desired state.
    const state = await waitFor("the follower's desired state with the new limits", () =>
      followed.find((s) => s.revision === response.body.revision),
    );
    expect(state.limits).toEqual(effective);
  });

  it("records who changed the limits, and what to, in the audit log", async () => {
    const { body } = await (coordinator as RunningCoordinator).request(
      "GET",
      `/audit?topic=${topic}&agent=${agent}`,
    );
    expect(body[0]).toMatchObject({
      action: "set_limits",
      actor: "cli:ops",
      topic,
      agent,
      details: { override: { rateLimit: { perSecond: 10, burst: 5 }, maxInFlight: null } },
    });
  });

  it("keeps the override when a worker re-registers the agent with its code's config", async () => {
    const c = coordinator as RunningCoordinator;
    const again = await c.request("POST", "/agents", { json: { topic, name: agent, config: CONFIG } });
    expect(again.status).toBe(200);
    expect(again.body.limits.effective).toEqual({ rateLimit: { perSecond: 10, burst: 5 } });
    const state = await stateAt(again.body.revision);
    expect(state.limits).toEqual({ rateLimit: { perSecond: 10, burst: 5 } });
  });

  it("refuses bad limits with a 400 naming the field, and publishes nothing", async () => {
    const c = coordinator as RunningCoordinator;
    const before = (await c.request("GET", path)).body.revision;
    const response = await c.request("PUT", path, { json: { rateLimit: { perSecond: 5, perMinute: 300 } } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "invalid_input", field: "rateLimit" });
    expect((await c.request("GET", path)).body.revision).toBe(before);
  });

  it("DELETE removes the override: the configured limits go back on the control topic", async () => {
    const c = coordinator as RunningCoordinator;
    const response = await c.request("DELETE", path);
    expect(response.status).toBe(200);
    expect(response.body.limits).toEqual({ configured: CONFIGURED, override: null, effective: CONFIGURED });
    expect((await stateAt(response.body.revision)).limits).toEqual(CONFIGURED);
  });

  it("404s for an unknown agent, listing the known ones", async () => {
    const response = await (coordinator as RunningCoordinator).request(
      "PUT",
      `/agents/${topic}/nobody/limits`,
      {
        json: { maxInFlight: 1 },
      },
    );
    expect(response.status).toBe(404);
    expect(response.body.error.known).toEqual([agent]);
  });

  it("documents the routes in /openapi.json", async () => {
    const { body } = await (coordinator as RunningCoordinator).request("GET", "/openapi.json");
    expect(Object.keys(body.paths["/agents/{topic}/{name}/limits"]).sort()).toEqual(["delete", "get", "put"]);
  });
});

describe("rate hints between workers", () => {
  it("travel on the control topic under their own key: a reader decodes one and lowers its throttle", async () => {
    const now = Date.now();
    const writer = new Throttle({ limits: CONFIGURED });
    writer.onAssignment(12, 24, now);
    const hold = writer.onRetryAfter(5000, now);
    if (hold === undefined) throw new Error("the writer's throttle lowered nothing");
    const producer = new KafkaProducer({ connection: kafkaConnection(), logger });
    await producer.start();
    try {
      await producer.send(rateHintRecord(rateHint({ topic, agent }, hold, new Date(now), "worker-a")));
    } finally {
      await producer.stop();
    }
    const seen = await (reader as ControlTopicReader).waitFor("the rate hint", (s: SeenControlRecord) =>
      s.record.kind === "rate_hint" ? s : undefined,
    );
    expect(seen.key).toBe(rateHintKey(topic, agent));
    expect(seen.record).toMatchObject({
      hint: { factor: hold.factor, retry_after_ms: 5000, worker_id: "worker-a" },
    });

    const reading = new Throttle({ limits: CONFIGURED });
    reading.onAssignment(12, 24, Date.now());
    expect(applyControlRecord(reading, seen.record, Date.now())).toBe("rate_hint");
    expect(reading.readings(Date.now()).factor).toBe(hold.factor);
    // Every record on the agent's keys decoded as a control record (the hint did not break the desired state).
    expect((reader as ControlTopicReader).invalid).toEqual([]);
  });
});
