// /health on a real coordinator as workers come and go and as Postgres goes away and comes back: the coordinator
// reaches Postgres through a TCP proxy the test breaks, so the shared server is never touched. Kafka going away is
// not simulated: that would mean stopping the broker every other suite shares.
import type { KafkaProducer } from "@omnidaemon/bus-kafka";
import {
  connectionRefused,
  connectionsNamed,
  databaseUrlWith,
  delay,
  dropSchema,
  httpRequest,
  KafkaLeftovers,
  newAgent,
  newTopic,
  PostgresProxy,
  reportTaskEvents,
  startedProducer,
  taskEvent,
  uniqueName,
  waitFor,
} from "@omnidaemon/testkit";
import { newSchema, startCoordinator, type RunningCoordinator } from "./support";

const HEARTBEAT_TIMEOUT_MS = 1500;

/** A worker as the coordinator sees one: registers over HTTP and heartbeats its consumers until stopped. */
class FakeWorker {
  readonly id = `int-${uniqueName("worker").replace(/_/g, "-")}`;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly coordinator: RunningCoordinator,
    private agents: Array<{ topic: string; name: string }>,
  ) {}

  private statuses() {
    return this.agents.map((agent) => ({
      ...agent,
      status: "running",
      member: true,
      assigned_partitions: 12,
      in_flight: 0,
    }));
  }

  async start(): Promise<void> {
    const response = await this.coordinator.request("POST", "/v1/workers", {
      json: { id: this.id, host: "int-host", pid: process.pid, version: "0.1.0", agents: this.statuses() },
    });
    expect(response.status).toBe(200);
    this.running = true;
    // One heartbeat at a time, well inside the timeout; failures (Postgres down) are retried next round.
    this.loop = (async () => {
      while (this.running) {
        await this.coordinator
          .request("PUT", `/v1/workers/${this.id}/heartbeat`, { json: { agents: this.statuses() } })
          .catch(() => undefined);
        await delay(200);
      }
    })();
  }

  consume(agents: Array<{ topic: string; name: string }>): void {
    this.agents = agents;
  }

  /** Stops heartbeating without deregistering: a crashed worker. */
  async crash(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

async function health(coordinator: RunningCoordinator) {
  const started = Date.now();
  const response = await coordinator.request("GET", "/health");
  return { ...response, elapsedMs: Date.now() - started };
}

describe("health moves through ready → running → stopped → degraded → down → recovers", () => {
  const schema = newSchema("health");
  const leftovers = new KafkaLeftovers();
  const proxy = new PostgresProxy();
  const topic = newTopic("health");
  const agentA = newAgent("alpha");
  const agentB = newAgent("beta");
  let coordinator: RunningCoordinator;
  let producer: KafkaProducer;
  let worker: FakeWorker | undefined;
  let taskDuringOutage: string | undefined;

  beforeAll(async () => {
    const databaseUrl = await proxy.listen();
    coordinator = await startCoordinator({ schema, databaseUrl, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS });
    producer = await startedProducer();
    leftovers.agent(topic, agentA);
    leftovers.agent(topic, agentB);
  });

  afterAll(async () => {
    proxy.restore();
    await worker?.crash();
    await coordinator?.close();
    await producer?.stop();
    await proxy.close();
    await leftovers.clean();
    await dropSchema(schema);
  });

  test("a fresh schema is ready: no agents, Kafka and Postgres answer", async () => {
    const report = await health(coordinator);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      status: "ready",
      kafka: { ok: true },
      postgres: { ok: true },
      agents: [],
      workers: [],
      uptime_seconds: null,
      registered_agents: 0,
      active_consumers: 0,
    });
  });

  test("an agent with no live worker is stopped; a live worker consuming it makes it running", async () => {
    expect((await coordinator.request("POST", "/agents", { json: { topic, name: agentA } })).status).toBe(
      200,
    );
    expect((await health(coordinator)).body.status).toBe("stopped");

    worker = new FakeWorker(coordinator, [{ topic, name: agentA }]);
    await worker.start();
    const report = await health(coordinator);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      status: "running",
      agents: [{ topic, name: agentA, state: "active", live_consumers: 1 }],
      workers: [{ id: worker.id, host: "int-host", pid: process.pid }],
      registered_agents: 1,
      active_consumers: 1,
    });
    expect(report.body.uptime_seconds).toEqual(expect.any(Number));
  });

  test("a worker that stops heartbeating stops counting after the heartbeat timeout: stopped", async () => {
    await worker?.crash();
    const crashedAt = Date.now();
    await waitFor(
      "status stopped",
      async () => (await health(coordinator)).body.status === "stopped",
      HEARTBEAT_TIMEOUT_MS + 3000,
      50,
    );
    // Not at once: the worker counted until its heartbeat deadline passed.
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_MS - 500);
    const report = await health(coordinator);
    expect(report.body).toMatchObject({ workers: [], uptime_seconds: null, active_consumers: 0 });
    // The worker is still registered, just not live.
    const workers = await coordinator.request("GET", "/v1/workers");
    expect(workers.body.find((w: { id: string }) => w.id === worker?.id)).toMatchObject({ live: false });
  });

  test("two active agents with a live worker covering only one: degraded", async () => {
    expect((await coordinator.request("POST", "/agents", { json: { topic, name: agentB } })).status).toBe(
      200,
    );
    worker = new FakeWorker(coordinator, [{ topic, name: agentA }]);
    await worker.start();
    const report = await health(coordinator);
    expect(report.status).toBe(200);
    expect(report.body.status).toBe("degraded");
    expect(report.body.agents).toEqual(
      expect.arrayContaining([
        { topic, name: agentA, state: "active", live_consumers: 1 },
        { topic, name: agentB, state: "active", live_consumers: 0 },
      ]),
    );
    expect(report.body).toMatchObject({ registered_agents: 2, active_consumers: 1 });

    // Covering both makes it running again; pausing the uncovered one too.
    worker.consume([
      { topic, name: agentA },
      { topic, name: agentB },
    ]);
    await waitFor("status running", async () => (await health(coordinator)).body.status === "running");
    worker.consume([{ topic, name: agentA }]);
    await waitFor("status degraded", async () => (await health(coordinator)).body.status === "degraded");
    await coordinator.request("POST", `/agents/${topic}/${agentB}/unsubscribe`);
    expect((await health(coordinator)).body.status).toBe("running");
    await coordinator.request("POST", `/agents/${topic}/${agentB}/resume`);
    expect((await health(coordinator)).body.status).toBe("degraded");
  });

  test("Postgres unreachable: /health answers 503 down with a postgres error within 5 s", async () => {
    const published = await coordinator.request("POST", "/tasks", { json: { topic, content: { n: 1 } } });
    expect(published.status).toBe(200);
    taskDuringOutage = published.body.task_id as string;

    // A hung Postgres (partition): connections are accepted and never answered.
    proxy.break("blackhole");
    const hung = await health(coordinator);
    expect(hung.status).toBe(503);
    expect(hung.elapsedMs).toBeLessThan(5000);
    expect(hung.body).toMatchObject({
      status: "down",
      kafka: { ok: true },
      postgres: { ok: false, error: expect.stringMatching(/postgres/i) },
    });

    // A stopped Postgres: every connection is refused.
    proxy.break("refuse");
    const refused = await health(coordinator);
    expect(refused.status).toBe(503);
    expect(refused.elapsedMs).toBeLessThan(5000);
    expect(refused.body).toMatchObject({
      status: "down",
      kafka: { ok: true },
      postgres: { ok: false, error: expect.any(String) },
    });

    const ready = await coordinator.request("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: "not_ready", postgres: { ok: false } });
    expect((await coordinator.request("GET", "/livez")).status).toBe(200);

    // Workers keep reporting through Kafka while Postgres is away.
    await reportTaskEvents(producer, [
      taskEvent({ task_id: taskDuringOutage, topic, agent: agentA, status: "processing" }),
      taskEvent({
        task_id: taskDuringOutage,
        topic,
        agent: agentA,
        status: "completed",
        duration_ms: 42,
        result: { ok: true },
      }),
    ]);
  });

  // BUG (http/errors.ts toErrorResponse): a StoreError (Postgres UNAVAILABLE) or a BusError (Kafka) is not a
  // CoordinatorError, so it maps to 500 "internal" instead of the documented 503 "unavailable".
  test("while Postgres is down, routes that need it answer 503 unavailable, not 500", async () => {
    expect(proxy.mode).toBe("refuse");
    const agents = await coordinator.request("GET", "/agents");
    expect(agents.status).toBe(503);
    expect(agents.body.error.code).toBe("unavailable");
  });

  test("Postgres back: health recovers without restarting the coordinator, and no task event was lost", async () => {
    const restoredAt = Date.now();
    proxy.restore();
    await waitFor(
      "health no longer down",
      async () => ((await health(coordinator)).status === 200 ? true : undefined),
      20_000,
      200,
    );
    const recoveredMs = Date.now() - restoredAt;
    expect(recoveredMs).toBeLessThan(20_000);
    // Heartbeats resume too, so the fleet is as it was before the outage.
    await waitFor(
      "status degraded again",
      async () => (await health(coordinator)).body.status === "degraded",
    );
    const report = await health(coordinator);
    expect(report.body).toMatchObject({ kafka: { ok: true }, postgres: { ok: true }, registered_agents: 2 });
    expect((await coordinator.request("GET", "/readyz")).status).toBe(200);

    // The task events reported during the outage were held in Kafka and folded in once Postgres answered.
    const task = await waitFor(
      "the task reported during the outage",
      async () => {
        const response = await coordinator.request("GET", `/tasks/${taskDuringOutage}`);
        return response.body?.records?.[0]?.status === "completed" ? response.body : undefined;
      },
      60_000,
      250,
    );
    expect(task.records).toEqual([
      expect.objectContaining({ agent: agentA, status: "completed", result: { ok: true }, duration_ms: 42 }),
    ]);
  });
});

