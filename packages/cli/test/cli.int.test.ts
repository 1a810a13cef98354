// The built `omnidaemon` binary against a real, token-protected coordinator (itself `omnidaemon coordinator`) on
// real Kafka and Postgres: every command, its --json shape, exit codes, confirmation, and the error messages.
// Tests run in order and share the fleet they build: agents alpha and beta on topic A, gamma and delta on topic B.
import { HEADER, agentNames, createEnvelope, encodeEnvelope } from "@omnidaemon/bus-kafka";
import {
  type CoordinatorProcess,
  dropSchema,
  freePort,
  kafkaBrokers,
  startCoordinatorProcess,
  taskEvent,
  uniqueName,
  withProducer,
  rawKafka,
} from "@omnidaemon/testkit";
import {
  TOKEN,
  api,
  cleanKafka,
  hasScript,
  reportTaskEvents,
  runCli,
  runOnTerminal,
  type CliOptions,
} from "./support";

const topicA = uniqueName("cli_a");
const topicB = uniqueName("cli_b");
const AGENTS = [
  { topic: topicA, agent: "alpha" },
  { topic: topicA, agent: "beta" },
  { topic: topicB, agent: "gamma" },
  { topic: topicB, agent: "delta" },
];
const WORKER_ID = uniqueName("cli-fake-worker").replace(/_/g, "-");
const ESC = "\u001b[";

let coordinator: CoordinatorProcess;
let env: Record<string, string>;
let terminal = false;

/** `omnidaemon …` against the suite's coordinator (URL and token from the environment). */
const cli = (args: string[], options: CliOptions = {}) => runCli(args, env, options);
const json = (text: string) => JSON.parse(text) as any; // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  terminal = await hasScript();
  coordinator = await startCoordinatorProcess({
    schema: uniqueName("cli_int"),
    token: TOKEN,
    // Our fake worker heartbeats once; keep it live for the whole suite.
    heartbeatTimeoutMs: 600_000,
  });
  env = { OMNIDAEMON_COORDINATOR_URL: coordinator.url, OMNIDAEMON_API_TOKEN: TOKEN };
  for (const { topic, agent } of AGENTS) {
    const registered = await api(coordinator.url, "POST", "/agents", {
      topic,
      name: agent,
      description: `the ${agent} agent`,
      version: "1.2.3",
      tags: ["cli-test"],
    });
    expect(registered.status).toBe(200);
  }
  // A worker (through the worker protocol) consuming alpha only: health is then degraded with one consumer.
  const worker = await api(coordinator.url, "POST", "/v1/workers", {
    id: WORKER_ID,
    host: "cli-test-host",
    pid: 4242,
    version: "0.1.0",
    agents: [
      {
        topic: topicA,
        name: "alpha",
        status: "running",
        member: true,
        assigned_partitions: 12,
        in_flight: 0,
      },
    ],
  });
  expect(worker.status).toBe(200);
  await seedKafka();
});

afterAll(async () => {
  await api(coordinator.url, "DELETE", `/v1/workers/${WORKER_ID}`).catch(() => undefined);
  await coordinator?.stop();
  await dropSchema(coordinator.schema);
  await cleanKafka(AGENTS);
});

/**
 * Two dead-lettered events in alpha's DLQ (TypeError task-1, RangeError task-2), three events on topic A
 * partition 0, and alpha's group committed at offset 1 there, so it exists (Empty) with a lag of 2.
 */
async function seedKafka(): Promise<void> {
  const { dlqTopic, groupId } = agentNames(topicA, "alpha");
  await withProducer(async (producer) => {
    for (const [id, errorClass] of [
      ["task-1", "TypeError"],
      ["task-2", "RangeError"],
    ] as const) {
      await producer.send({
        topic: dlqTopic,
        key: id,
        partition: 0,
        value: encodeEnvelope(createEnvelope({ topic: topicA, id, content: { n: id } })),
        headers: {
          [HEADER.errorClass]: errorClass,
          [HEADER.errorMessage]: `${id} failed`,
          [HEADER.dlqReason]: "non_retriable",
          [HEADER.attempt]: "1",
          [HEADER.agent]: "alpha",
        },
      });
    }
    for (let i = 0; i < 3; i++) {
      await producer.send({
        topic: topicA,
        key: null,
        partition: 0,
        value: encodeEnvelope(createEnvelope({ topic: topicA, content: i })),
      });
    }
  });
  const kafka = rawKafka("cli-int-offsets");
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic: topicA, partitions: [{ partition: 0, offset: "1" }] });
  } finally {
    await admin.disconnect();
  }
}

