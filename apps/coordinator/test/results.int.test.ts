// Results and counters reach the coordinator through Kafka (omnidaemon.task-events), as a worker reports them: task
// records fold in order and never move backwards, counters and latency percentiles are lifetime totals, nothing is
// lost across a coordinator restart, and records expire after their TTL.
//
// One coordinator at a time: they all join the same task-events group, and two would split the partitions.
import type { KafkaProducer } from "@omnidaemon/bus-kafka";
import {
  dropSchema,
  KafkaLeftovers,
  newAgent,
  newTopic,
  reportTaskEvents,
  startedProducer,
  taskEvent,
  waitFor,
} from "@omnidaemon/testkit";
import { newSchema, startCoordinator, type JsonObject, type RunningCoordinator } from "./support";

const schema = newSchema("results");
const ttlSchema = newSchema("ttl");
const leftovers = new KafkaLeftovers();
const topic = newTopic("results");
const agent = newAgent("worker");
let coordinator: RunningCoordinator | undefined;
let producer: KafkaProducer;

beforeAll(async () => {
  coordinator = await startCoordinator({ schema });
  producer = await startedProducer();
  leftovers.agent(topic, agent);
  expect((await current().request("POST", "/agents", { json: { topic, name: agent } })).status).toBe(200);
});

afterAll(async () => {
  await coordinator?.close();
  await producer?.stop();
  await leftovers.clean();
  await dropSchema(schema);
  await dropSchema(ttlSchema);
});

function current(): RunningCoordinator {
  if (coordinator === undefined) throw new Error("no coordinator running");
  return coordinator;
}

async function publishTask(content: unknown = { n: 1 }): Promise<string> {
  const response = await current().request("POST", "/tasks", { json: { topic, content } });
  expect(response.status).toBe(200);
  return response.body.task_id as string;
}

/** GET /tasks/{id} once `check` accepts its records. */
async function taskWhen(taskId: string, check: (records: JsonObject[]) => boolean, timeoutMs = 20_000) {
  return waitFor(
    `task ${taskId} to reach the expected state`,
    async () => {
      const response = await current().request("GET", `/tasks/${taskId}`);
      return response.status === 200 && check(response.body.records) ? response.body : undefined;
    },
    timeoutMs,
    100,
  );
}

const at = (ms: number): string => new Date(ms).toISOString();

test("task events fold into the record: processing → completed with result and duration; a late processing does not move it back", async () => {
  const taskId = await publishTask({ file: "a.txt" });
  expect((await current().request("GET", `/tasks/${taskId}`)).body.records[0].status).toBe("pending");

  const startedAt = Date.now();
  await reportTaskEvents(producer, [
    taskEvent({ task_id: taskId, topic, agent, status: "processing", at: at(startedAt) }),
  ]);
  const processing = await taskWhen(taskId, (records) => records[0]?.status === "processing");
  expect(processing.records).toEqual([
    expect.objectContaining({ agent, status: "processing", attempts: 1, started_at: at(startedAt) }),
  ]);

  const finishedAt = startedAt + 120;
  await reportTaskEvents(producer, [
    taskEvent({
      task_id: taskId,
      topic,
      agent,
      status: "completed",
      at: at(finishedAt),
      duration_ms: 120,
      result: { words: 3, summary: "ok" },
    }),
  ]);
  const completed = await taskWhen(taskId, (records) => records[0]?.status === "completed");
  expect(completed).toEqual({
    task_id: taskId,
    records: [
      {
        task_id: taskId,
        topic,
        agent,
        status: "completed",
        attempts: 1,
        replays: 0,
        result: { words: 3, summary: "ok" },
        last_error: null,
        correlation_id: null,
        tenant_id: null,
        created_at: expect.any(String),
        started_at: at(startedAt),
        finished_at: at(finishedAt),
        duration_ms: 120,
        expires_at: expect.any(String),
      },
    ],
  });
  // Kept for the results TTL after it finished (24 h by default).
  expect(Date.parse(completed.records[0].expires_at) - finishedAt).toBe(24 * 60 * 60 * 1000);

  // A late "processing" (a redelivery) must not move it back. A later event of the same task for another agent
  // travels on the same partition behind it, so once that one is in, the late one has been applied.
  const marker = `${agent}-marker`;
  await reportTaskEvents(producer, [
    taskEvent({ task_id: taskId, topic, agent, status: "processing", at: at(finishedAt + 1000) }),
    taskEvent({ task_id: taskId, topic, agent: marker, status: "processing", at: at(finishedAt + 1001) }),
  ]);
  const after = await taskWhen(taskId, (records) => records.some((r) => r.agent === marker));
  // One record per agent (fan-out), and ours is still completed with its result.
  expect(after.records).toHaveLength(2);
  expect(after.records.find((r: { agent: string }) => r.agent === agent)).toEqual(completed.records[0]);

  const listed = await current().request("GET", `/tasks?topic=${topic}&status=completed`);
  expect(listed.body.map((r: { task_id: string }) => r.task_id)).toContain(taskId);
});