describe("shutdown", () => {
  test("after stack.close() the HTTP port refuses connections and the schema's Postgres connections are gone", async () => {
    const schema = newSchema("shutdown");
    // pg lets the URL's parameters win, so this coordinator's connections are the only ones with this name.
    const applicationName = uniqueName("coordshut");
    const coordinator = await startCoordinator({
      schema,
      databaseUrl: databaseUrlWith({ application_name: applicationName }),
    });
    try {
      expect((await coordinator.request("GET", "/livez")).status).toBe(200);
      expect((await coordinator.request("GET", "/health")).status).toBe(200);
      expect(await connectionsNamed(applicationName)).toBeGreaterThan(0);
      expect(await connectionRefused(coordinator.port)).toBe(false);

      const started = Date.now();
      await coordinator.close();
      expect(Date.now() - started).toBeLessThan(15_000);

      expect(coordinator.handles.http.address()).toBeUndefined();
      expect(await connectionRefused(coordinator.port)).toBe(true);
      await expect(httpRequest(`${coordinator.url}/livez`)).rejects.toThrow();
      // A backend exits a moment after its client hangs up.
      await waitFor(
        "the pool's connections to close",
        async () => ((await connectionsNamed(applicationName)) === 0 ? true : undefined),
        3000,
      );
    } finally {
      await coordinator.close();
      await dropSchema(schema);
    }
  });
});
