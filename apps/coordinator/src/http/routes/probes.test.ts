import { startTestApp, type TestApp } from "../testing/test-app";

describe("health, probes and metrics routes", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(() => t.close());

  it.each(["running", "ready", "stopped", "degraded"] as const)(
    "GET /health: 200 when %s",
    async (status) => {
      t.services.healthReport = { ...t.services.healthReport, status };
      const response = await t.request("GET", "/health");
      expect(response.status).toBe(200);
      expect(response.body).toEqual(t.services.healthReport);
    },
  );

  it("GET /health: 503 when down, with the report", async () => {
    t.services.healthReport = {
      ...t.services.healthReport,
      status: "down",
      postgres: { ok: false, error: "connect ECONNREFUSED" },
    };
    const response = await t.request("GET", "/health");
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ status: "down", postgres: { ok: false } });
  });

  it("GET /health: 503 down with the reason when the health check itself throws", async () => {
    t.services.failNext("health", new Error("pool exhausted"));
    const response = await t.request("GET", "/health");
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      status: "down",
      postgres: { ok: false, error: "health check failed: pool exhausted" },
    });
  });

  it("GET /livez: 200 without asking the services", async () => {
    const response = await t.request("GET", "/livez");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "ok" });
    expect(t.services.calls).toEqual([]);
  });

  it("GET /readyz: 200 when Postgres answers, even with Kafka down; 503 when it does not", async () => {
    t.services.healthReport = { ...t.services.healthReport, kafka: { ok: false, error: "x" } };
    const ready = await t.request("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready", postgres: { ok: true, latency_ms: 1 } });

    t.services.healthReport = { ...t.services.healthReport, postgres: { ok: false, error: "down" } };
    const notReady = await t.request("GET", "/readyz");
    expect(notReady.status).toBe(503);
    expect(notReady.body).toEqual({ status: "not_ready", postgres: { ok: false, error: "down" } });
  });

  it("GET /metrics: Prometheus text from the injected registry", async () => {
    await t.request("GET", "/livez");
    const response = await t.request("GET", "/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(t.registry.contentType);
    expect(response.text).toContain("# TYPE omnidaemon_coordinator_http_requests_total counter");
    expect(response.text).toContain('route="/livez"');
  });

  it("GET /metrics/summary, with and without topic", async () => {
    await t.services.registerAgent({ topic: "t", name: "a" }, { name: "seed" });
    const response = await t.request("GET", "/metrics/summary?topic=t");
    expect(response.status).toBe(200);
    expect(response.body).toEqual([expect.objectContaining({ topic: "t", agent: "a", received: 0 })]);
    await t.request("GET", "/metrics/summary");
    expect(t.services.callsOf("metricsSummary")).toEqual([[{ topic: "t" }], [{}]]);
  });

  it("GET /metrics/history answers the agent's points; an unknown agent is 404, a missing agent 400", async () => {
    await t.services.registerAgent({ topic: "t", name: "a" }, { name: "seed" });
    const response = await t.request("GET", "/metrics/history?topic=t&agent=a");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ topic: "t", agent: "a", sample_interval_ms: 10_000 });
    expect(response.body.points).toHaveLength(1);
    expect(t.services.callsOf("metricsHistory")).toEqual([["t", "a"]]);
    expect((await t.request("GET", "/metrics/history?topic=t&agent=nope")).status).toBe(404);
    const missing = await t.request("GET", "/metrics/history?topic=t");
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe("agent");
  });

  it("GET /metrics/summary?topic=: 400 naming topic", async () => {
    const response = await t.request("GET", "/metrics/summary?topic=");
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: "invalid_input",
      field: "topic",
      message: "topic: is required",
    });
  });

  it("GET /audit with limit (default 100), topic and agent", async () => {
    expect((await t.request("GET", "/audit")).status).toBe(200);
    await t.request("GET", "/audit?limit=10&topic=t&agent=a");
    expect(t.services.callsOf("auditLog")).toEqual([
      [{ limit: 100 }],
      [{ limit: 10, topic: "t", agent: "a" }],
    ]);
  });

  it("GET /audit?limit=abc: 400 naming limit", async () => {
    const response = await t.request("GET", "/audit?limit=abc");
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: "invalid_input",
      field: "limit",
      message: 'limit: expected an integer 1-1000, got "abc"',
    });
  });
});