test("GET /metrics/summary shows lifetime received/succeeded/failed/retried/dead-lettered counts and latency percentiles", async () => {
  const metricsAgent = newAgent("metrics");
  leftovers.agent(topic, metricsAgent);
  expect((await current().request("POST", "/agents", { json: { topic, name: metricsAgent } })).status).toBe(
    200,
  );
  const durations = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  const now = Date.now();
  for (const [i, duration] of durations.entries()) {
    const taskId = await publishTask({ i });
    await reportTaskEvents(producer, [
      taskEvent({ task_id: taskId, topic, agent: metricsAgent, status: "processing", at: at(now + i) }),
      taskEvent({
        task_id: taskId,
        topic,
        agent: metricsAgent,
        status: "completed",
        at: at(now + i + duration),
        duration_ms: duration,
        result: i,
      }),
    ]);
  }
  const error = { class: "TimeoutError", message: "took too long" };
  const deadTask = await publishTask({ dead: true });
  await reportTaskEvents(producer, [
    taskEvent({ task_id: deadTask, topic, agent: metricsAgent, status: "processing" }),
    taskEvent({ task_id: deadTask, topic, agent: metricsAgent, status: "retrying", error }),
    taskEvent({ task_id: deadTask, topic, agent: metricsAgent, status: "processing", attempt: 2 }),
    taskEvent({ task_id: deadTask, topic, agent: metricsAgent, status: "dead_lettered", attempt: 2, error }),
  ]);
  const failedTask = await publishTask({ failed: true });
  await reportTaskEvents(producer, [
    taskEvent({ task_id: failedTask, topic, agent: metricsAgent, status: "processing" }),
    taskEvent({ task_id: failedTask, topic, agent: metricsAgent, status: "failed", error }),
  ]);

  const summary = await waitFor(
    "every reported event in the counters",
    async () => {
      const response = await current().request("GET", `/metrics/summary?topic=${topic}`);
      const mine = (response.body as JsonObject[]).find((s) => s.agent === metricsAgent);
      return mine !== undefined &&
        mine.succeeded === durations.length &&
        mine.dead_lettered === 1 &&
        mine.failed === 1
        ? mine
        : undefined;
    },
    20_000,
  );
  expect(summary).toEqual({
    topic,
    agent: metricsAgent,
    // First deliveries: the ten, the dead-lettered one and the failed one (a retry's attempt 2 is not one).
    received: durations.length + 2,
    succeeded: durations.length,
    failed: 1,
    retried: 1,
    dead_lettered: 1,
    latency_ms: {
      p50: expect.any(Number),
      p95: expect.any(Number),
      p99: expect.any(Number),
      mean: 55,
      count: durations.length,
    },
  });
  // Log-spaced buckets (each 50 % wider than the last): within about a bucket of the exact percentiles.
  const { p50, p95, p99 } = summary.latency_ms;
  expect(p50).toBeGreaterThanOrEqual(35);
  expect(p50).toBeLessThanOrEqual(70);
  expect(p95).toBeGreaterThanOrEqual(p50);
  expect(p95).toBeGreaterThanOrEqual(70);
  expect(p99).toBeGreaterThanOrEqual(p95);
  expect(p99).toBeLessThanOrEqual(150);

  // The records say the same thing.
  const dead = await taskWhen(deadTask, (records) => records[0]?.status === "dead_lettered");
  expect(dead.records[0]).toMatchObject({ status: "dead_lettered", attempts: 2, last_error: error });
  const failed = await taskWhen(failedTask, (records) => records[0]?.status === "failed");
  expect(failed.records[0]).toMatchObject({ status: "failed", attempts: 1, last_error: error });

  // Lifetime, not a window: more events add to the same totals.
  const more = await publishTask({ more: true });
  await reportTaskEvents(producer, [
    taskEvent({ task_id: more, topic, agent: metricsAgent, status: "processing" }),
    taskEvent({ task_id: more, topic, agent: metricsAgent, status: "completed", duration_ms: 5 }),
  ]);
  const grown = await waitFor("the extra completion in the counters", async () => {
    const response = await current().request("GET", `/metrics/summary?topic=${topic}`);
    const mine = (response.body as JsonObject[]).find((s) => s.agent === metricsAgent);
    return mine?.succeeded === durations.length + 1 ? mine : undefined;
  });
  expect(grown.latency_ms.count).toBe(durations.length + 1);
  expect(grown.received).toBe(durations.length + 3);
});

