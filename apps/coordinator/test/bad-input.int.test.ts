// Issue 10, items 2 and 3, against the real services (Kafka and Postgres): each of these answered 500, 503, or
// was accepted before the fix. Unit tests (src/http/bad-input.test.ts, browser.test.ts) cover the HTTP layer alone.
import { dropSchema, KafkaLeftovers, newAgent, newTopic } from "@omnidaemon/testkit";
import { newSchema, startCoordinator, type RunningCoordinator } from "./support";

const schema = newSchema("badinput");
const leftovers = new KafkaLeftovers();
const topic = newTopic("badinput");
const agent = newAgent("a");
let coordinator: RunningCoordinator;

beforeAll(async () => {
  coordinator = await startCoordinator({ schema });
  leftovers.agent(topic, agent);
  expect((await coordinator.request("POST", "/agents", { json: { topic, name: agent } })).status).toBe(200);
});

afterAll(async () => {
  await coordinator?.close();
  await leftovers.clean();
  await dropSchema(schema);
});

const deep = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { c: value };
  return value;
};

test.each([
  ["POST", "/agents", "description", { topic: "t1", name: "a", description: "x\u0000" }],
  ["POST", "/agents", "tags.0", { topic: "t1", name: "a", tags: ["\u0000"] }],
  ["POST", "/v1/workers", "host", { id: "w-int", host: "h\u0000", pid: 1, version: "1", agents: [] }],
  ["POST", "/v1/workers", "pid", { id: "w-int", host: "h", pid: 2 ** 31, version: "1", agents: [] }],
  ["POST", "/tasks", "tenant_id", { topic: "t1", content: 1, tenant_id: "\u0000" }],
  ["POST", "/tasks", "content", { topic: "t1", content: deep(3000) }],
  ["POST", "/tasks", "topic", { topic: "__consumer_offsets", content: 1 }],
  ["POST", "/tasks", "reply_to", { topic: "t1", content: 1, reply_to: "__transaction_state" }],
  ["POST", "/tasks", "topic", { topic: "omnidaemon_task-events", content: 1 }],
  ["GET", "/tasks/%00", "id", undefined],
  // A lone UTF-16 surrogate: in tags it answered 500 (jsonb refused it), in text Postgres stored U+FFFD instead.
  ["POST", "/agents", "tags.0", { topic: "t1", name: "a", tags: ["\udb5f"] }],
  ["POST", "/agents", "description", { topic: "t1", name: "a", description: "x\udc00y" }],
  ["POST", "/agents", "version", { topic: "t1", name: "a", version: "1\ud800" }],
  ["POST", "/v1/workers", "host", { id: "w-int", host: "h\udfff", pid: 1, version: "1", agents: [] }],
  ["POST", "/tasks", "tenant_id", { topic: "t1", content: 1, tenant_id: "\ud83d" }],
])("%s %s: 400 naming %s", async (method, path, field, json) => {
  const response = await coordinator.request(method, path, json === undefined ? {} : { json });
  expect([response.status, response.body?.error?.field]).toEqual([400, field]);
});

test("a tenant id with a lone surrogate or NUL in tenantWeights answers 400 naming the key, in words", async () => {
  for (const key of ["\udb5f", "a\u0000"]) {
    const body = { topic: "t1", name: "a", config: { tenantWeights: { [key]: 2 } } };
    const response = await coordinator.request("POST", "/agents", { json: body });
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe(`config.tenantWeights.${key}`);
    expect(response.body.error.message).toMatch(
      /tenant id must not contain (a lone UTF-16 surrogate|the NUL character)/,
    );
  }
  // An emoji is a surrogate pair, not a lone surrogate: accepted.
  const emoji = { topic, name: agent, config: { tenantWeights: { "tenant-\u{1F600}": 2 } } };
  expect((await coordinator.request("POST", "/agents", { json: emoji })).status).toBe(200);
});

test("without a token, a cross-site POST …/unsubscribe is refused and the agent stays active", async () => {
  const response = await coordinator.request("POST", `/agents/${topic}/${agent}/unsubscribe`, {
    headers: { origin: "https://evil.example" },
  });
  expect(response.status).toBe(403);
  expect((await coordinator.request("GET", `/agents/${topic}/${agent}`)).body.state).toBe("active");
});
