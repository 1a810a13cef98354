import pino from "pino";
import { Registry } from "prom-client";
import { CoordinatorError } from "../services/types";
import { buildHttpApp, buildHttpServer } from "./server";
import { FakeServices } from "./testing/fake-services";
import { TEST_TOKEN, startTestApp, type TestApp } from "./testing/test-app";

describe("HTTP app: cross-cutting behaviour", () => {
  let t: TestApp;
  afterEach(() => t.close());

  describe("auth", () => {
    it("without a token, every route answers without credentials", async () => {
      t = await startTestApp();
      expect((await t.request("GET", "/agents")).status).toBe(200);
    });

    it("with a token, a protected route without credentials is 401 naming OMNIDAEMON_API_TOKEN", async () => {
      t = await startTestApp({ token: TEST_TOKEN });
      const response = await t.request("GET", "/agents");
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(response.body).toEqual({
        error: { code: "unauthorized", message: expect.stringContaining("OMNIDAEMON_API_TOKEN") },
      });
      expect(t.services.calls).toEqual([]);
    });

    it("with a token, a wrong token or scheme is 401 and the right one passes", async () => {
      t = await startTestApp({ token: TEST_TOKEN });
      for (const authorization of [`Bearer ${TEST_TOKEN}x`, `Basic ${TEST_TOKEN}`, TEST_TOKEN, "Bearer x"]) {
        const response = await t.request("GET", "/agents", { headers: { authorization } });
        expect(response.status).toBe(401);
      }
      const ok = await t.request("GET", "/agents", { headers: { authorization: `bearer ${TEST_TOKEN}` } });
      expect(ok.status).toBe(200);
    });

    it("with a token, a write without credentials reaches no service", async () => {
      t = await startTestApp({ token: TEST_TOKEN });
      const response = await t.request("DELETE", "/agents?confirm=true");
      expect(response.status).toBe(401);
      expect(t.services.callsOf("clearAgents")).toEqual([]);
    });

    it.each(["/health", "/livez", "/readyz", "/metrics", "/openapi.json"])(
      "with a token, %s stays open",
      async (url) => {
        t = await startTestApp({ token: TEST_TOKEN });
        expect((await t.request("GET", url)).status).toBe(200);
      },
    );

    it("with a token, an unknown route is 401 (no route discovery without credentials)", async () => {
      t = await startTestApp({ token: TEST_TOKEN });
      expect((await t.request("GET", "/nope")).status).toBe(401);
    });
  });

  describe("actor", () => {
    it("passes X-Omnidaemon-Actor to the services, sanitized, else 'api'", async () => {
      t = await startTestApp();
      await t.request("POST", "/agents", { json: { topic: "t", name: "a" } });
      await t.request("POST", "/agents", {
        json: { topic: "t", name: "b" },
        headers: { "x-omnidaemon-actor": "cli:alice@host\t{evil}" },
      });
      const actors = t.services.callsOf("registerAgent").map((args) => args[1]);
      expect(actors).toEqual([{ name: "api" }, { name: "cli:alice@host__evil_" }]);
    });
  });

  describe("bad requests", () => {
    it("unknown route: 404 JSON", async () => {
      t = await startTestApp();
      const response = await t.request("GET", "/no/such/route?x=1");
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        error: { code: "not_found", message: "no route GET /no/such/route; /openapi.json lists the API" },
      });
    });

    it("wrong method on a known path: 405 JSON with Allow (bad-input.test.ts has the details)", async () => {
      t = await startTestApp();
      const response = await t.request("PATCH", "/agents");
      expect(response.status).toBe(405);
      expect(response.body.error.code).toBe("method_not_allowed");
    });

    it("malformed JSON: 400 naming the body", async () => {
      t = await startTestApp();
      const response = await t.request("POST", "/tasks", {
        headers: { "content-type": "application/json" },
        raw: '{"topic": "t", ',
      });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: { code: "invalid_input", field: "body", message: "body: not valid JSON" },
      });
    });

    it("prototype-poisoning JSON is refused, not merged", async () => {
      t = await startTestApp();
      const response = await t.request("POST", "/tasks", {
        headers: { "content-type": "application/json" },
        raw: '{"topic": "t", "content": 1, "__proto__": {"polluted": true}}',
      });
      expect(response.status).toBe(400);
      expect(t.services.callsOf("publishTask")).toEqual([]);
    });

    it("wrong content type: 415 with a clear message", async () => {
      t = await startTestApp();
      const response = await t.request("POST", "/tasks", {
        headers: { "content-type": "text/plain" },
        raw: "hello",
      });
      expect(response.status).toBe(415);
      expect(response.body.error).toEqual({
        code: "invalid_input",
        field: "content-type",
        message: "content-type: expected application/json",
      });
    });

    it("body too large: 413 naming the limit", async () => {
      t = await startTestApp({ bodyLimitBytes: 1024 });
      const response = await t.request("POST", "/tasks", { json: { topic: "t", content: "x".repeat(2000) } });
      expect(response.status).toBe(413);
      expect(response.body.error).toEqual({
        code: "invalid_input",
        field: "body",
        message: "body: larger than the limit of 1024 bytes",
      });
    });

    it("a missing body where one is required: 400 naming the body", async () => {
      t = await startTestApp();
      const response = await t.request("POST", "/tasks");
      expect(response.status).toBe(400);
      expect(response.body.error).toEqual({
        code: "invalid_input",
        field: "body",
        message: "body: is required",
      });
    });

    it("a JSON body that is not an object: 400 naming the body", async () => {
      t = await startTestApp();
      const response = await t.request("POST", "/tasks", { json: [1, 2] });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toBe("body: expected object, got an array");
    });

    it("an empty JSON body on a route without a body is fine", async () => {
      t = await startTestApp();
      await t.services.registerAgent({ topic: "t", name: "a" }, { name: "test" });
      const response = await t.request("POST", "/agents/t/a/unsubscribe", {
        headers: { "content-type": "application/json" },
        raw: "",
      });
      expect(response.status).toBe(200);
    });

    it("a malformed URL: 400 in the API's error shape", async () => {
      t = await startTestApp();
      const response = await t.request("GET", "/agents/t/%ZZ");
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: {
          code: "invalid_input",
          field: "url",
          message: "url: not a valid URL (malformed percent-encoding)",
        },
      });
    });

    it("a trailing slash is the same route", async () => {
      t = await startTestApp();
      expect((await t.request("GET", "/agents/")).status).toBe(200);
    });

    it("a repeated query parameter: 400 naming it", async () => {
      t = await startTestApp();
      const response = await t.request("GET", "/tasks?limit=1&limit=2");
      expect(response.status).toBe(400);
      expect(response.body.error.field).toBe("limit");
    });
  });

  describe("error mapping", () => {
    it.each([
      ["invalid_input", 400],
      ["not_found", 404],
      ["conflict", 409],
      ["unavailable", 503],
    ] as const)("CoordinatorError %s → %i", async (code, status) => {
      t = await startTestApp();
      t.services.failNext("listWorkers", new CoordinatorError(code, "it went wrong"));
      const response = await t.request("GET", "/v1/workers");
      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error: { code, message: "it went wrong" } });
    });

    it("CoordinatorError details: the field prefixes the message, known is listed", async () => {
      t = await startTestApp();
      t.services.failNext(
        "listWorkers",
        new CoordinatorError("not_found", "no such thing", { field: "name", known: ["a", "b"] }),
      );
      const response = await t.request("GET", "/v1/workers");
      expect(response.body).toEqual({
        error: { code: "not_found", field: "name", message: "name: no such thing", known: ["a", "b"] },
      });
    });

    it("an unexpected error: 500 with a generic message carrying the request id, never the detail", async () => {
      t = await startTestApp();
      t.services.failNext("listWorkers", new Error("password=hunter2 leaked"));
      const response = await t.request("GET", "/v1/workers");
      expect(response.status).toBe(500);
      expect(response.body.error.code).toBe("internal");
      expect(response.body.error.message).toContain(String(response.headers.get("x-request-id")));
      expect(response.text).not.toContain("hunter2");
    });
  });

  describe("HTTP metrics", () => {
    it("counts requests by method, route pattern and status, and times them", async () => {
      t = await startTestApp();
      await t.services.registerAgent({ topic: "t", name: "a" }, { name: "test" });
      await t.request("GET", "/agents/t/a");
      await t.request("GET", "/agents/t/missing");
      await t.request("GET", "/random/path");
      const text = await t.registry.metrics();
      expect(text).toContain(
        'omnidaemon_coordinator_http_requests_total{method="GET",route="/agents/:topic/:name",status="200"} 1',
      );
      expect(text).toContain(
        'omnidaemon_coordinator_http_requests_total{method="GET",route="/agents/:topic/:name",status="404"} 1',
      );
      expect(text).toContain(
        'omnidaemon_coordinator_http_requests_total{method="GET",route="unmatched",status="404"} 1',
      );
      expect(text).toMatch(
        /omnidaemon_coordinator_http_request_duration_seconds_count\{method="GET",route="\/agents\/:topic\/:name",status="200"\} 1/,
      );
    });
  });
});