test("results survive a coordinator restart: events reported while it is down arrive once a new one starts", async () => {
  const taskId = await publishTask({ restart: true });
  const earlier = (await current().request("GET", `/tasks?topic=${topic}&status=completed`)).body.length;
  expect(earlier).toBeGreaterThan(0);

  await current().close();
  coordinator = undefined;

  // The coordinator is down; a worker goes on reporting.
  const startedAt = Date.now();
  await reportTaskEvents(producer, [
    taskEvent({ task_id: taskId, topic, agent, status: "processing", at: at(startedAt) }),
    taskEvent({
      task_id: taskId,
      topic,
      agent,
      status: "completed",
      at: at(startedAt + 7),
      duration_ms: 7,
      result: "while you were out",
    }),
  ]);

  coordinator = await startCoordinator({ schema });
  const task = await taskWhen(taskId, (records) => records[0]?.status === "completed", 30_000);
  expect(task.records).toEqual([
    expect.objectContaining({ agent, status: "completed", result: "while you were out", duration_ms: 7 }),
  ]);
  // What the first coordinator stored is still there.
  const now = (await current().request("GET", `/tasks?topic=${topic}&status=completed`)).body.length;
  expect(now).toBe(earlier + 1);
});

test("TTL expiry: once past resultTtlMs, sweeper.sweep() deletes the record and GET /tasks/{id} is 404", async () => {
  await current().close();
  coordinator = undefined;
  const ttlMs = 1000;
  coordinator = await startCoordinator({ schema: ttlSchema, resultTtlMs: ttlMs });
  const ttlAgent = newAgent("ttl");
  leftovers.agent(topic, ttlAgent);
  expect((await current().request("POST", "/agents", { json: { topic, name: ttlAgent } })).status).toBe(200);

  const taskId = await publishTask({ ttl: true });
  const finishedAt = Date.now();
  await reportTaskEvents(producer, [
    taskEvent({ task_id: taskId, topic, agent: ttlAgent, status: "processing", at: at(finishedAt - 5) }),
    taskEvent({
      task_id: taskId,
      topic,
      agent: ttlAgent,
      status: "completed",
      at: at(finishedAt),
      duration_ms: 5,
      result: "short-lived",
    }),
  ]);
  const completed = await taskWhen(taskId, (records) => records[0]?.status === "completed");
  const expiresAt = Date.parse(completed.records[0].expires_at);
  expect(expiresAt - Date.parse(completed.records[0].finished_at)).toBe(ttlMs);

  const { sweeper } = current().handles;
  if (Date.now() < expiresAt - 200) {
    // Not expired yet: the sweeper leaves it alone.
    await sweeper.sweep();
    expect((await current().request("GET", `/tasks/${taskId}`)).status).toBe(200);
  }
  await waitFor("the TTL to pass", () => Date.now() > expiresAt + 100, 5000, 50);
  expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1);
  const gone = await current().request("GET", `/tasks/${taskId}`);
  expect(gone.status).toBe(404);
  expect(gone.body.error.code).toBe("not_found");
});
