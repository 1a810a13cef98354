import { startTestApp, type TestApp } from "../testing/test-app";

describe("task routes", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(() => t.close());

  it("POST /tasks publishes and answers the task id", async () => {
    const response = await t.request("POST", "/tasks", {
      json: { topic: "file.uploaded", content: { path: "/a" }, correlation_id: "c-1", tenant_id: "acme" },
      headers: { "x-omnidaemon-actor": "sdk" },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ task_id: "task-1", topic: "file.uploaded", status: "published" });
    expect(t.services.callsOf("publishTask")).toEqual([
      [
        { topic: "file.uploaded", content: { path: "/a" }, correlationId: "c-1", tenantId: "acme" },
        { name: "sdk" },
      ],
    ]);
  });

  it("POST /publish-tasks takes the reference system's EventEnvelope body", async () => {
    // As the reference SDK sends it: a pydantic dump, None fields included, created_at and attempts set.
    const envelope = {
      id: "3f0c2c1e-0000-4000-8000-000000000001",
      topic: "file.uploaded",
      payload: {
        content: "summarize this",
        webhook: "https://example.com/hook",
        reply_to: "file.summarized",
      },
      tenant_id: null,
      created_at: 1767225600.123,
      delivery_attempts: 1,
      correlation_id: "corr-9",
      causation_id: "cause-1",
      source: "uploader",
    };
    const response = await t.request("POST", "/publish-tasks", { json: envelope });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ task_id: envelope.id, topic: "file.uploaded", status: "published" });
    expect(t.services.callsOf("publishTask")[0]?.[0]).toEqual({
      id: envelope.id,
      topic: "file.uploaded",
      content: "summarize this",
      webhook: "https://example.com/hook",
      replyTo: "file.summarized",
      correlationId: "corr-9",
      causationId: "cause-1",
      source: "uploader",
    });
  });

  it("both routes take both shapes", async () => {
    await t.request("POST", "/tasks", { json: { topic: "t", payload: { content: 1 } } });
    await t.request("POST", "/publish-tasks", { json: { topic: "t", content: 2 } });
    expect(
      t.services.callsOf("publishTask").map((args) => (args[0] as { content: unknown }).content),
    ).toEqual([1, 2]);
  });

  it("content may be any JSON value, null included", async () => {
    const response = await t.request("POST", "/tasks", { json: { topic: "t", content: null } });
    expect(response.status).toBe(200);
    expect(t.services.callsOf("publishTask")[0]?.[0]).toEqual({ topic: "t", content: null });
  });

  it.each([
    [{ content: "x" }, "topic", "topic: is required"],
    [{ topic: "t" }, "content", "content: is required (or payload.content)"],
    [{ topic: "t", payload: {} }, "payload.content", "payload.content: is required"],
    [
      { topic: "t", content: 1, payload: { content: 2 } },
      "content",
      "content: give content or payload.content, not both",
    ],
    [{ topic: "t", content: 1, webhook: "ftp://x" }, "webhook", "webhook: expected an http(s) URL"],
    [
      { topic: "t", payload: { content: 1, webhook: "not a url" } },
      "payload.webhook",
      "payload.webhook: expected an http(s) URL",
    ],
    [{ topic: "t", content: 1, reply_to: "bad topic" }, "reply_to", undefined],
    [{ topic: "omnidaemon.control", content: 1 }, "topic", undefined],
    [{ topic: 42, content: 1 }, "topic", "topic: expected string, got number 42"],
    [{ topic: "t", content: 1, correlation_id: "" }, "correlation_id", undefined],
    [{ topic: "t", content: 1, delivery_attempts: 0 }, "delivery_attempts", undefined],
  ])("POST /tasks %j: 400 naming %s", async (body, field, message) => {
    const response = await t.request("POST", "/tasks", { json: body });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "invalid_input", field });
    expect(response.body.error.message.startsWith(`${field}: `)).toBe(true);
    if (message !== undefined) expect(response.body.error.message).toBe(message);
    expect(t.services.callsOf("publishTask")).toEqual([]);
  });

  it("GET /tasks/:id answers the task's records", async () => {
    await t.request("POST", "/tasks", { json: { topic: "t", content: 1, id: "task-a" } });
    const response = await t.request("GET", "/tasks/task-a");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      task_id: "task-a",
      records: [expect.objectContaining({ task_id: "task-a", topic: "t", status: "pending" })],
    });
  });

  it("GET /tasks/:id of an unknown task: 404", async () => {
    const response = await t.request("GET", "/tasks/nope");
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({
      code: "not_found",
      message: 'task "nope" not found (unknown, or its records expired)',
    });
  });

  it("GET /tasks lists with filters and a default limit of 100", async () => {
    await t.request("POST", "/tasks", { json: { topic: "a", content: 1 } });
    await t.request("POST", "/tasks", { json: { topic: "b", content: 1 } });
    const all = await t.request("GET", "/tasks");
    expect(all.status).toBe(200);
    expect(all.body).toHaveLength(2);
    const filtered = await t.request("GET", "/tasks?topic=a&status=pending&limit=5");
    expect(filtered.body).toHaveLength(1);
    expect(t.services.callsOf("listTasks")).toEqual([
      [{ limit: 100 }],
      [{ topic: "a", status: "pending", limit: 5 }],
    ]);
  });

  it("GET /tasks?correlation_id= lists only the tasks of that correlation id", async () => {
    await t.request("POST", "/tasks", { json: { topic: "a", content: 1, correlation_id: "conv-1" } });
    await t.request("POST", "/tasks", { json: { topic: "a", content: 2, correlation_id: "conv-2" } });
    await t.request("POST", "/tasks", { json: { topic: "b", content: 3 } });
    const response = await t.request("GET", "/tasks?correlation_id=conv-1");
    expect(response.status).toBe(200);
    expect(response.body.map((r: { correlation_id: string }) => r.correlation_id)).toEqual(["conv-1"]);
    expect(t.services.callsOf("listTasks")).toEqual([[{ correlationId: "conv-1", limit: 100 }]]);
  });

  it("GET /tasks?correlation_id= longer than 1024 characters: 400 naming correlation_id", async () => {
    const response = await t.request("GET", `/tasks?correlation_id=${"x".repeat(1025)}`);
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe("correlation_id");
  });

  it.each([
    ["limit=abc", "limit", 'limit: expected an integer 1-1000, got "abc"'],
    ["limit=0", "limit", 'limit: expected an integer 1-1000, got "0"'],
    ["limit=1001", "limit", 'limit: expected an integer 1-1000, got "1001"'],
    ["limit=-1", "limit", 'limit: expected an integer 1-1000, got "-1"'],
    ["status=done", "status", undefined],
    ["topic=a%20b", "topic", undefined],
  ])("GET /tasks?%s: 400 naming %s", async (query, field, message) => {
    const response = await t.request("GET", `/tasks?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe(field);
    if (message !== undefined) expect(response.body.error.message).toBe(message);
  });
});
