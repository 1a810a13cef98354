// Issue 10, item 1: a task result Postgres cannot hold (a NUL character, a lone surrogate) must not stop result
// ingestion. Before the fix, Postgres refused the row (22P05), the task-events consumer crashed and stayed down,
// and every later task stayed `pending`.
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
import { newSchema, startCoordinator, type RunningCoordinator } from "./support";

const schema = newSchema("poison");
const leftovers = new KafkaLeftovers();
const topic = newTopic("poison");
const agent = newAgent("worker");
let coordinator: RunningCoordinator;
let producer: KafkaProducer;

beforeAll(async () => {
  coordinator = await startCoordinator({ schema });
  producer = await startedProducer();
  leftovers.topic(topic);
});

afterAll(async () => {
  await coordinator?.close();
  await producer?.stop();
  await leftovers.clean();
  await dropSchema(schema);
});

async function recordsOf(taskId: string) {
  return waitFor(
    `task ${taskId} to be completed`,
    async () => {
      const response = await coordinator.request("GET", `/tasks/${taskId}`);
      return response.status === 200 && response.body.records[0]?.status === "completed"
        ? response.body.records
        : undefined;
    },
    30_000,
    100,
  );
}

test("a result with NUL characters and lone surrogates is stored in a safe form, and later tasks keep completing", async () => {
  const poisoned = `poison-${Date.now()}`;
  const after = `after-${Date.now()}`;
  await reportTaskEvents(producer, [
    taskEvent({
      task_id: poisoned,
      topic,
      agent,
      status: "completed",
      duration_ms: 5,
      result: { text: "a\u0000b", ["k\u0000ey"]: ["\ud800"] },
      error: null,
      correlation_id: "corr\u0000",
    }),
    taskEvent({ task_id: after, topic, agent, status: "completed", duration_ms: 5, result: { ok: true } }),
  ]);

  const [stored] = await recordsOf(poisoned);
  expect(stored.result).toEqual({ text: "a\uFFFDb", ["k\uFFFDey"]: ["\uFFFD"] });
  expect(stored.correlation_id).toBe("corr\uFFFD");
  expect((await recordsOf(after))[0].result).toEqual({ ok: true });

  const health = (await coordinator.request("GET", "/health")).body;
  expect(health.ingestion).toEqual(expect.objectContaining({ running: true, lag: expect.any(Number) }));
});