describe("help and launchers", () => {
  it("answers --help on every command with exit 0, and usage errors with exit 2", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z -]*?) {2,}/gm)].map((m) =>
      (m[1] as string).trim(),
    );
    expect(commands).toEqual(
      expect.arrayContaining(["agent list", "bus dlq replay", "coordinator migrate", "worker"]),
    );
    for (const command of commands) {
      const result = await cli([...command.split(" "), "--help"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`usage: omnidaemon ${command}`);
      expect(result.stdout).toMatch(/examples?:\n {2}.*omnidaemon /);
    }
    const unknown = await cli(["agent", "lst"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "agent lst"');
  });

  it("coordinator migrate applies the migrations (exit 0); worker without agents exits 2 naming the flag", async () => {
    const migrate = await cli(["coordinator", "migrate"], {
      env: {
        OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
        OMNIDAEMON_DATABASE_URL: process.env.OMNIDAEMON_DATABASE_URL,
        OMNIDAEMON_DATABASE_SCHEMA: coordinator.schema,
        OMNIDAEMON_LOG_LEVEL: "warn",
      },
    });
    expect(migrate.code).toBe(0);
    const worker = await cli(["worker"], {
      env: {
        OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
        OMNIDAEMON_COORDINATOR_URL: coordinator.url,
      },
    });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain("--agents");
  });
});

