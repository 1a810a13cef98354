import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { signWebhook, verifyWebhookSignature, WEBHOOK_HEADER } from "./signature";
import {
  WebhookDeliverer,
  webhookMetricOutcome,
  type WebhookDelivererOptions,
  type WebhookOutcome,
} from "./webhook-deliverer";

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  received: Received[];
  /** Resolves when the n-th request (1-based) has been received. */
  nth(n: number): Promise<void>;
  close(): Promise<void>;
}

/** A loopback receiver; `respond` decides the answer for the n-th request (0-based). */
async function receiver(respond: (n: number, res: ServerResponse) => void): Promise<TestServer> {
  const received: Received[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const n = received.length;
      received.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      for (const waiter of waiters.filter((w) => w.n <= received.length)) waiter.resolve();
      respond(n, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    received,
    nth: (n) =>
      n <= received.length ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const status =
  (...codes: number[]) =>
  (n: number, res: ServerResponse): void => {
    res.statusCode = codes[Math.min(n, codes.length - 1)] ?? 200;
    res.end("ok");
  };

const meta = { taskId: "7f1c2b1e-0000-4000-8000-000000000001", topic: "file.uploaded", agent: "thumbnailer" };
const body = { task_id: meta.taskId, status: "completed", result: { pages: 3, title: "ünïcødé" } };

const servers: TestServer[] = [];
const deliverers: WebhookDeliverer[] = [];

async function setup(
  respond: (n: number, res: ServerResponse) => void,
  options: Partial<WebhookDelivererOptions> = {},
): Promise<{ server: TestServer; deliverer: WebhookDeliverer }> {
  const server = await receiver(respond);
  servers.push(server);
  const deliverer = makeDeliverer({ allowPrivateAddresses: true, ...options });
  await deliverer.start();
  return { server, deliverer };
}

function makeDeliverer(options: Partial<WebhookDelivererOptions> = {}): WebhookDeliverer {
  const deliverer = new WebhookDeliverer({ logger: pino({ level: "silent" }), backoffMs: 5, ...options });
  deliverers.push(deliverer);
  return deliverer;
}

afterEach(async () => {
  await Promise.all(deliverers.splice(0).map((d) => d.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("WebhookDeliverer delivery", () => {
  it("accepts a 2xx on the first try and POSTs the JSON body with its headers", async () => {
    const { server, deliverer } = await setup(status(204));
    const outcome = await deliverer.deliver(`${server.origin}/hooks/in?x=1`, body, meta);

    expect(outcome).toEqual({ delivered: true, attempts: 1, status: 204 });
    expect(server.received).toHaveLength(1);
    const [request] = server.received;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/hooks/in?x=1");
    expect(JSON.parse(request?.body ?? "")).toEqual(body);
    expect(request?.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "omnidaemon-webhook/1",
      "x-omnidaemon-task-id": meta.taskId,
      "x-omnidaemon-topic": meta.topic,
      "x-omnidaemon-agent": meta.agent,
      "x-omnidaemon-attempt": "1",
    });
    expect(request?.headers[WEBHOOK_HEADER.signature]).toBeUndefined();
  });

  it("retries a 500 and counts the 200 that follows", async () => {
    const { server, deliverer } = await setup(status(500, 200));
    const outcome = await deliverer.deliver(`${server.origin}/in`, body, meta);

    expect(outcome).toEqual({ delivered: true, attempts: 2, status: 200 });
    expect(server.received.map((r) => r.headers["x-omnidaemon-attempt"])).toEqual(["1", "2"]);
  });

  it("does not retry a 404", async () => {
    const { server, deliverer } = await setup(status(404, 200));
    const outcome = await deliverer.deliver(`${server.origin}/missing`, body, meta);

    expect(outcome).toEqual({
      delivered: false,
      attempts: 1,
      status: 404,
      code: "http_status",
      error: `webhook ${server.origin}/missing answered 404`,
    });
    expect(server.received).toHaveLength(1);
  });

  it("does not count or follow a 302", async () => {
    const { server, deliverer } = await setup((n, res) => {
      res.writeHead(n === 0 ? 302 : 200, { location: "/elsewhere" }).end();
    });
    const outcome = await deliverer.deliver(`${server.origin}/in`, body, meta);

    expect(outcome).toMatchObject({ delivered: false, attempts: 1, status: 302, code: "http_status" });
    expect(outcome.error).toContain("redirects are not followed");
    expect(server.received.map((r) => r.path)).toEqual(["/in"]);
  });

  it("gives up after maxAttempts of 503", async () => {
    const { server, deliverer } = await setup(status(503), { maxAttempts: 3 });
    const outcome = await deliverer.deliver(`${server.origin}/in`, body, meta);

    expect(outcome).toMatchObject({ delivered: false, attempts: 3, status: 503, code: "http_status" });
    expect(server.received).toHaveLength(3);
  });

  it("retries 408 and 429, honouring Retry-After up to the backoff cap", async () => {
    const { server, deliverer } = await setup(
      (n, res) => {
        if (n === 0) res.writeHead(429, { "retry-after": "3600" }).end();
        else if (n === 1) res.writeHead(408).end();
        else res.writeHead(200).end();
      },
      { maxBackoffMs: 50 },
    );
    const started = Date.now();
    const outcome = await deliverer.deliver(`${server.origin}/in`, body, meta);

    expect(outcome).toEqual({ delivered: true, attempts: 3, status: 200 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("waits as long as Retry-After asks when it is under the cap", async () => {
    const { server, deliverer } = await setup((n, res) =>
      res.writeHead(n === 0 ? 503 : 200, { "retry-after": "1" }).end(),
    );
    const started = Date.now();
    const outcome = await deliverer.deliver(`${server.origin}/in`, body, meta);

    expect(outcome).toEqual({ delivered: true, attempts: 2, status: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("counts a timeout as a failed attempt and retries it", async () => {
    const { server, deliverer } = await setup(
      (n, res) => {
        if (n === 0) return; // never answers; the client gives up
        res.writeHead(200).end();
      },
      { timeoutMs: 150 },
    );
    const outcome = await deliverer.deliver(`${server.origin}/slow`, body, meta);
    expect(outcome).toEqual({ delivered: true, attempts: 2, status: 200 });

    const once = makeDeliverer({ allowPrivateAddresses: true, timeoutMs: 100, maxAttempts: 1 });
    await once.start();
    const hanging = await receiver(() => undefined);
    servers.push(hanging);
    expect(await once.deliver(`${hanging.origin}/slow`, body, meta)).toEqual({
      delivered: false,
      attempts: 1,
      status: undefined,
      code: "timeout",
      error: `webhook ${hanging.origin}/slow timed out after 100 ms`,
    });
  });

  it("retries connection failures and reports them as network errors", async () => {
    const closed = await receiver(status(200));
    await closed.close();
    const deliverer = makeDeliverer({ allowPrivateAddresses: true, maxAttempts: 2 });
    await deliverer.start();

    const outcome = await deliverer.deliver(`${closed.origin}/in`, body, meta);
    expect(outcome).toMatchObject({ delivered: false, attempts: 2, code: "network" });
    expect(outcome.error).toContain("ECONNREFUSED");
  });

  it("refuses a body with no JSON form without sending anything", async () => {
    const { server, deliverer } = await setup(status(200));
    const outcome = await deliverer.deliver(`${server.origin}/in`, { big: 1n }, meta);
    expect(outcome).toMatchObject({ delivered: false, attempts: 0, code: "invalid_body" });
    expect(server.received).toHaveLength(0);
  });

  it("reports every outcome to onOutcome", async () => {
    const seen: Array<[WebhookOutcome, unknown]> = [];
    const { server, deliverer } = await setup(status(200), {
      onOutcome: (outcome, m) => {
        seen.push([outcome, m]);
        throw new Error("a broken hook does not break delivery");
      },
    });
    const outcome = await deliverer.deliver(`${server.origin}/in`, body, meta);
    expect(outcome.delivered).toBe(true);
    expect(seen).toEqual([[outcome, meta]]);
  });
});

describe("WebhookDeliverer signing", () => {
  it("signs the exact bytes sent so the receiver can verify them", async () => {
    const { server, deliverer } = await setup(status(200), { secret: "whsec_test" });
    await deliverer.deliver(`${server.origin}/in`, body, meta);

    const [request] = server.received;
    if (!request) throw new Error("no request received");
    const timestamp = Number(request.headers[WEBHOOK_HEADER.timestamp]);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(request.headers[WEBHOOK_HEADER.signature]).toBe(
      signWebhook("whsec_test", timestamp, request.body),
    );
    expect(verifyWebhookSignature("whsec_test", request.headers, request.body)).toBe(true);
    expect(verifyWebhookSignature("wrong_secret", request.headers, request.body)).toBe(false);
    expect(
      verifyWebhookSignature("whsec_test", request.headers, request.body, { now: Date.now() + 10 * 60_000 }),
    ).toBe(false);
  });
});

describe("WebhookDeliverer destination policy", () => {
  const HINT = "set OMNIDAEMON_WEBHOOK_ALLOW_PRIVATE=true to allow";

  async function refusedWith(
    url: string,
    options: Partial<WebhookDelivererOptions> = {},
  ): Promise<WebhookOutcome> {
    const deliverer = makeDeliverer(options);
    await deliverer.start();
    return deliverer.deliver(url, body, meta);
  }

  it("refuses loopback IPv4 by default, without sending or retrying", async () => {
    const server = await receiver(status(200));
    servers.push(server);
    const outcome = await refusedWith(`${server.origin}/x?token=secret`);

    expect(outcome).toEqual({
      delivered: false,
      attempts: 0,
      status: undefined,
      code: "refused",
      error: `webhook ${server.origin}/x refused: 127.0.0.1 is a loopback address; ${HINT}`,
    });
    expect(server.received).toHaveLength(0);
    expect(webhookMetricOutcome(outcome)).toBe("refused");
  });

  it("refuses IPv6 loopback and IPv4-mapped loopback", async () => {
    expect((await refusedWith("http://[::1]:8080/x")).error).toBe(
      `webhook http://[::1]:8080/x refused: ::1 is a loopback address; ${HINT}`,
    );
    expect(await refusedWith("http://[::ffff:127.0.0.1]/x")).toMatchObject({ code: "refused", attempts: 0 });
  });

  it("refuses a host name that resolves to a private address", async () => {
    const outcome = await refusedWith("https://hooks.internal.example/in", {
      lookup: () => Promise.resolve([{ address: "10.1.2.3", family: 4 }]),
    });
    expect(outcome).toMatchObject({
      code: "refused",
      attempts: 0,
      error: `webhook https://hooks.internal.example/in refused: hooks.internal.example resolves to 10.1.2.3, a private address; ${HINT}`,
    });
  });

  it("refuses non-http schemes even when private addresses are allowed", async () => {
    expect(await refusedWith("file:///etc/passwd", { allowPrivateAddresses: true })).toMatchObject({
      code: "refused",
      attempts: 0,
    });
  });

  it("connects to the address it resolved, not to a second DNS answer", async () => {
    // hooks.test does not exist in any DNS: the request can only reach the server through the pinned lookup.
    const { server, deliverer } = await setup(status(200), {
      lookup: () => Promise.resolve([{ address: "127.0.0.1", family: 4 }]),
    });
    const outcome = await deliverer.deliver(`http://hooks.test:${server.port}/in`, body, meta);

    expect(outcome).toEqual({ delivered: true, attempts: 1, status: 200 });
    expect(server.received[0]?.headers.host).toBe(`hooks.test:${server.port}`);
  });
});

describe("WebhookDeliverer lifecycle", () => {
  it("refuses to deliver before start() and after stop()", async () => {
    const deliverer = makeDeliverer({ allowPrivateAddresses: true });
    expect(await deliverer.deliver("http://127.0.0.1:1/", body, meta)).toMatchObject({
      delivered: false,
      attempts: 0,
      code: "stopped",
    });
    await deliverer.start();
    await deliverer.stop();
    await deliverer.stop();
    expect((await deliverer.deliver("http://127.0.0.1:1/", body, meta)).code).toBe("stopped");
    await expect(deliverer.start()).rejects.toThrow("stopped");
  });

  it("ends a pending retry promptly on stop()", async () => {
    const { server, deliverer } = await setup(status(500), { backoffMs: 60_000 });
    const pending = deliverer.deliver(`${server.origin}/in`, body, meta);
    await server.nth(1);
    // Let the client read the 500 and enter its backoff sleep.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = Date.now();
    await deliverer.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await pending).toMatchObject({ delivered: false, attempts: 1, status: 500, code: "stopped" });
    expect(server.received).toHaveLength(1);
  });

  it("lets a POST on the wire finish during stop()", async () => {
    const { server, deliverer } = await setup((_n, res) => setTimeout(() => res.writeHead(200).end(), 150));
    const pending = deliverer.deliver(`${server.origin}/in`, body, meta);
    await server.nth(1);
    await deliverer.stop();
    expect(await pending).toEqual({ delivered: true, attempts: 1, status: 200 });
  });

  it("aborts a POST still on the wire at the stop deadline", async () => {
    const { server, deliverer } = await setup(() => undefined, { stopTimeoutMs: 100 });
    const pending = deliverer.deliver(`${server.origin}/in`, body, meta);
    await server.nth(1);

    const started = Date.now();
    await deliverer.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toMatchObject({ delivered: false, attempts: 1, code: "stopped" });
  });
});

describe("WebhookDeliverer limits", () => {
  /** A receiver that answers 200 only when the test says so; counts requests open at once. */
  async function heldReceiver(): Promise<{
    server: TestServer;
    release: () => void;
    mostOpen: () => number;
  }> {
    const held: ServerResponse[] = [];
    let open = 0;
    let most = 0;
    let releasing = false;
    const answer = (res: ServerResponse): void => {
      open--;
      res.writeHead(200).end();
    };
    const server = await receiver((_n, res) => {
      open++;
      most = Math.max(most, open);
      if (releasing) setImmediate(() => answer(res));
      else held.push(res);
    });
    servers.push(server);
    return {
      server,
      release: () => {
        releasing = true;
        for (const res of held.splice(0)) answer(res);
      },
      mostOpen: () => most,
    };
  }

  it("never has more than maxConcurrent POSTs on the wire; the others wait their turn and are all delivered", async () => {
    const { server, release, mostOpen } = await heldReceiver();
    const deliverer = makeDeliverer({ allowPrivateAddresses: true, maxConcurrent: 2 });
    await deliverer.start();
    const outcomes = Array.from({ length: 6 }, () => deliverer.deliver(`${server.origin}/in`, body, meta));
    await server.nth(2);
    expect(deliverer.pending.deliveries).toBe(6);
    release();
    expect((await Promise.all(outcomes)).map((o) => o.delivered)).toEqual(Array(6).fill(true));
    expect(server.received).toHaveLength(6);
    expect(mostOpen()).toBe(2);
    expect(deliverer.pending).toEqual({ deliveries: 0, bytes: 0 });
  });

  it("records a webhook failed as overloaded at once, without sending it, when maxPending deliveries are pending", async () => {
    const { server, release } = await heldReceiver();
    const seen: WebhookOutcome[] = [];
    const deliverer = makeDeliverer({
      allowPrivateAddresses: true,
      maxPending: 2,
      onOutcome: (outcome) => seen.push(outcome),
    });
    await deliverer.start();
    const first = deliverer.deliver(`${server.origin}/in`, body, meta);
    const second = deliverer.deliver(`${server.origin}/in`, body, meta);
    await server.nth(2);

    const refused = await deliverer.deliver(`${server.origin}/in`, body, meta);
    expect(refused).toMatchObject({ delivered: false, attempts: 0, code: "overloaded" });
    expect(refused.error).toMatch(/2 deliveries .* already pending/);
    expect(webhookMetricOutcome(refused)).toBe("failed");
    expect(seen).toEqual([refused]);

    release();
    expect((await Promise.all([first, second])).map((o) => o.delivered)).toEqual([true, true]);
    // Room again once they finished.
    expect((await deliverer.deliver(`${server.origin}/in`, body, meta)).delivered).toBe(true);
    expect(server.received).toHaveLength(3);
  });

  it("counts body bytes against maxPendingBytes", async () => {
    const { server, release } = await heldReceiver();
    const size = Buffer.byteLength(JSON.stringify(body));
    const deliverer = makeDeliverer({ allowPrivateAddresses: true, maxPendingBytes: size + 10 });
    await deliverer.start();
    const first = deliverer.deliver(`${server.origin}/in`, body, meta);
    await server.nth(1);
    expect(deliverer.pending).toEqual({ deliveries: 1, bytes: size });
    expect((await deliverer.deliver(`${server.origin}/in`, body, meta)).code).toBe("overloaded");
    release();
    expect((await first).delivered).toBe(true);
    const huge = { ...body, result: "x".repeat(size + 11) };
    expect((await deliverer.deliver(`${server.origin}/in`, huge, meta)).code).toBe("overloaded");
    expect(server.received).toHaveLength(1);
  });

  it("ends a delivery still waiting for a slot as stopped on stop(), without sending it", async () => {
    const { server } = await heldReceiver();
    const deliverer = makeDeliverer({ allowPrivateAddresses: true, maxConcurrent: 1, stopTimeoutMs: 100 });
    await deliverer.start();
    const onWire = deliverer.deliver(`${server.origin}/in`, body, meta);
    const waiting = deliverer.deliver(`${server.origin}/in`, body, meta);
    await server.nth(1);
    await deliverer.stop();
    expect(await waiting).toMatchObject({ delivered: false, attempts: 0, code: "stopped" });
    expect(await onWire).toMatchObject({ delivered: false, attempts: 1, code: "stopped" });
    expect(server.received).toHaveLength(1);
  });
});
