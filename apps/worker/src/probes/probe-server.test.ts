import { request } from "node:http";
import type { AgentConsumerStatus } from "@omnidaemon/bus-kafka";
import pino from "pino";
import { Counter, Registry } from "prom-client";
import type { ProbeConsumer } from "./progress-tracker";
import { ProbeServer, type ProbeServerOptions } from "./probe-server";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on its own connection (no keep-alive pool left behind). */
function get(port: number, path: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

function fakeConsumer(agent: string, patch: Partial<AgentConsumerStatus> = {}) {
  const current: AgentConsumerStatus = {
    phase: "running",
    paused: false,
    member: true,
    assignedPartitions: 2,
    inFlight: 0,
    buffered: 0,
    delayed: 0,
    lastFetchAt: Date.now(),
    lastCompletionAt: Date.now(),
    ...patch,
  };
  const consumer: ProbeConsumer & { set(p: Partial<AgentConsumerStatus>): void } = {
    names: { agent, topic: "file.uploaded" },
    runtimeConfig: { reclaimIdleMs: 1_000, maxRetryBackoffMs: 1_000 },
    status: () => ({ ...current }),
    set: (p) => Object.assign(current, p),
  };
  return consumer;
}

const servers: ProbeServer[] = [];

async function startServer(
  options: Partial<ProbeServerOptions> = {},
): Promise<{ server: ProbeServer; port: number }> {
  const server = new ProbeServer({
    port: 0,
    host: "127.0.0.1",
    registry: new Registry(),
    consumers: () => [],
    logger: pino({ level: "silent" }),
    ...options,
  });
  servers.push(server);
  await server.start();
  const port = server.address();
  if (port === undefined) throw new Error("no port after start()");
  return { server, port };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe("ProbeServer", () => {
  it("serves the registry on /metrics with the Prometheus content type", async () => {
    const registry = new Registry();
    new Counter({ name: "probe_test_total", help: "A test counter.", registers: [registry] }).inc(3);
    const { port } = await startServer({ registry });

    const answer = await get(port, "/metrics?debug=1");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe(registry.contentType);
    expect(answer.body).toBe(await registry.metrics());
    expect(answer.body).toContain("probe_test_total 3");

    const head = await get(port, "/metrics", "HEAD");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });

  it("answers /livez and /readyz with 200 when there are no agents", async () => {
    const { port } = await startServer();
    expect(await get(port, "/livez")).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(await get(port, "/readyz")).toMatchObject({ status: 200, body: '{"status":"ok"}' });
  });

  it("fails /livez with 503 and a reason naming the stuck agent", async () => {
    let clock = Date.now();
    const healthy = fakeConsumer("healthy");
    const stuck = fakeConsumer("thumbnailer", { inFlight: 1, lastCompletionAt: clock - 60_000 });
    const { port } = await startServer({
      consumers: () => [healthy, stuck],
      stallAfterMs: 30_000,
      now: () => clock,
    });

    // The first probe to see the pending work starts the clock: the completion before it may predate a pause.
    expect((await get(port, "/livez")).status).toBe(200);
    clock += 30_001;
    healthy.set({ lastFetchAt: clock });
    stuck.set({ lastFetchAt: clock });

    const answer = await get(port, "/livez");
    expect(answer.status).toBe(503);
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
    const body = JSON.parse(answer.body) as {
      status: string;
      reason: string;
      problems: Array<{ agent: string }>;
    };
    expect(body).toEqual({
      status: "fail",
      reason:
        "agent thumbnailer (topic file.uploaded) has 1 events pending (1 in flight) and completed none for 30 s (limit 30 s)",
      problems: [expect.objectContaining({ agent: "thumbnailer", problem: "stalled" })],
    });

    stuck.set({ lastCompletionAt: clock });
    clock += 1_000;
    expect((await get(port, "/livez")).status).toBe(200);
  });

  it("uses 2 × reclaimIdleMs + maxRetryBackoffMs as the default stall limit", async () => {
    let clock = Date.now();
    // Its last completion at the test's clock, not a later Date.now(): on a loaded machine the 1 ms step below
    // would otherwise land before the limit (this failed once under CI load).
    const a = fakeConsumer("a", { inFlight: 1, lastFetchAt: clock, lastCompletionAt: clock });
    const { server } = await startServer({ consumers: () => [a], now: () => clock });
    expect(server.live().ok).toBe(true);
    clock += 3_000;
    expect(server.live().ok).toBe(true);
    clock += 1;
    expect(server.live().problems.map((p) => p.problem)).toEqual(["stalled"]);
  });

  it("reflects group membership on /readyz and ignores paused agents", async () => {
    const active = fakeConsumer("active", { member: false });
    const paused = fakeConsumer("paused", { paused: true, phase: "idle", member: false });
    const { port } = await startServer({ consumers: () => [active, paused] });

    const notReady = await get(port, "/readyz");
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toMatchObject({
      status: "fail",
      reason:
        "agent active (topic file.uploaded) is not a member of its consumer group (joining or rebalancing)",
    });

    active.set({ member: true });
    expect((await get(port, "/readyz")).status).toBe(200);
  });

  it("answers 404 for other paths and 405 for other methods", async () => {
    const { port } = await startServer();
    expect((await get(port, "/")).status).toBe(404);
    expect((await get(port, "/healthz")).status).toBe(404);
    const post = await get(port, "/livez", "POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("has an address only while started; stop() is idempotent and start() after stop() fails", async () => {
    const { server, port } = await startServer();
    expect(port).toBeGreaterThan(0);
    await Promise.all([server.stop(), server.stop()]);
    expect(server.address()).toBeUndefined();
    await expect(get(port, "/livez")).rejects.toThrow();
    await expect(server.start()).rejects.toThrow("stopped");
  });

  it("can be stopped before it was started", async () => {
    const server = new ProbeServer({
      port: 0,
      registry: new Registry(),
      consumers: () => [],
      logger: pino({ level: "silent" }),
    });
    await server.stop();
    expect(server.address()).toBeUndefined();
  });

  it("fails start() when the port is taken", async () => {
    const { port } = await startServer();
    const second = new ProbeServer({
      port,
      host: "127.0.0.1",
      registry: new Registry(),
      consumers: () => [],
      logger: pino({ level: "silent" }),
    });
    servers.push(second);
    await expect(second.start()).rejects.toMatchObject({ code: "EADDRINUSE" });
  });

  it("bounds stop() when a request never finishes", async () => {
    const hanging = { metrics: () => new Promise<string>(() => undefined), contentType: "text/plain" };
    const { server, port } = await startServer({
      registry: hanging as unknown as Registry,
      stopTimeoutMs: 100,
    });
    const pending = get(port, "/metrics").catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    // The connection was cut: node's client reports "socket hang up" (an Error from node's realm, not jest's).
    expect(await pending).toMatchObject({ code: "ECONNRESET" });
  });
});