describe("errors a person can act on", () => {
  it("names the URL tried and OMNIDAEMON_COORDINATOR_URL when the coordinator is unreachable", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await cli(["agent", "list"], { env: { OMNIDAEMON_COORDINATOR_URL: url } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach the coordinator at ${url}: connection refused`);
    expect(result.stderr).toContain("OMNIDAEMON_COORDINATOR_URL");
    expect(result.stdout).toBe("");
  });

  it("says to set OMNIDAEMON_API_TOKEN on 401: without a token and with a wrong one", async () => {
    const without = await cli(["agent", "list"], { env: { OMNIDAEMON_COORDINATOR_URL: coordinator.url } });
    expect(without.code).toBe(1);
    expect(without.stderr).toContain("401 unauthorized): it requires an API token");
    expect(without.stderr).toContain("set OMNIDAEMON_API_TOKEN");
    const wrong = await cli(["agent", "list", "--token", "not-the-token-at-all"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the API token is wrong");
    // --url and --token as flags work without any environment.
    const flags = await cli(["--url", coordinator.url, "--token", TOKEN, "agent", "list", "--json"], {
      env: {},
    });
    expect(flags.code).toBe(0);
  });

  it("lists the known agents of the topic for an unknown agent", async () => {
    for (const args of [
      ["agent", "get"],
      ["agent", "unsubscribe"],
      ["bus", "lag"],
      ["bus", "dlq"],
    ]) {
      const result = await cli([...args, "--topic", topicA, "--name", "nobody"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`unknown agent: "nobody" is not registered on topic "${topicA}"`);
      expect(result.stderr).toContain(`known agents on "${topicA}": alpha, beta`);
    }
  });
});

describe("agent", () => {
  it("agent list: a table for people, { topic: [agent] } with --json", async () => {
    const table = await cli(["agent", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^TOPIC +AGENT +STATE +CONSUMERS +VERSION +DESCRIPTION\n/);
    expect(table.stdout).toMatch(new RegExp(`${topicA} +alpha +active +1 +1\\.2\\.3 +the alpha agent\\n`));
    expect(table.stdout).not.toContain(ESC);
    const result = await cli(["agent", "list", "--json"]);
    expect(result.code).toBe(0);
    const byTopic = json(result.stdout);
    expect(Object.keys(byTopic).sort()).toEqual([topicA, topicB].sort());
    expect(byTopic[topicA].map((a: { name: string }) => a.name)).toEqual(["alpha", "beta"]);
    expect(byTopic[topicA][0]).toMatchObject({
      topic: topicA,
      name: "alpha",
      state: "active",
      live_consumers: 1,
      version: "1.2.3",
      tags: ["cli-test"],
      consumer_group: `omnidaemon.${topicA}.alpha`,
      dlq_topic: `omnidaemon.dlq.${topicA}.alpha`,
    });
  });

  it("agent get: fields for people, the agent with --json; missing flag is a usage error", async () => {
    const fields = await cli(["agent", "get", "--topic", topicA, "--name", "beta"]);
    expect(fields.code).toBe(0);
    expect(fields.stdout).toMatch(/^topic +\S+\nname +beta\nstate +active\nlive consumers +0\n/);
    const result = await cli(["agent", "get", "-t", topicA, "-n", "beta", "--json"]);
    expect(json(result.stdout)).toMatchObject({
      topic: topicA,
      name: "beta",
      state: "active",
      live_consumers: 0,
    });
    const usage = await cli(["agent", "get", "--topic", topicA]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("missing required flag --name");
  });

  it("agent unsubscribe pauses fleet-wide and agent resume resumes", async () => {
    const paused = await cli(["agent", "unsubscribe", "--topic", topicA, "--name", "beta"]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain(`${topicA}/beta is now paused`);
    expect(paused.stderr).toContain(`omnidaemon agent resume --topic ${topicA} --name beta`);
    expect(json((await cli(["agent", "get", "-t", topicA, "-n", "beta", "--json"])).stdout).state).toBe(
      "paused",
    );
    const resumed = await cli(["agent", "resume", "--topic", topicA, "--name", "beta", "--json"]);
    expect(resumed.code).toBe(0);
    expect(json(resumed.stdout)).toMatchObject({
      status: "resumed",
      topic: topicA,
      agent: "beta",
      state: "active",
    });
    const again = await cli(["agent", "unsubscribe", "--topic", topicA, "--name", "beta", "--json"]);
    expect(json(again.stdout)).toMatchObject({
      status: "unsubscribed",
      state: "paused",
      revision: expect.any(Number),
    });
    await cli(["agent", "resume", "--topic", topicA, "--name", "beta"]);
  });
});

describe("health and metrics", () => {
  it("health shows status, registered agents, active consumers and uptime; --json is the report", async () => {
    const table = await cli(["health"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^status +degraded\nregistered agents +4\nactive consumers +1\nuptime +(\d+s|\d+m \d+s)\nlive workers +1\n/,
    );
    expect(table.stdout).toMatch(/kafka +ok \(/);
    expect(table.stdout).toMatch(/postgres +ok \(/);
    expect(table.stdout).toContain(WORKER_ID);
    const result = await cli(["health", "--json"]);
    expect(result.code).toBe(0);
    const report = json(result.stdout);
    expect(report).toMatchObject({
      status: "degraded",
      registered_agents: 4,
      active_consumers: 1,
      kafka: { ok: true },
      postgres: { ok: true },
    });
    expect(report.uptime_seconds).toEqual(expect.any(Number));
    expect(report.workers).toEqual([
      expect.objectContaining({ id: WORKER_ID, host: "cli-test-host", pid: 4242 }),
    ]);
    expect(report.agents).toContainEqual({
      topic: topicA,
      name: "alpha",
      state: "active",
      live_consumers: 1,
    });
  });
});

describe("task", () => {
  let taskId: string;

  it("task publish prints the task id; --json is { task_id, topic, status }; bad JSON names --content", async () => {
    const bad = await cli(["task", "publish", "--topic", topicA, "--content", "{not json"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--content is not valid JSON");
    const people = await cli(["task", "publish", "--topic", topicA, "--content", '{"file":"a.pdf"}']);
    expect(people.code).toBe(0);
    expect(people.stdout).toMatch(new RegExp(`^published task [0-9a-f-]{36} to ${topicA}\\n$`));
    const result = await cli([
      "task",
      "publish",
      "--topic",
      topicA,
      "--content",
      '"hello"',
      "--correlation-id",
      "corr-1",
      "--tenant-id",
      "tenant-1",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const published = json(result.stdout);
    expect(published).toEqual({ task_id: expect.any(String), topic: topicA, status: "published" });
    taskId = published.task_id;
  });

  it("task result shows the records; an unknown task exits 1", async () => {
    const result = await cli(["task", "result", taskId, "--json"]);
    expect(result.code).toBe(0);
    expect(json(result.stdout)).toEqual({
      task_id: taskId,
      records: [
        expect.objectContaining({
          task_id: taskId,
          topic: topicA,
          agent: "",
          status: "pending",
          correlation_id: "corr-1",
        }),
      ],
    });
    const people = await cli(["task", "result", "--task-id", taskId]);
    expect(people.code).toBe(0);
    expect(people.stdout).toMatch(/\(no agent yet\) +pending/);
    const unknown = await cli(["task", "result", "no-such-task"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no task "no-such-task" \(unknown, or its result expired\)/);
  });

  it("task list filters by topic and status; invalid --status is a usage error", async () => {
    const result = await cli([
      "task",
      "list",
      "--topic",
      topicA,
      "--status",
      "pending",
      "--limit",
      "10",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const records = json(result.stdout);
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(
      records.every((r: { topic: string; status: string }) => r.topic === topicA && r.status === "pending"),
    ).toBe(true);
    const people = await cli(["task", "list", "--topic", topicA]);
    expect(people.stdout).toMatch(/^TASK ID +TOPIC +AGENT +STATUS +ATTEMPTS +DURATION +CREATED +ERROR\n/);
    expect(people.stdout).toContain(taskId);
    const usage = await cli(["task", "list", "--status", "done"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--status must be one of");
  });

  it("task publish --wait waits until every active agent of the topic finished, and prints the result", async () => {
    let seen: ((id: string) => void) | undefined;
    const published = new Promise<string>((resolve) => (seen = resolve));
    const waiting = cli(
      ["task", "publish", "--topic", topicA, "--content", '{"x":1}', "--wait", "--timeout-ms", "40000"],
      {
        timeoutMs: 60_000,
        onStderr: (text) => {
          const match = /published task (\S+);/.exec(text);
          if (match) seen?.(match[1] as string);
        },
      },
    );
    const id = await published;
    const done = (agent: string, result: unknown) =>
      taskEvent({ task_id: id, topic: topicA, agent, status: "completed", duration_ms: 12, result });
    await reportTaskEvents(
      coordinator.clientId,
      [done("alpha", { ok: "alpha" }), done("beta", { ok: "beta" })],
      async () => {
        const task = await api(coordinator.url, "GET", `/tasks/${id}`);
        return task.body?.records?.filter((r: { status: string }) => r.status === "completed").length === 2;
      },
    );
    const result = await waiting;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/alpha +completed +1 +12 ms/);
    expect(result.stdout).toContain('result of beta:\n{\n  "ok": "beta"\n}');
  });

  it("task publish --wait --json exits 1 when the timeout passes first, with the task as it is", async () => {
    const result = await cli([
      "task",
      "publish",
      "-t",
      topicB,
      "--content",
      "1",
      "--wait",
      "--timeout-ms",
      "1500",
      "--json",
    ]);
    expect(result.code).toBe(1);
    expect(json(result.stdout)).toMatchObject({ records: [expect.objectContaining({ status: "pending" })] });
    expect(result.stderr).toMatch(/is still pending after 1\.5 s; omnidaemon task result \S+ shows it later/);
    const usage = await cli(["task", "publish", "-t", topicB, "--content", "1", "--timeout-ms", "5"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--timeout-ms needs --wait");
  });

  it("metrics shows the lifetime counters the task events made; --json is the summary", async () => {
    const table = await cli(["metrics", "--topic", topicA]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^TOPIC +AGENT +RECEIVED +SUCCEEDED +FAILED +RETRIED +DEAD-LETTERED +P50 +P95 +P99 +MEAN\n/,
    );
    const result = await cli(["metrics", "--topic", topicA, "--json"]);
    const summary = json(result.stdout);
    expect(summary).toContainEqual(
      expect.objectContaining({
        topic: topicA,
        agent: "alpha",
        succeeded: 1,
        latency_ms: expect.objectContaining({ count: 1 }),
      }),
    );
    const all = await cli(["metrics", "--json"]);
    expect(all.code).toBe(0);
    expect(Array.isArray(json(all.stdout))).toBe(true);
  });
});

describe("bus", () => {
  it("bus groups --stream lists the agents' groups; --json is the API's list", async () => {
    const table = await cli(["bus", "groups", "--stream", topicA]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^GROUP +STATE +MEMBER +HOST +PARTITIONS\n/);
    expect(table.stdout).toMatch(new RegExp(`omnidaemon\\.${topicA}\\.alpha +Empty +- +- +-`));
    const result = await cli(["bus", "groups", "-s", topicA, "--json"]);
    expect(json(result.stdout)).toEqual([
      { group_id: `omnidaemon.${topicA}.alpha`, state: "Empty", members: [] },
    ]);
    const all = await cli(["bus", "groups", "--json"]);
    expect(all.code).toBe(0);
    expect(json(all.stdout).map((g: { group_id: string }) => g.group_id)).toContain(
      `omnidaemon.${topicA}.alpha`,
    );
  });

  it("bus lag shows the lag per partition and in total", async () => {
    // Partition 0: 3 events, committed at 1. The tasks published above are keyed by their random ids: most sit on
    // other partitions, uncommitted, but some may land on partition 0 too (each adds one to its end and its lag).
    const table = await cli(["bus", "lag", "--topic", topicA, "--name", "alpha"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^TOPIC +PARTITION +COMMITTED +END +LAG\n/);
    const lag = json((await cli(["bus", "lag", "-t", topicA, "-n", "alpha", "--json"])).stdout);
    expect(lag.group_id).toBe(`omnidaemon.${topicA}.alpha`);
    const first = lag.partitions.find(
      (p: { topic: string; partition: number }) => p.topic === topicA && p.partition === 0,
    );
    expect(Number(first?.high)).toBeGreaterThanOrEqual(3);
    expect(first).toEqual({
      topic: topicA,
      partition: 0,
      committed: "1",
      high: first?.high,
      lag: Number(first?.high) - 1,
    });
    expect(table.stdout).toMatch(new RegExp(`${topicA} +0 +1 +${first?.high} +${first?.lag}\\n`));
    expect(lag.partitions).toHaveLength(24); // 12 of the topic, 12 of the agent's retry topic
    expect(lag.total).toBe(lag.partitions.reduce((sum: number, p: { lag: number }) => sum + p.lag, 0));
    expect(lag.total).toBeGreaterThanOrEqual(2);
    expect(table.stdout).toContain(`total lag ${lag.total} (group omnidaemon.${topicA}.alpha)`);
  });

  it("bus dlq lists an agent's DLQ, or every agent's of the topic without --name", async () => {
    const table = await cli(["bus", "dlq", "--topic", topicA, "--name", "alpha"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ENTRY +TASK ID +REASON +ERROR +ATTEMPTS +DEAD-LETTERED +REPLAYED\n/);
    expect(table.stdout).toMatch(/0:0 +task-1 +non_retriable +TypeError: task-1 failed +1 +\S+ \S+ +no\n/);
    const entries = json((await cli(["bus", "dlq", "-t", topicA, "-n", "alpha", "--json"])).stdout);
    expect(entries).toEqual([
      expect.objectContaining({
        partition: 0,
        offset: "0",
        task_id: "task-1",
        error_class: "TypeError",
        replayed: false,
      }),
      expect.objectContaining({ partition: 0, offset: "1", task_id: "task-2", error_class: "RangeError" }),
    ]);
    const limited = json(
      (await cli(["bus", "dlq", "-t", topicA, "-n", "alpha", "--limit", "1", "--json"])).stdout,
    );
    expect(limited).toHaveLength(1);
    const byAgent = json((await cli(["bus", "dlq", "--topic", topicA, "--json"])).stdout);
    expect(Object.keys(byAgent)).toEqual(["alpha", "beta"]);
    expect(byAgent.alpha).toHaveLength(2);
    expect(byAgent.beta).toEqual([]);
    const everyAgent = await cli(["bus", "dlq", "--topic", topicA]);
    expect(everyAgent.stdout).toMatch(/^AGENT +ENTRY +TASK ID/);
    expect(everyAgent.stdout).toMatch(/alpha +0:1 +task-2/);
  });

  it("bus dlq replay: --dry-run needs no confirmation; without --yes and no terminal it refuses (exit 2)", async () => {
    const none = await cli(["bus", "dlq", "replay", "-t", topicA, "-n", "alpha"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("say what to replay: --all, --id <id>... or --error-class <class>");
    const dry = await cli([
      "bus",
      "dlq",
      "replay",
      "-t",
      topicA,
      "-n",
      "alpha",
      "--all",
      "--dry-run",
      "--json",
    ]);
    expect(dry.code).toBe(0);
    const plan = json(dry.stdout);
    expect(plan).toMatchObject({ dry_run: true, skipped: [], not_found: [] });
    expect(plan.replayed.map((e: { task_id: string }) => e.task_id)).toEqual(["task-1", "task-2"]);
    const refused = await cli(["bus", "dlq", "replay", "-t", topicA, "-n", "alpha", "--all"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("stdin is not a terminal: pass --yes");
    // Nothing was replayed.
    const entries = json((await cli(["bus", "dlq", "-t", topicA, "-n", "alpha", "--json"])).stdout);
    expect(entries.every((e: { replayed: boolean }) => !e.replayed)).toBe(true);
  });

  it("bus dlq replay --id --yes replays; again it is skipped unless --force; an unknown id exits 1", async () => {
    const first = await cli(["bus", "dlq", "replay", "-t", topicA, "-n", "alpha", "--id", "task-1", "--yes"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`replayed 1 event of ${topicA}/alpha`);
    const entries = json((await cli(["bus", "dlq", "-t", topicA, "-n", "alpha", "--json"])).stdout);
    expect(entries.find((e: { task_id: string }) => e.task_id === "task-1").replayed).toBe(true);
    const again = await cli([
      "bus",
      "dlq",
      "replay",
      "-t",
      topicA,
      "-n",
      "alpha",
      "--id",
      "task-1",
      "-y",
      "--json",
    ]);
    expect(again.code).toBe(0);
    expect(json(again.stdout)).toMatchObject({
      replayed: [],
      skipped: [expect.objectContaining({ reason: expect.any(String) })],
    });
    const forced = await cli([
      "bus",
      "dlq",
      "replay",
      "-t",
      topicA,
      "-n",
      "alpha",
      "--id",
      "task-1",
      "--force",
      "-y",
      "--json",
    ]);
    expect(json(forced.stdout).replayed).toHaveLength(1);
    const missing = await cli(["bus", "dlq", "replay", "-t", topicA, "-n", "alpha", "--id", "nope", "--yes"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not in the DLQ: nope");
  });

  it("bus dlq replay --error-class replays the events of that error class", async () => {
    const result = await cli([
      "bus",
      "dlq",
      "replay",
      "-t",
      topicA,
      "-n",
      "alpha",
      "--error-class",
      "RangeError",
      "--yes",
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(json(result.stdout).replayed.map((e: { task_id: string }) => e.task_id)).toEqual(["task-2"]);
  });

  it("bus dlq purge refuses without --yes, then deletes the DLQ with it", async () => {
    const refused = await cli(["bus", "dlq", "purge", "-t", topicA, "-n", "alpha"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("pass --yes");
    const purged = await cli(["bus", "dlq", "purge", "-t", topicA, "-n", "alpha", "--yes", "--json"]);
    expect(purged.code).toBe(0);
    expect(json(purged.stdout)).toEqual({ deleted: expect.any(Number) });
    expect(json(purged.stdout).deleted).toBeGreaterThanOrEqual(2);
    const empty = await cli(["bus", "dlq", "-t", topicA, "-n", "alpha"]);
    expect(empty.stdout).toBe(`the DLQ of ${topicA}/alpha is empty\n`);
  });
});

describe("on a terminal", () => {
  it("colours statuses on a terminal, not with NO_COLOR", async () => {
    if (!terminal) return void console.warn("skipped: util-linux `script` is not installed");
    const coloured = await runOnTerminal(["agent", "list"], env);
    expect(coloured.code).toBe(0);
    expect(coloured.stdout).toContain(`${ESC}32mactive${ESC}39m`);
    const plain = await runOnTerminal(["agent", "list"], { ...env, NO_COLOR: "1" });
    expect(plain.stdout).toContain("active");
    expect(plain.stdout).not.toContain(ESC);
  });

  it("asks before deleting: no keeps the agent (exit 1), yes deletes it", async () => {
    if (!terminal) return void console.warn("skipped: util-linux `script` is not installed");
    const no = await runOnTerminal(["agent", "delete", "--topic", topicB, "--name", "delta"], env, "n\n");
    expect(no.stdout).toContain(`Delete agent ${topicB}/delta? [y/N]`);
    expect(no.stdout).toContain("not confirmed: nothing was changed");
    expect(no.code).toBe(1);
    expect((await api(coordinator.url, "GET", `/agents/${topicB}/delta`)).status).toBe(200);
    const yes = await runOnTerminal(
      ["agent", "delete", "--topic", topicB, "--name", "delta", "--cleanup", "--delete-dlq"],
      env,
      "y\n",
    );
    expect(yes.stdout).toContain(
      `Delete agent ${topicB}/delta with its consumer group and its dead-letter topic? [y/N]`,
    );
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain(`deleted ${topicB}/delta`);
    expect((await api(coordinator.url, "GET", `/agents/${topicB}/delta`)).status).toBe(404);
  });
});

describe("destructive agent and storage commands", () => {
  it("agent delete refuses without --yes when stdin is not a terminal, deletes with it", async () => {
    if (!terminal) await api(coordinator.url, "DELETE", `/agents/${topicB}/delta`);
    const refused = await cli(["agent", "delete", "--topic", topicA, "--name", "beta"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("pass --yes");
    expect((await api(coordinator.url, "GET", `/agents/${topicA}/beta`)).status).toBe(200);
    const deleted = await cli([
      "agent",
      "delete",
      "--topic",
      topicA,
      "--name",
      "beta",
      "--cleanup",
      "--yes",
      "--json",
    ]);
    expect(deleted.code).toBe(0);
    expect(json(deleted.stdout)).toMatchObject({
      status: "deleted",
      topic: topicA,
      agent: "beta",
      deleted: true,
      cleanup: { delete_group: true, delete_dlq: false },
    });
    const gone = await cli(["agent", "get", "-t", topicA, "-n", "beta"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`known agents on "${topicA}": alpha`);
  });

  it("agent delete-topic refuses without --yes, deletes every agent of the topic with it", async () => {
    const refused = await cli(["agent", "delete-topic", "--topic", topicB]);
    expect(refused.code).toBe(2);
    const people = await cli(["agent", "delete-topic", "--topic", topicB, "--yes"]);
    expect(people.code).toBe(0);
    expect(people.stdout).toBe(`deleted 1 agent of topic ${topicB}\n`);
    const again = await cli(["agent", "delete-topic", "--topic", topicB, "-y", "--json"]);
    expect(json(again.stdout)).toEqual({ status: "deleted", topic: topicB, agents_deleted: 0 });
  });

  it("storage clear-agents refuses without --yes, clears every agent with it", async () => {
    const refused = await cli(["storage", "clear-agents"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("pass --yes");
    const cleared = await cli(["storage", "clear-agents", "--yes", "--json"]);
    expect(cleared.code).toBe(0);
    expect(json(cleared.stdout)).toEqual({ status: "cleared", agents_deleted: 1 });
    expect(json((await cli(["agent", "list", "--json"])).stdout)).toEqual({});
    const empty = await cli(["agent", "list"]);
    expect(empty.stdout).toContain("no agents registered");
    const health = json((await cli(["health", "--json"])).stdout);
    expect(health).toMatchObject({ registered_agents: 0, status: "ready" });
  });
});
