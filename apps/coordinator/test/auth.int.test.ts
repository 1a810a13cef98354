// Bearer-token auth on a real coordinator configured with api.token: everything but the probes, Prometheus and the
// OpenAPI document needs `Authorization: Bearer <OMNIDAEMON_API_TOKEN>`.
import { dropSchema, KafkaLeftovers, newAgent, newTopic } from "@omnidaemon/testkit";
import { API_TOKEN, newSchema, startCoordinator, type RunningCoordinator } from "./support";

const schema = newSchema("auth");
const leftovers = new KafkaLeftovers();
let coordinator: RunningCoordinator;

beforeAll(async () => {
  coordinator = await startCoordinator({ schema, token: API_TOKEN });
});

afterAll(async () => {
  await coordinator?.close();
  await leftovers.clean();
  await dropSchema(schema);
});

const PROTECTED: Array<[string, string, unknown?]> = [
  ["GET", "/agents"],
  ["POST", "/agents", { topic: "t", name: "a" }],
  ["GET", "/agents/t/a"],
  ["POST", "/agents/t/a/unsubscribe"],
  ["DELETE", "/agents?confirm=true"],
  ["POST", "/tasks", { topic: "t", content: 1 }],
  ["GET", "/tasks"],
  ["GET", "/metrics/summary"],
  ["GET", "/audit"],
  ["GET", "/bus/groups"],
  ["POST", "/v1/workers", { id: "w", host: "h", pid: 1, version: "1", agents: [] }],
  ["GET", "/v1/workers"],
];

test("with api.token set, a request without a bearer token is 401 naming OMNIDAEMON_API_TOKEN", async () => {
  for (const [method, path, json] of PROTECTED) {
    const response = await coordinator.request(method, path, {
      token: null,
      ...(json !== undefined && { json }),
    });
    expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 });
    expect(response.body.error.code).toBe("unauthorized");
    expect(response.body.error.message).toContain("OMNIDAEMON_API_TOKEN");
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
  }
  // Nothing happened behind the 401s.
  const agents = await coordinator.request("GET", "/agents");
  expect(agents.body).toEqual({});
});

test("a wrong bearer token, or another scheme, is 401", async () => {
  const wrong = await coordinator.request("GET", "/agents", { token: `${API_TOKEN}x` });
  expect(wrong.status).toBe(401);
  expect(wrong.body.error.message).toContain("OMNIDAEMON_API_TOKEN");
  const basic = await coordinator.request("GET", "/agents", {
    token: null,
    headers: { authorization: `Basic ${Buffer.from(`user:${API_TOKEN}`).toString("base64")}` },
  });
  expect(basic.status).toBe(401);
});

test("/health, /livez, /readyz, /metrics and /openapi.json stay open without a token", async () => {
  const health = await coordinator.request("GET", "/health", { token: null });
  expect(health.status).toBe(200);
  expect(health.body.status).toBe("ready");
  for (const path of ["/livez", "/readyz", "/metrics", "/openapi.json"]) {
    const response = await coordinator.request("GET", path, { token: null });
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
  }
});

test("the right bearer token is accepted", async () => {
  const topic = newTopic("auth");
  const name = newAgent("authed");
  leftovers.agent(topic, name);
  const registered = await coordinator.request("POST", "/agents", {
    token: API_TOKEN,
    json: { topic, name },
  });
  expect(registered.status).toBe(200);
  const agents = await coordinator.request("GET", "/agents", { token: API_TOKEN });
  expect(agents.status).toBe(200);
  expect(Object.keys(agents.body)).toEqual([topic]);
  // The scheme is case-insensitive.
  const lower = await coordinator.request("GET", `/agents/${topic}/${name}`, {
    token: null,
    headers: { authorization: `bearer ${API_TOKEN}` },
  });
  expect(lower.status).toBe(200);
});