describe("buildHttpApp", () => {
  const options = () => ({
    services: new FakeServices().asServices(),
    registry: new Registry(),
    logger: pino({ level: "silent" }),
    config: { host: "127.0.0.1", port: 0 },
  });

  it("two apps on one registry share the HTTP metrics instead of failing on the duplicate", async () => {
    const shared = { ...options(), registry: new Registry() };
    const a = buildHttpApp(shared);
    const b = buildHttpApp(shared);
    await Promise.all([a.close(), b.close()]);
    expect(shared.registry.getMetricsAsArray().map((metric) => metric.name)).toEqual([
      "omnidaemon_coordinator_http_requests_total",
      "omnidaemon_coordinator_http_request_duration_seconds",
    ]);
  });

  it("answers 503 in the API's error shape while shutting down", async () => {
    const app = buildHttpApp({ ...options(), isClosing: () => true });
    await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const response = await fetch(
        `http://127.0.0.1:${app.server.address() && (app.server.address() as { port: number }).port}/livez`,
      );
      expect(response.status).toBe(503);
      expect(response.headers.get("connection")).toBe("close");
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    } finally {
      await app.close();
    }
  });
});

describe("buildHttpServer: lifecycle", () => {
  const make = (overrides: { apiToken?: string; port?: number } = {}) => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino(
      { level: "debug" },
      { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
    );
    const server = buildHttpServer({
      services: new FakeServices().asServices(),
      registry: new Registry(),
      logger,
      config: { host: "127.0.0.1", port: 0, ...overrides },
    });
    return { server, lines };
  };

  it("does no I/O when built, listens on start, answers, and stops", async () => {
    const { server } = make();
    expect(server.name).toBe("http-server");
    expect(server.address()).toBeUndefined();
    await server.start();
    const address = server.address();
    expect(address).toEqual({ host: "127.0.0.1", port: expect.any(Number), url: expect.any(String) });
    const response = await fetch(`${address?.url}/livez`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    await server.stop();
    expect(server.address()).toBeUndefined();
    await expect(fetch(`${address?.url}/livez`)).rejects.toThrow();
  });

  it("start() twice listens once", async () => {
    const { server } = make();
    await Promise.all([server.start(), server.start()]);
    await server.stop();
  });

  it("stop() is idempotent and safe before start(); start() after stop() is refused", async () => {
    const { server } = make();
    const first = server.stop();
    expect(server.stop()).toBe(first);
    await first;
    await expect(server.start()).rejects.toThrow(/stopped/);
  });

  it("a failed start (port in use) rejects, and stop() still settles", async () => {
    const a = make();
    await a.server.start();
    const b = make({ port: a.server.address()?.port ?? 0 });
    await expect(b.server.start()).rejects.toThrow(/EADDRINUSE/);
    await b.server.stop();
    await a.server.stop();
  });

  it("stop() is bounded: a request still in flight at the deadline has its connection closed", async () => {
    const services = new FakeServices();
    let called: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (called = resolve));
    services.listWorkers = () => {
      called();
      return new Promise(() => undefined); // never answers
    };
    const server = buildHttpServer({
      services: services.asServices(),
      registry: new Registry(),
      logger: pino({ level: "silent" }),
      config: { host: "127.0.0.1", port: 0 },
      stopTimeoutMs: 100,
    });
    await server.start();
    const pending = fetch(`${server.address()?.url}/v1/workers`);
    await reached;
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(pending).rejects.toThrow();
  });

  it("warns that the API is unauthenticated when no token is set, not when one is", async () => {
    const open = make();
    await open.server.start();
    await open.server.stop();
    expect(open.lines.some((line) => line.level === 40 && /unauthenticated/.test(line.msg))).toBe(true);

    const closed = make({ apiToken: TEST_TOKEN });
    await closed.server.start();
    await closed.server.stop();
    expect(closed.lines.some((line) => /unauthenticated/.test(line.msg))).toBe(false);
  });
});
