import { PassThrough } from "node:stream";
import { effectiveLimits, type AgentLimitsAnswer } from "@omnidaemon/protocol";
import type { Io } from "../io";
import { run } from "../main";

interface Call {
  method: string;
  path: string;
  body: unknown;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const answer = (limits: AgentLimitsAnswer["limits"]): AgentLimitsAnswer => ({
  topic: "llm",
  agent: "writer",
  revision: 7,
  limits,
});

const CONFIGURED = answer({
  configured: { rateLimit: { perSecond: 50, burst: 60 }, maxInFlight: 20 },
  override: null,
  effective: { rateLimit: { perSecond: 50, burst: 60 }, maxInFlight: 20 },
});

/** `omnidaemon <argv>` against a fake coordinator whose limits route answers `current` (PUT echoes it back). */
async function cli(argv: string[], current: AgentLimitsAnswer = CONFIGURED, status = 200) {
  const calls: Call[] = [];
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: new PassThrough(),
    stdoutIsTTY: false,
    stdinIsTTY: false,
    env: {},
  };
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const call = {
      method: init?.method ?? "GET",
      path: url.pathname,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    if (status !== 200) {
      return json(status, { error: { code: "invalid_input", field: "rateLimit.perSecond", message: "bad" } });
    }
    if (call.method === "PUT") {
      const override = call.body as AgentLimitsAnswer["limits"]["override"];
      const effective = effectiveLimits(current.limits.configured, override);
      return json(200, answer({ ...current.limits, override, effective }));
    }
    if (call.method === "DELETE") {
      const { configured } = current.limits;
      return json(200, answer({ configured, override: null, effective: configured }));
    }
    return json(200, current);
  }) as typeof globalThis.fetch;
  const code = await run(["agent", "limits", "--topic", "llm", "--name", "writer", ...argv], io, {
    fetch,
    launch: async () => 0,
  });
  return { code, stdout, stderr, calls };
}

describe("omnidaemon agent limits", () => {
  it("shows what workers enforce, where it comes from and what is configured, without changing anything", async () => {
    const { code, stdout, calls } = await cli([]);
    expect(code).toBe(0);
    expect(calls).toEqual([{ method: "GET", path: "/agents/llm/writer/limits", body: undefined }]);
    expect(stdout).toContain("limits of llm/writer (fleet-wide; revision 7)");
    expect(stdout).toMatch(/rate limit\s+50\/s, burst 60\s+config\s+50\/s, burst 60/);
    expect(stdout).toMatch(/max in flight\s+20\s+config\s+20/);
    expect(stdout).toMatch(/tenant weights\s+-\s+-\s+-/);
  });

  it("--json prints the API's answer", async () => {
    const { code, stdout } = await cli(["--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(CONFIGURED);
  });

  it("changes the override from the flags, starting from the rate in force, and keeps the rest", async () => {
    const { code, stdout, stderr, calls } = await cli(["--per-second", "20", "--max-in-flight", "5"]);
    expect(code).toBe(0);
    expect(calls.map((c) => c.method)).toEqual(["GET", "PUT"]);
    expect(calls[1]?.body).toEqual({ rateLimit: { perSecond: 20, burst: 60 }, maxInFlight: 5 });
    expect(stdout).toMatch(/rate limit\s+20\/s, burst 60\s+override/);
    expect(stderr).toContain("every worker applies it within seconds");
  });

  it("switches per second to per minute, and changes only the scope when only --scope is given", async () => {
    const withOverride = answer({
      ...CONFIGURED.limits,
      override: { rateLimit: { perSecond: 10 }, tenantWeights: { acme: 2 } },
      effective: { rateLimit: { perSecond: 10 }, maxInFlight: 20, tenantWeights: { acme: 2 } },
    });
    const minute = await cli(["--per-minute", "600"], withOverride);
    expect(minute.calls[1]?.body).toEqual({ rateLimit: { perMinute: 600 }, tenantWeights: { acme: 2 } });
    const scope = await cli(["--scope", "tenant"], withOverride);
    expect(scope.calls[1]?.body).toEqual({
      rateLimit: { perSecond: 10, scope: "tenant" },
      tenantWeights: { acme: 2 },
    });
  });

  it("--clear removes the override", async () => {
    const { code, calls, stdout } = await cli(["--clear"]);
    expect(code).toBe(0);
    expect(calls).toEqual([{ method: "DELETE", path: "/agents/llm/writer/limits", body: undefined }]);
    expect(stdout).toContain("max in flight");
  });

  it.each([
    [["--per-second", "0"], '--per-second must be a number above 0 and at most 1000000, got "0"'],
    [["--per-second", "fast"], "--per-second must be a number above 0"],
    [["--max-in-flight", "2.5"], '--max-in-flight must be an integer from 1 to 100000, got "2.5"'],
    [["--scope", "pod"], '--scope must be one of agent, tenant, got "pod"'],
    [["--per-second", "5", "--per-minute", "60"], "give --per-second or --per-minute, not both"],
    [["--clear", "--burst", "3"], "--clear removes the override; it takes no other change flag"],
  ])("refuses %j with exit 2 before calling the API", async (argv, message) => {
    const { code, stderr, calls } = await cli(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(calls).toEqual([]);
  });

  it("refuses --burst alone when the agent has no rate limit to change (exit 2, nothing sent)", async () => {
    const none = answer({ configured: {}, override: null, effective: {} });
    const { code, stderr, calls } = await cli(["--burst", "5"], none);
    expect(code).toBe(2);
    expect(stderr).toContain("the agent has no rate limit to change");
    expect(calls.map((c) => c.method)).toEqual(["GET"]);
  });

  it("names the flag behind a limit the API refused", async () => {
    const { code, stderr } = await cli([], CONFIGURED, 400);
    expect(code).toBe(1);
    expect(stderr).toContain("(check --per-second)");
  });
});
