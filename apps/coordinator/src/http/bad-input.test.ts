import { startTestApp, type TestApp, type TestResponse } from "./testing/test-app";

// Issue 10, item 2: every one of these answered 500 (or 503, or was accepted) against the real services.
describe("HTTP app: bad input is a 400 naming the field", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(() => t.close());

  const expectInvalid = (response: TestResponse, field: string) => {
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual(
      expect.objectContaining({
        code: "invalid_input",
        field,
        message: expect.stringMatching(`^${field}: `),
      }),
    );
  };

  it.each([
    ["description", { description: "a\u0000b" }],
    ["version", { version: "1\u0000" }],
    ["tags.1", { tags: ["ok", "x\u0000"] }],
    ["config.nested.key", { config: { nested: { key: "v\u0000" } } }],
    ["config.bad\u0000key", { config: { "bad\u0000key": 1 } }],
    ["config.s", { config: { s: "lone \ud800 surrogate" } }],
  ])("POST /agents: a NUL (or a lone surrogate) in %s", async (field, extra) => {
    const response = await t.request("POST", "/agents", { json: { topic: "t", name: "a", ...extra } });
    expectInvalid(response, field);
    expect(t.services.callsOf("registerAgent")).toEqual([]);
  });

  it("POST /agents: a config nested deeper than the bound", async () => {
    let config: unknown = 1;
    for (let i = 0; i < 3000; i++) config = { c: config };
    const response = await t.request("POST", "/agents", { json: { topic: "t", name: "a", config } });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/nested deeper than 256 levels/);
  });

  const worker = { id: "w-1", host: "h", pid: 1, version: "1", agents: [] };
  it.each([
    ["host", { host: "h\u0000" }],
    ["version", { version: "\u00001" }],
    ["pid", { pid: 2 ** 31 }],
  ])("POST /v1/workers: bad %s", async (field, extra) => {
    expectInvalid(await t.request("POST", "/v1/workers", { json: { ...worker, ...extra } }), field);
    expect(t.services.callsOf("registerWorker")).toEqual([]);
  });

  it.each([
    ["id", { id: "t\u0000" }],
    ["correlation_id", { correlation_id: "c\u0000" }],
    ["tenant_id", { tenant_id: "\u0000" }],
    ["source", { source: "s\u0000" }],
  ])("POST /tasks: a NUL in %s", async (field, extra) => {
    expectInvalid(await t.request("POST", "/tasks", { json: { topic: "t", content: 1, ...extra } }), field);
    expect(t.services.callsOf("publishTask")).toEqual([]);
  });

  it("GET /tasks/%00: 400 naming the id", async () => {
    expectInvalid(await t.request("GET", "/tasks/%00"), "id");
  });

  it.each(["__consumer_offsets", "__transaction_state", "omnidaemon_control", "omnidaemon_task-events"])(
    "POST /tasks: topic or reply_to naming the internal topic %s",
    async (internal) => {
      expectInvalid(await t.request("POST", "/tasks", { json: { topic: internal, content: 1 } }), "topic");
      expectInvalid(
        await t.request("POST", "/tasks", { json: { topic: "t", content: 1, reply_to: internal } }),
        "reply_to",
      );
      expect(t.services.callsOf("publishTask")).toEqual([]);
    },
  );

  it("POST /agents: an agent on an internal topic", async () => {
    expectInvalid(
      await t.request("POST", "/agents", { json: { topic: "__consumer_offsets", name: "a" } }),
      "topic",
    );
  });
});

describe("HTTP app: methods", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(() => t.close());

  it("an unknown method on a known path answers 405 with Allow", async () => {
    const response = await t.request("PATCH", "/agents");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("DELETE, GET, HEAD, POST");
    expect(response.body.error.code).toBe("method_not_allowed");
  });

  it("405 also for paths with parameters, listing only that path's methods", async () => {
    const response = await t.request("PUT", "/agents/t/a");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("DELETE, GET, HEAD");
  });

  it("a path no route serves is still 404", async () => {
    expect((await t.request("PATCH", "/no/such/route")).status).toBe(404);
  });

  it("a path parameter longer than the limit answers 414, as documented", async () => {
    const response = await t.request("GET", `/tasks/${"x".repeat(600)}`);
    expect(response.status).toBe(414);
    expect(response.body.error.code).toBe("invalid_input");
    const document = (await t.request("GET", "/openapi.json")).body;
    expect(Object.keys(document.paths["/tasks/{id}"].get.responses)).toContain("414");
  });
});
