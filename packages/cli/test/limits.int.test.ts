// `omnidaemon agent limits` — the built binary against a real, token-protected coordinator (itself
// `omnidaemon coordinator`) on real Kafka and Postgres: show, change, clear, the exit codes, and the round trip
// a change makes to the control topic, where a follower-side reader decodes the limits every worker will enforce.
import { rateHintKey } from "@omnidaemon/protocol";
import {
  ControlTopicReader,
  type CoordinatorProcess,
  dropSchema,
  startCoordinatorProcess,
  uniqueName,
} from "@omnidaemon/testkit";
import { TOKEN, api, cleanKafka, runCli } from "./support";

const topic = uniqueName("cli_limits");
const agent = "writer";
const CONFIGURED = { rateLimit: { perSecond: 50 }, maxInFlight: 20 };

let coordinator: CoordinatorProcess;
let env: Record<string, string>;
let reader: ControlTopicReader;

const cli = (args: string[]) => runCli(["agent", "limits", "--topic", topic, "--name", agent, ...args], env);
const json = (text: string) => JSON.parse(text) as any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The limits on the control topic in the agent's record of `revision` (waits for it). */
function limitsAt(revision: number) {
  return reader.waitFor(`the control record of revision ${revision}`, (seen) =>
    seen.record.kind === "desired_state" && seen.record.state.revision === revision
      ? { limits: seen.record.state.limits, seenAt: seen.seenAt }
      : undefined,
  );
}

beforeAll(async () => {
  coordinator = await startCoordinatorProcess({
    schema: uniqueName("cli_limits"),
    token: TOKEN,
    heartbeatTimeoutMs: 600_000,
  });
  env = { OMNIDAEMON_COORDINATOR_URL: coordinator.url, OMNIDAEMON_API_TOKEN: TOKEN };
  const registered = await api(coordinator.url, "POST", "/agents", {
    topic,
    name: agent,
    config: CONFIGURED,
  });
  expect(registered.status).toBe(200);
  reader = new ControlTopicReader((key) => key === `${topic}/${agent}` || key === rateHintKey(topic, agent));
  await reader.start();
});

afterAll(async () => {
  await reader?.stop();
  await coordinator?.stop();
  await dropSchema(coordinator.schema);
  await cleanKafka([{ topic, agent }]);
});

describe("omnidaemon agent limits", () => {
  it("shows the limits with no change flag: what workers enforce, and where it comes from", async () => {
    const result = await cli([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`limits of ${topic}/${agent} (fleet-wide; revision`);
    expect(result.stdout).toMatch(/rate limit +50\/s, burst 50 +config +50\/s, burst 50/);
    expect(result.stdout).toMatch(/max in flight +20 +config +20/);
    const asJson = await cli(["--json"]);
    expect(json(asJson.stdout).limits).toEqual({
      configured: CONFIGURED,
      override: null,
      effective: CONFIGURED,
    });
  });

  it("changes them fleet-wide: the control topic carries the new limits within seconds", async () => {
    const started = Date.now();
    const result = await cli(["--per-second", "12.5", "--max-in-flight", "4", "--json"]);
    expect(result.code).toBe(0);
    const answer = json(result.stdout);
    const effective = { rateLimit: { perSecond: 12.5 }, maxInFlight: 4 };
    expect(answer.limits).toEqual({ configured: CONFIGURED, override: effective, effective });
    const seen = await limitsAt(answer.revision);
    expect(seen.limits).toEqual(effective);
    // From the command's start (a Node process, GET, PUT) to the record a worker's follower reads.
    expect(seen.seenAt - started).toBeLessThan(15_000);
    process.stdout.write(`agent limits → control topic: ${seen.seenAt - started} ms\n`);

    const table = await cli([]);
    expect(table.stdout).toMatch(/rate limit +12\.5\/s, burst 13 +override +50\/s, burst 50/);
    expect(table.stdout).toMatch(/max in flight +4 +override +20/);
    const get = await runCli(["agent", "get", "--topic", topic, "--name", agent], env);
    expect(get.stdout).toMatch(/limits +12\.5\/s, burst 13; max in flight 4 \(override\)/);
  });

  it("changes only what a flag names: --scope keeps the rate and max in flight", async () => {
    const result = await cli(["--scope", "tenant", "--burst", "3", "--json"]);
    expect(result.code).toBe(0);
    const answer = json(result.stdout);
    expect(answer.limits.effective).toEqual({
      rateLimit: { perSecond: 12.5, burst: 3, scope: "tenant" },
      maxInFlight: 4,
    });
    expect((await limitsAt(answer.revision)).limits).toEqual(answer.limits.effective);
  });

  it("--clear puts the configured limits back, on the control topic too", async () => {
    const result = await cli(["--clear"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/rate limit +50\/s, burst 50 +config/);
    expect(result.stderr).toContain("every worker applies it within seconds");
    const answer = json((await cli(["--json"])).stdout);
    expect(answer.limits.override).toBeNull();
    expect((await limitsAt(answer.revision)).limits).toEqual(CONFIGURED);
  });

  it("exits 2 on bad flags, naming them, and changes nothing", async () => {
    const before = json((await cli(["--json"])).stdout).revision;
    for (const [args, message] of [
      [["--per-second", "-3"], "--per-second must be a number above 0"],
      [["--per-second", "1", "--per-minute", "60"], "give --per-second or --per-minute, not both"],
      [["--scope", "everyone"], '--scope must be one of agent, tenant, got "everyone"'],
      [["--clear", "--max-in-flight", "2"], "--clear removes the override"],
    ] as const) {
      const result = await cli([...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect(json((await cli(["--json"])).stdout).revision).toBe(before);
  });

  it("exits 1 for an unknown agent, listing the known ones", async () => {
    const result = await runCli(
      ["agent", "limits", "--topic", topic, "--name", "nobody", "--max-in-flight", "2"],
      env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`known agents on "${topic}": ${agent}`);
  });

  it("left nothing on the agent's control keys that a follower cannot decode", () => {
    expect(reader.invalid).toEqual([]);
  });
});
