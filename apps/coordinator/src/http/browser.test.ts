import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { TEST_TOKEN, startTestApp, type TestApp, type TestResponse } from "./testing/test-app";

/** Raw HTTP, so the test controls Host and Origin exactly as a browser (or a rebinding page) would send them. */
function send(
  t: TestApp,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<Pick<TestResponse, "status" | "body">> {
  const { port } = t.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: text === "" ? undefined : JSON.parse(text) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

// Issue 10, item 3: without a token, the browser is the attacker.
describe("HTTP app without a token: browser requests", () => {
  let t: TestApp;
  let port: number;
  beforeEach(async () => {
    t = await startTestApp();
    port = (t.app.server.address() as AddressInfo).port;
    await t.request("POST", "/agents", { json: { topic: "t", name: "a" } });
  });
  afterEach(() => t.close());

  it("refuses a cross-site POST …/unsubscribe (foreign Origin, no body) with 403, and pauses nothing", async () => {
    const response = await send(t, "POST", "/agents/t/a/unsubscribe", {
      host: `127.0.0.1:${port}`,
      origin: "https://evil.example",
    });
    expect(response.status).toBe(403);
    expect(response.body.error).toEqual(
      expect.objectContaining({
        code: "forbidden",
        field: "origin",
        message: expect.stringMatching(/^origin: /),
      }),
    );
    expect(t.services.callsOf("pauseAgent")).toEqual([]);
  });

  it.each(["null", "http://127.0.0.1:1", "http://localhost.evil.example"])(
    "refuses Origin %s (not this server)",
    async (origin) => {
      const response = await send(t, "GET", "/agents", { host: `127.0.0.1:${port}`, origin });
      expect(response.status).toBe(403);
    },
  );

  it("refuses a non-loopback Host (DNS rebinding) with 403, even on reads", async () => {
    for (const host of [`evil.example:${port}`, "evil.example", `10.0.0.1:${port}`]) {
      const response = await send(t, "GET", "/agents", { host });
      expect(response.status).toBe(403);
      expect(response.body.error).toEqual(expect.objectContaining({ code: "forbidden", field: "host" }));
    }
  });

  it("accepts loopback Hosts and this server's own Origin, and requests without Origin (CLI, SDK)", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "localhost"]) {
      expect((await send(t, "GET", "/agents", { host })).status).toBe(200);
    }
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const response = await send(t, "POST", "/agents/t/a/unsubscribe", {
        host: `localhost:${port}`,
        origin,
      });
      expect(response.status).toBe(200);
    }
  });
});

describe("HTTP app with a token: Host and Origin are not restricted", () => {
  it("a bearer token is the credential a browser cannot send by itself", async () => {
    const t = await startTestApp({ token: TEST_TOKEN });
    try {
      const response = await send(t, "GET", "/agents", {
        host: "coordinator.internal:8765",
        origin: "https://console.example",
        authorization: `Bearer ${TEST_TOKEN}`,
      });
      expect(response.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
