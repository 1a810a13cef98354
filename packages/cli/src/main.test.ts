import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { COMMANDS } from "./commands";
import { commandName } from "./commands/types";
import type { Io } from "./io";
import { resolve, run, type RunDeps } from "./main";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function harness(
  options: { env?: NodeJS.ProcessEnv; stdinIsTTY?: boolean; answer?: (call: Call) => Response } = {},
) {
  const calls: Call[] = [];
  const launched: Array<{ app: string; args: string[] }> = [];
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: new PassThrough(),
    stdoutIsTTY: false,
    stdinIsTTY: options.stdinIsTTY ?? false,
    env: options.env ?? {},
  };
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    return (options.answer ?? (() => json(200, {})))(call);
  }) as typeof fetch;
  const deps: RunDeps = {
    fetch: fakeFetch,
    launch: async (app, args) => {
      launched.push({ app, args });
      return 0;
    },
  };
  return {
    calls,
    launched,
    run: async (...argv: string[]) => {
      stdout = "";
      stderr = "";
      const code = await run(argv, io, deps);
      return { code, stdout, stderr };
    },
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("dispatch and usage errors (exit 2)", () => {
  it("prints the usage: --help exits 0, no command exits 2", async () => {
    const h = harness();
    const help = await h.run("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: omnidaemon/);
    const none = await h.run();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^usage: omnidaemon/);
  });

  it("refuses an unknown command, naming it, with the usage of the nearest group", async () => {
    const h = harness();
    const top = await h.run("coordinatr");
    expect(top.code).toBe(2);
    expect(top.stderr).toMatch(/unknown command "coordinatr"[\s\S]*usage: omnidaemon/);
    const sub = await h.run("agent", "lst");
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/unknown command "agent lst"[\s\S]*agent list/);
  });

  it("shows a group's commands: exit 2 bare, 0 with --help", async () => {
    const h = harness();
    expect((await h.run("bus", "dlq", "--help")).code).toBe(0);
    const bare = await h.run("agent");
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("agent delete-topic");
  });

  it("answers --help on every command with its usage line and an example, without calling the API", async () => {
    const h = harness();
    for (const command of COMMANDS) {
      const { code, stdout } = await h.run(...command.path, "--help");
      expect(code).toBe(0);
      expect(stdout).toContain(`usage: omnidaemon ${commandName(command)}`);
      expect(stdout).toMatch(/\nexamples?:\n {2}.*omnidaemon /);
      expect((await h.run("help", ...command.path)).stdout).toBe(stdout);
    }
    expect(h.calls).toHaveLength(0);
    expect(h.launched).toHaveLength(0);
  });

  it.each([
    [["agent", "get", "--topic", "x"], "missing required flag --name"],
    [["agent", "list", "--bogus"], "unknown flag --bogus"],
    [["task", "publish", "--topic", "x", "--content", "{bad"], "--content is not valid JSON"],
    [["task", "publish", "--topic", "x", "--content", "1", "--timeout-ms", "5"], "--timeout-ms needs --wait"],
    [
      ["task", "publish", "--topic", "x", "--content", "1", "--wait", "--timeout-ms", "soon"],
      "--timeout-ms must be",
    ],
    [["task", "list", "--status", "done"], "--status must be one of pending, processing"],
    [["task", "list", "--limit", "0"], "--limit must be an integer"],
    [["task", "result"], "missing argument <id>"],
    [["bus", "dlq", "--topic", "x", "--limit", "many"], "--limit must be an integer"],
    [
      ["bus", "dlq", "replay", "-t", "x", "-n", "y"],
      "say what to replay: --all, --id <id>... or --error-class",
    ],
    [
      ["bus", "dlq", "replay", "-t", "x", "-n", "y", "--all", "--id", "a"],
      "give only one of --all, --id or --error-class",
    ],
    [["health", "--url", "not a url"], '--url is not a URL: "not a url"'],
    [["health", "--url", "ftp://host"], "--url must be an http:// or https:// URL"],
  ])("%j is a usage error naming the flag", async (argv, message) => {
    const h = harness();
    const { code, stderr, stdout } = await h.run(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain(`usage: omnidaemon ${argv[0]}`);
    expect(stdout).toBe("");
    expect(h.calls).toHaveLength(0);
  });

  it("names OMNIDAEMON_COORDINATOR_URL when the bad URL comes from it", async () => {
    const h = harness({ env: { OMNIDAEMON_COORDINATOR_URL: "localhost:8765" } });
    const { code, stderr } = await h.run("health");
    expect(code).toBe(2);
    expect(stderr).toContain("OMNIDAEMON_COORDINATOR_URL must be an http:// or https:// URL");
  });
});

describe("confirmation", () => {
  it.each([
    ["agent", "delete", "-t", "x", "-n", "y"],
    ["agent", "delete-topic", "-t", "x"],
    ["bus", "dlq", "purge", "-t", "x", "-n", "y"],
    ["bus", "dlq", "replay", "-t", "x", "-n", "y", "--all"],
    ["storage", "clear-agents"],
  ])("%s %s refuses without a terminal and without --yes, before any request", async (...argv) => {
    const h = harness();
    const { code, stderr } = await h.run(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain("stdin is not a terminal: pass --yes");
    expect(h.calls).toHaveLength(0);
  });

  it("proceeds with --yes (or -y), and a dry-run replay needs no confirmation", async () => {
    const h = harness({
      answer: () => json(200, { dry_run: true, replayed: [], skipped: [], not_found: [] }),
    });
    expect((await h.run("bus", "dlq", "replay", "-t", "x", "-n", "y", "--all", "--dry-run")).code).toBe(0);
    expect(h.calls[0]?.body).toEqual({ topic: "x", agent: "y", all: true, dry_run: true, force: false });
    expect((await h.run("storage", "clear-agents", "-y")).code).toBe(0);
    expect(h.calls[1]).toMatchObject({ method: "DELETE", url: "http://127.0.0.1:8765/agents?confirm=true" });
  });
});

describe("requests and errors (exit 1)", () => {
  it("sends the token, the actor and JSON; --json prints the API's body", async () => {
    const body = { orders: [{ topic: "orders", name: "billing", state: "active" }] };
    const h = harness({
      env: { OMNIDAEMON_API_TOKEN: "secret-token", OMNIDAEMON_COORDINATOR_URL: "http://c:1/" },
      answer: () => json(200, body),
    });
    const { code, stdout } = await h.run("agent", "list", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(body);
    expect(h.calls[0]?.url).toBe("http://c:1/agents");
    expect(h.calls[0]?.headers.authorization).toBe("Bearer secret-token");
    expect(h.calls[0]?.headers["x-omnidaemon-actor"]).toMatch(/^cli:.+@.+$/);
  });

  it("lets --url and --token win over the environment, also before the command's name", async () => {
    const h = harness({ env: { OMNIDAEMON_API_TOKEN: "env", OMNIDAEMON_COORDINATOR_URL: "http://env:1" } });
    await h.run("--url", "http://flag:2", "--token", "flag", "metrics", "--topic", "t");
    expect(h.calls[0]?.url).toBe("http://flag:2/metrics/summary?topic=t");
    expect(h.calls[0]?.headers.authorization).toBe("Bearer flag");
  });

  it("reads the token from OMNIDAEMON_API_TOKEN_FILE (a mounted secret), and names the variable when it cannot", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-token-"));
    try {
      writeFileSync(join(dir, "token"), "from-file-token\n");
      const fromFile = harness({ env: { OMNIDAEMON_API_TOKEN_FILE: join(dir, "token") } });
      expect((await fromFile.run("agent", "list", "--json")).code).toBe(0);
      expect(fromFile.calls[0]?.headers.authorization).toBe("Bearer from-file-token");

      const missing = harness({ env: { OMNIDAEMON_API_TOKEN_FILE: join(dir, "absent") } });
      const refused = await missing.run("health");
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("OMNIDAEMON_API_TOKEN_FILE");
      expect(missing.calls).toHaveLength(0);

      const both = harness({
        env: { OMNIDAEMON_API_TOKEN: "inline", OMNIDAEMON_API_TOKEN_FILE: join(dir, "token") },
      });
      const twice = await both.run("health");
      expect(twice.code).toBe(2);
      expect(twice.stderr).toContain(
        "set either OMNIDAEMON_API_TOKEN or OMNIDAEMON_API_TOKEN_FILE, not both",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says which URL it tried and which variable to set when nothing answers", async () => {
    const h = harness({
      answer: () => {
        throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
      },
    });
    const { code, stderr } = await h.run("health");
    expect(code).toBe(1);
    expect(stderr).toContain("cannot reach the coordinator at http://127.0.0.1:8765: connection refused");
    expect(stderr).toContain("OMNIDAEMON_COORDINATOR_URL");
  });

  it("says to set OMNIDAEMON_API_TOKEN on 401", async () => {
    const h = harness({
      answer: () => json(401, { error: { code: "unauthorized", message: "missing token" } }),
    });
    const { code, stderr } = await h.run("agent", "list");
    expect(code).toBe(1);
    expect(stderr).toContain("401 unauthorized");
    expect(stderr).toContain("set OMNIDAEMON_API_TOKEN");
  });

  it("lists the known agents of the topic on an unknown agent", async () => {
    const h = harness({
      answer: () =>
        json(404, { error: { code: "not_found", message: "agent not registered", known: ["a", "b"] } }),
    });
    const { code, stderr } = await h.run("agent", "get", "--topic", "orders", "--name", "nope");
    expect(code).toBe(1);
    expect(stderr).toContain('unknown agent: "nope" is not registered on topic "orders"');
    expect(stderr).toContain('known agents on "orders": a, b');
  });

  it("names the flag behind a field the API refused", async () => {
    const h = harness({
      answer: () => json(400, { error: { code: "invalid_input", field: "topic", message: "topic: bad" } }),
    });
    const { code, stderr } = await h.run("metrics", "--topic", "!!");
    expect(code).toBe(1);
    expect(stderr).toContain("topic: bad (check --topic)");
  });

  it("exits 1 when health is down, with the report", async () => {
    const report = {
      status: "down",
      checked_at: "2026-01-01T00:00:00Z",
      kafka: { ok: false, error: "no brokers" },
      postgres: { ok: true, latency_ms: 1 },
      agents: [],
      workers: [],
      uptime_seconds: null,
      registered_agents: 0,
      active_consumers: 0,
    };
    const h = harness({ answer: () => json(503, report) });
    const { code, stdout } = await h.run("health");
    expect(code).toBe(1);
    expect(stdout).toMatch(/^status {13}down\n/);
    expect(stdout).toContain("kafka              down: no brokers");
  });
});

describe("odd answers", () => {
  it("says when what answers is not the coordinator", async () => {
    const h = harness({ answer: () => new Response("<html>hello</html>", { status: 200 }) });
    const { code, stderr } = await h.run("agent", "list");
    expect(code).toBe(1);
    expect(stderr).toContain(
      "http://127.0.0.1:8765 is not the coordinator: it answered GET /agents with 200",
    );
    expect(stderr).toContain("OMNIDAEMON_COORDINATOR_URL");
  });

  it("reports a 503 without a health report (shutting down) as a failure, not a crash", async () => {
    const h = harness({
      answer: () => json(503, { error: { code: "unavailable", message: "shutting down" } }),
    });
    const { code, stderr } = await h.run("health");
    expect(code).toBe(1);
    expect(stderr).toContain("without a health report: shutting down");
  });

  it("prints the version", async () => {
    const { code, stdout } = await harness().run("--version");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^omnidaemon \d+\.\d+\.\d+\n$/);
  });
});

describe("launchers", () => {
  it("passes the arguments to the app, and answers --help itself", async () => {
    const h = harness();
    await h.run("coordinator");
    await h.run("coordinator", "migrate");
    await h.run("worker", "--agents", "./agents.js");
    expect(h.launched).toEqual([
      { app: "coordinator", args: [] },
      { app: "coordinator", args: ["migrate"] },
      { app: "worker", args: ["--agents", "./agents.js"] },
    ]);
    expect((await h.run("worker", "--help")).stdout).toContain(
      "usage: omnidaemon worker [--agents <module>]",
    );
    expect(h.launched).toHaveLength(3);
  });
});

describe("resolve", () => {
  it("takes the longest command name and leading global flags", () => {
    expect(resolve(["--url", "http://x", "bus", "dlq", "replay", "--all"])).toMatchObject({
      leading: ["--url", "http://x"],
      words: ["bus", "dlq", "replay"],
      rest: ["--all"],
    });
    expect(resolve(["task", "result", "abc"])).toMatchObject({ words: ["task", "result"], rest: ["abc"] });
    expect(resolve(["agent", "nope"]).command).toBeUndefined();
  });
});
