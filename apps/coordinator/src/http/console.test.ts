import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONSOLE_CSP } from "./console";
import { startTestApp, TEST_TOKEN, type TestApp } from "./testing/test-app";

const SECRET = "secret-outside-the-build";
const INDEX = '<!doctype html><script type="module" src="/ui/assets/index-1a2b3c.js"></script>';

/** A fake console build in a temporary directory, beside a file (and a symlink to it) that must never be served. */
function fakeBuild(): { root: string; dist: string } {
  const root = mkdtempSync(join(tmpdir(), "omnidaemon-console-test-"));
  const dist = join(root, "dist", "ui");
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(join(dist, "index.html"), INDEX);
  writeFileSync(join(dist, "favicon.svg"), "<svg/>");
  writeFileSync(join(dist, "assets", "index-1a2b3c.js"), "console.log(1)");
  writeFileSync(join(dist, "assets", "index-4d5e6f.css"), "body{}");
  writeFileSync(join(root, "dist", "secret.txt"), SECRET);
  writeFileSync(join(root, "secret.txt"), SECRET);
  symlinkSync(join(root, "secret.txt"), join(dist, "link.txt"));
  return { root, dist };
}

/** Raw HTTP: the path goes on the wire exactly as given (fetch would resolve `..` before sending it). */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the console under /ui", () => {
  let build: ReturnType<typeof fakeBuild>;
  let t: TestApp;
  beforeAll(async () => {
    build = fakeBuild();
    t = await startTestApp({ consoleAssetsDir: build.dist });
  });
  afterAll(async () => {
    await t.close();
    rmSync(build.root, { recursive: true, force: true });
  });

  it.each(["/ui", "/ui/", "/ui/index.html"])("%s is index.html, revalidated on every load", async (path) => {
    const response = await t.request("GET", path);
    expect(response.status).toBe(200);
    expect(response.text).toBe(INDEX);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });

  it("sends a strict Content-Security-Policy and anti-framing headers with every /ui response, 404s included", async () => {
    for (const path of ["/ui/", "/ui/assets/index-1a2b3c.js", "/ui/nope.js"]) {
      const { headers } = await t.request("GET", path);
      expect(headers.get("content-security-policy")).toBe(CONSOLE_CSP);
      expect(headers.get("x-content-type-options")).toBe("nosniff");
      expect(headers.get("x-frame-options")).toBe("DENY");
      expect(headers.get("referrer-policy")).toBe("no-referrer");
    }
    const directives = CONSOLE_CSP.split("; ");
    expect(directives).toEqual(
      expect.arrayContaining([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
      ]),
    );
    // No inline code, no eval, no other origin anywhere in the policy.
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  });

  it("serves hashed assets as immutable, with their content type", async () => {
    const js = await t.request("GET", "/ui/assets/index-1a2b3c.js");
    expect(js.status).toBe(200);
    expect(js.text).toBe("console.log(1)");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const css = await t.request("GET", "/ui/assets/index-4d5e6f.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const icon = await t.request("GET", "/ui/favicon.svg");
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers 304 to a request that already has the current version", async () => {
    const first = await t.request("GET", "/ui/");
    const etag = first.headers.get("etag") as string;
    const again = await t.request("GET", "/ui/", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    const stale = await t.request("GET", "/ui/", { headers: { "if-none-match": '"old"' } });
    expect(stale.status).toBe(200);
  });

  it.each([
    "/ui/../secret.txt",
    "/ui/../../secret.txt",
    "/ui/assets/../../secret.txt",
    "/ui/..%2fsecret.txt",
    "/ui/..%2f..%2fsecret.txt",
    "/ui/%2e%2e/secret.txt",
    "/ui/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/ui/..%5csecret.txt",
    "/ui//etc/passwd",
    "/ui/%2fetc%2fpasswd",
    `/ui/${encodeURIComponent(join(tmpdir(), "secret.txt"))}`,
    "/ui/link.txt",
    "/ui/assets",
    "/ui/assets/",
    "/ui/index.html%00.js",
    "/uiindex.html",
    "/ui..%2fsecret.txt",
  ])("never serves a file outside the build: GET %s", async (path) => {
    const { port } = t.app.server.address() as AddressInfo;
    const response = await rawGet(port, path);
    expect(response.body).not.toContain(SECRET);
    expect(response.body).not.toContain("root:");
    expect([400, 404]).toContain(response.status);
  });

  it("refuses other methods with 405 and Allow", async () => {
    const response = await t.request("POST", "/ui/", { json: {} });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });

  it("without a token, refuses a non-loopback Host like the API does (DNS rebinding)", async () => {
    const { port } = t.app.server.address() as AddressInfo;
    const response = await rawGet(port, "/ui/", { host: `attacker.example:${port}` });
    expect(response.status).toBe(403);
  });
});

describe("the console with a token", () => {
  let build: ReturnType<typeof fakeBuild>;
  let t: TestApp;
  beforeAll(async () => {
    build = fakeBuild();
    t = await startTestApp({ token: TEST_TOKEN, consoleAssetsDir: build.dist });
  });
  afterAll(async () => {
    await t.close();
    rmSync(build.root, { recursive: true, force: true });
  });

  it("serves the page without the bearer token (it holds no data), while the API still requires it", async () => {
    expect((await t.request("GET", "/ui/")).status).toBe(200);
    expect((await t.request("GET", "/ui/assets/index-1a2b3c.js")).status).toBe(200);
    expect((await t.request("GET", "/agents")).status).toBe(401);
  });
});

describe("a coordinator whose console was not built", () => {
  it("answers /ui with a 404 that says to build it", async () => {
    const t = await startTestApp({ consoleAssetsDir: join(tmpdir(), "omnidaemon-no-such-console-build") });
    try {
      const response = await t.request("GET", "/ui/");
      expect(response.status).toBe(404);
      expect(response.body.error.message).toContain("npm run build");
    } finally {
      await t.close();
    }
  });
});
