import { startTestApp, type TestApp } from "../testing/test-app";

describe("agent routes", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
    await t.services.registerAgent({ topic: "file.uploaded", name: "processor" }, { name: "seed" });
    await t.services.registerAgent({ topic: "file.uploaded", name: "indexer" }, { name: "seed" });
    await t.services.registerAgent({ topic: "alerts", name: "pager" }, { name: "seed" });
    t.services.calls.length = 0;
  });
  afterEach(() => t.close());

  it("GET /agents groups agents by topic, as the reference system does", async () => {
    const response = await t.request("GET", "/agents");
    expect(response.status).toBe(200);
    expect(Object.keys(response.body)).toEqual(["alerts", "file.uploaded"]);
    expect(response.body["file.uploaded"].map((agent: { name: string }) => agent.name)).toEqual([
      "indexer",
      "processor",
    ]);
    expect(response.body.alerts[0]).toMatchObject({
      topic: "alerts",
      name: "pager",
      state: "active",
      live_consumers: 0,
    });
  });

  it("GET /agents/:topic/:name answers the agent", async () => {
    const response = await t.request("GET", "/agents/file.uploaded/processor");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ topic: "file.uploaded", name: "processor", state: "active" });
  });

  it("GET an unknown agent: 404 listing the known agents of the topic", async () => {
    const response = await t.request("GET", "/agents/file.uploaded/nope");
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: "not_found", known: ["indexer", "processor"] });
  });

  it("GET with an invalid topic: 400 naming topic", async () => {
    const response = await t.request("GET", "/agents/bad%20topic/processor");
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "invalid_input", field: "topic" });
    expect(response.body.error.message).toMatch(/^topic: "bad topic" may contain only letters/);
  });

  it("GET with an invalid agent name: 400 naming name", async () => {
    const response = await t.request("GET", "/agents/file.uploaded/has.dot");
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe("name");
  });

  it("POST /agents registers (upserts) and passes the definition on", async () => {
    const definition = {
      topic: "orders",
      name: "biller",
      description: "bills",
      version: "1.2.0",
      tags: ["money"],
      config: { maxRetries: 2 },
    };
    const response = await t.request("POST", "/agents", { json: definition });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ...definition, state: "active" });
    expect(t.services.callsOf("registerAgent")).toEqual([[definition, { name: "api" }]]);
  });

  it.each([
    [{ name: "a" }, "topic", "topic: is required"],
    [{ topic: "t" }, "name", "name: is required"],
    [{ topic: "omnidaemon.control", name: "a" }, "topic", undefined],
    [{ topic: "t", name: "a", tags: ["ok", 5] }, "tags.1", "tags.1: expected string, got number 5"],
    [{ topic: "t", name: "a", config: [] }, "config", "config: expected record, got an array"],
  ])("POST /agents %j: 400 naming %s", async (body, field, message) => {
    const response = await t.request("POST", "/agents", { json: body });
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe(field);
    if (message !== undefined) expect(response.body.error.message).toBe(message);
    expect(t.services.callsOf("registerAgent")).toEqual([]);
  });

  it("POST …/unsubscribe pauses fleet-wide, in the reference system's response shape", async () => {
    const response = await t.request("POST", "/agents/file.uploaded/processor/unsubscribe", {
      headers: { "x-omnidaemon-actor": "cli:alice" },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: "unsubscribed",
      topic: "file.uploaded",
      agent: "processor",
      message: expect.any(String),
      state: "paused",
      revision: expect.any(Number),
    });
    expect(t.services.callsOf("pauseAgent")).toEqual([["file.uploaded", "processor", { name: "cli:alice" }]]);
  });

  it("POST …/resume resumes", async () => {
    await t.request("POST", "/agents/file.uploaded/processor/unsubscribe");
    const response = await t.request("POST", "/agents/file.uploaded/processor/resume");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: "resumed", state: "active" });
  });

  it("POST …/unsubscribe of an unknown agent: 404", async () => {
    const response = await t.request("POST", "/agents/alerts/nope/unsubscribe");
    expect(response.status).toBe(404);
    expect(response.body.error.known).toEqual(["pager"]);
  });

  it("DELETE /agents/:topic/:name keeps group and DLQ by default", async () => {
    const response = await t.request("DELETE", "/agents/file.uploaded/processor");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: "deleted",
      topic: "file.uploaded",
      agent: "processor",
      deleted: true,
      cleanup_pending: false,
      cleanup: {
        storage_deleted: true,
        consumer_group_deleted: false,
        dlq_deleted: false,
        delete_group: false,
        delete_dlq: false,
      },
    });
    expect(t.services.callsOf("deleteAgent")[0]?.[2]).toEqual({ deleteGroup: false, deleteDlq: false });
  });

  it("DELETE …?delete_group=true&delete_dlq=1 asks for cleanup", async () => {
    const response = await t.request(
      "DELETE",
      "/agents/file.uploaded/processor?delete_group=true&delete_dlq=1",
    );
    expect(response.body.cleanup_pending).toBe(true);
    expect(t.services.callsOf("deleteAgent")[0]?.[2]).toEqual({ deleteGroup: true, deleteDlq: true });
  });

  it("DELETE …?delete_group=yes: 400 naming delete_group", async () => {
    const response = await t.request("DELETE", "/agents/file.uploaded/processor?delete_group=yes");
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: "invalid_input",
      field: "delete_group",
      message: 'delete_group: expected true or false, got "yes"',
    });
  });

  it("DELETE an unknown agent: 404", async () => {
    expect((await t.request("DELETE", "/agents/alerts/nope")).status).toBe(404);
  });

  it("DELETE /topics/:topic deletes every agent of the topic", async () => {
    const response = await t.request("DELETE", "/topics/file.uploaded");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "deleted", topic: "file.uploaded", agents_deleted: 2 });
  });

  it("DELETE /agents without confirm=true: 400 naming confirm, nothing deleted", async () => {
    for (const url of ["/agents", "/agents?confirm=yes"]) {
      const response = await t.request("DELETE", url);
      expect(response.status).toBe(400);
      expect(response.body.error.field).toBe("confirm");
      expect(response.body.error.message).toMatch(/^confirm: must be true/);
    }
    expect(t.services.callsOf("clearAgents")).toEqual([]);
  });

  it("DELETE /agents?confirm=true clears every agent", async () => {
    const response = await t.request("DELETE", "/agents?confirm=true");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "cleared", agents_deleted: 3 });
  });

  describe("limits", () => {
    beforeEach(async () => {
      await t.services.registerAgent(
        { topic: "llm", name: "writer", config: { rateLimit: { perSecond: 50 }, maxInFlight: 20 } },
        { name: "seed" },
      );
      t.services.calls.length = 0;
    });

    it("GET …/limits shows the configured limits, no override, and what workers enforce", async () => {
      const response = await t.request("GET", "/agents/llm/writer/limits");
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        topic: "llm",
        agent: "writer",
        revision: expect.any(Number),
        limits: {
          configured: { rateLimit: { perSecond: 50 }, maxInFlight: 20 },
          override: null,
          effective: { rateLimit: { perSecond: 50 }, maxInFlight: 20 },
        },
      });
    });

    it("PUT …/limits passes the override on with who asked, and answers the effective limits", async () => {
      const override = { rateLimit: { perMinute: 600, scope: "tenant" }, maxInFlight: null };
      const response = await t.request("PUT", "/agents/llm/writer/limits", {
        json: override,
        headers: { "x-omnidaemon-actor": "cli:alice" },
      });
      expect(response.status).toBe(200);
      expect(response.body.limits).toEqual({
        configured: { rateLimit: { perSecond: 50 }, maxInFlight: 20 },
        override,
        effective: { rateLimit: { perMinute: 600, scope: "tenant" } },
      });
      expect(t.services.callsOf("setLimits")).toEqual([["llm", "writer", override, { name: "cli:alice" }]]);
      // The agent itself shows them too.
      const agent = await t.request("GET", "/agents/llm/writer");
      expect(agent.body.limits.override).toEqual(override);
    });

    it("DELETE …/limits removes the override: the configured limits apply again", async () => {
      await t.request("PUT", "/agents/llm/writer/limits", { json: { maxInFlight: 2 } });
      const response = await t.request("DELETE", "/agents/llm/writer/limits");
      expect(response.status).toBe(200);
      expect(response.body.limits.override).toBeNull();
      expect(response.body.limits.effective).toEqual({ rateLimit: { perSecond: 50 }, maxInFlight: 20 });
      expect(t.services.callsOf("setLimits").at(-1)).toEqual(["llm", "writer", null, { name: "api" }]);
    });

    it.each([
      [
        { rateLimit: { perSecond: 5, perMinute: 1 } },
        "rateLimit",
        "rateLimit: set exactly one of perSecond and perMinute",
      ],
      [{ rateLimit: { perSecond: 0 } }, "rateLimit.perSecond", undefined],
      [{ rateLimit: { perSecond: 5, scope: "pod" } }, "rateLimit.scope", undefined],
      [{ maxInFlight: 1.5 }, "maxInFlight", undefined],
      [{ tenantWeights: { acme: -1 } }, "tenantWeights.acme", undefined],
      [{ maxInflight: 3 }, "body", "body: unknown field(s) maxInflight"],
      [[], "body", undefined],
    ])("PUT …/limits %j: 400 naming %s, nothing changed", async (body, field, message) => {
      const response = await t.request("PUT", "/agents/llm/writer/limits", { json: body });
      expect(response.status).toBe(400);
      expect(response.body.error.field).toBe(field);
      expect(response.body.error.message).toMatch(new RegExp(`^${field}: `));
      if (message !== undefined) expect(response.body.error.message).toBe(message);
      expect(t.services.callsOf("setLimits")).toEqual([]);
    });

    it("…/limits of an unknown agent: 404 listing the known agents of the topic", async () => {
      for (const method of ["GET", "PUT", "DELETE"] as const) {
        const response = await t.request(method, "/agents/llm/nobody/limits", {
          ...(method === "PUT" && { json: { maxInFlight: 1 } }),
        });
        expect(response.status).toBe(404);
        expect(response.body.error.known).toEqual(["writer"]);
      }
    });

    it("POST /agents checks the limit keys of the config by the same rules", async () => {
      const response = await t.request("POST", "/agents", {
        json: { topic: "llm", name: "writer", config: { rateLimit: { perSecond: 5, burst: 0 } } },
      });
      expect(response.status).toBe(400);
      expect(response.body.error.field).toBe("config.rateLimit.burst");
    });
  });
});
