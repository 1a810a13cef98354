// Integration support for the CLI: the BUILT binary (packages/cli/dist/bin.js; `npm run build` first) run as a
// subprocess against a real coordinator, itself started as a subprocess through the same binary, on real Kafka and
// Postgres (test/global-setup.js). Each suite has its own Postgres schema, topics and agents, and removes them.
//
// Isolation caveat (as in apps/coordinator/test/support.ts): the coordinator's task-events consumer group is a fixed
// name, so another coordinator on the same broker may take task events meant for ours. reportTaskEvent() therefore
// writes to a partition assigned to *our* coordinator (found by its unique Kafka client id).
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { join, resolve } from "node:path";
import {
  BusAdmin,
  COORDINATOR_GROUP,
  KafkaProducer,
  SYSTEM_TOPICS,
  agentNames,
  taskEventRecord,
} from "@omnidaemon/bus-kafka";
import { controlKey, type TaskEvent } from "@omnidaemon/protocol";
import { Client } from "pg";
import { databaseUrl, kafkaBrokers, uniqueName } from "../../../test/helpers";

export { databaseUrl, kafkaBrokers, uniqueName };

export const ROOT = resolve(__dirname, "..", "..", "..");
export const CLI = join(ROOT, "packages", "cli", "dist", "bin.js");
export const TOKEN = "cli-integration-token-0123456789";

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** A minimal environment: no NO_COLOR, no stray OMNIDAEMON_* from the developer's shell. */
function baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Replaces the default environment (URL and token of the suite's coordinator). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is a pipe (not a terminal) either way. */
  input?: string;
  timeoutMs?: number;
  /** Called with each chunk of stderr while the command runs. */
  onStderr?: (text: string) => void;
}

/** Runs `omnidaemon <args>` (the built binary) and resolves with its exit code and output. */
export function runCli(args: string[], env: Record<string, string | undefined>, options: CliOptions = {}) {
  return new Promise<CliResult>((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: baseEnv(options.env ?? env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      options.onStderr?.(text);
    });
    child.stdin.end(options.input ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/**
 * Runs the binary on a pseudo-terminal (util-linux `script`), so stdin and stdout are TTYs: for the confirmation
 * question and colours. `input` is typed after a short pause. Output has \r\n line ends.
 */
export function runOnTerminal(
  args: string[],
  env: Record<string, string | undefined>,
  input = "",
): Promise<CliResult> {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(" ");
  return new Promise<CliResult>((resolveRun, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: ROOT,
      env: baseEnv(env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    // Typed once the question is on screen (the prompt ends with "[y/N] ").
    const typeWhenAsked = setInterval(() => {
      if (input !== "" && stdout.includes("[y/N]")) {
        child.stdin.write(input);
        input = "";
      }
    }, 20);
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(typeWhenAsked);
      clearTimeout(timer);
      child.stdin.destroy();
      resolveRun({ code, stdout, stderr });
    });
  });
}

export function hasScript(): Promise<boolean> {
  return new Promise((resolveHas) => {
    const child = spawn("script", ["--version"], { stdio: "ignore" });
    child.once("error", () => resolveHas(false));
    child.once("close", (code) => resolveHas(code === 0));
  });
}

export interface Coordinator {
  url: string;
  schema: string;
  clientId: string;
  process: ChildProcess;
  logs(): string;
  /** SIGTERM (the CLI forwards it to the app), then waits for the exit; SIGKILL after 20 s. */
  stop(): Promise<void>;
}

/** `omnidaemon coordinator` through the built binary, token-protected, on a free loopback port. */
export async function startCoordinator(options: { schema: string; token?: string }): Promise<Coordinator> {
  const port = await freePort();
  const clientId = uniqueName("cli-coord");
  const child = spawn(process.execPath, [CLI, "coordinator"], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: baseEnv({
      OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
      OMNIDAEMON_KAFKA_CLIENT_ID: clientId,
      OMNIDAEMON_DATABASE_URL: databaseUrl(),
      OMNIDAEMON_DATABASE_SCHEMA: options.schema,
      OMNIDAEMON_API_HOST: "127.0.0.1",
      OMNIDAEMON_API_PORT: String(port),
      OMNIDAEMON_API_TOKEN: options.token,
      OMNIDAEMON_LOG_LEVEL: "warn",
      // Our fake worker heartbeats once; keep it live for the whole suite.
      OMNIDAEMON_HEARTBEAT_TIMEOUT_MS: "600000",
    }),
  });
  let output = "";
  const keep = (text: string) => {
    output = (output + text).slice(-20_000);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitedEarly) throw new Error(`the coordinator exited during start:\n${output}`);
    const up = await fetch(`${url}/livez`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the coordinator did not answer /livez within 30 s:\n${output}`);
    }
    await delay(100);
  }
  return {
    url,
    schema: options.schema,
    clientId,
    process: child,
    logs: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      }, 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A request to the API with the suite's token, for setting up what the CLI then reads. */
export async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

const connection = () => ({ brokers: kafkaBrokers(), clientId: "cli-int-test" });

export async function withProducer<T>(work: (producer: KafkaProducer) => Promise<T>): Promise<T> {
  const producer = new KafkaProducer({ connection: connection() });
  await producer.start();
  try {
    return await work(producer);
  } finally {
    await producer.stop();
  }
}

export async function withAdmin<T>(work: (admin: BusAdmin) => Promise<T>): Promise<T> {
  const admin = new BusAdmin({ connection: connection() });
  await admin.start();
  try {
    return await work(admin);
  } finally {
    await admin.stop();
  }
}

/** Partitions of the task-events topic assigned to the coordinator whose Kafka client id is `clientId`. */
export async function partitionsOf(clientId: string): Promise<number[]> {
  return withAdmin(async (admin) => {
    const group = await admin.describeGroup(COORDINATOR_GROUP);
    return group.members
      .filter((member) => member.clientId === clientId)
      .flatMap((member) => member.assignments[SYSTEM_TOPICS.taskEvents] ?? []);
  });
}

/**
 * Reports task events as a worker does, to a partition our coordinator consumes, and waits until `settled` says
 * the coordinator has them; a rebalance in between (another coordinator on the broker) is retried.
 */
export async function reportTaskEvents(
  coordinatorClientId: string,
  events: TaskEvent[],
  settled: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  await withProducer(async (producer) => {
    for (;;) {
      const partitions = await partitionsOf(coordinatorClientId);
      const partition = partitions[0];
      if (partition !== undefined) {
        for (const event of events) await producer.send({ ...taskEventRecord(event), partition });
        const until = Date.now() + 5_000;
        while (Date.now() < until) {
          if (await settled()) return;
          await delay(100);
        }
      }
      if (Date.now() > deadline)
        throw new Error("the coordinator did not ingest the task events within 30 s");
      await delay(500);
    }
  });
}

export function taskEvent(
  fields: Pick<TaskEvent, "task_id" | "topic" | "agent" | "status"> & Partial<TaskEvent>,
): TaskEvent {
  return {
    attempt: 1,
    at: new Date().toISOString(),
    correlation_id: null,
    tenant_id: null,
    worker_id: "cli-int-test-worker",
    ...fields,
  };
}

/** Removes what a suite made on the broker: agents' topics (main, retry, DLQ), groups and control records. */
export async function cleanKafka(agents: Array<{ topic: string; agent: string }>): Promise<void> {
  await withAdmin(async (admin) => {
    for (const { topic, agent } of agents) {
      await admin.deleteGroup(agentNames(topic, agent).groupId).catch(() => undefined);
      await admin.deleteAgentTopics(topic, agent, { retry: true, dlq: true }).catch(() => undefined);
    }
    const existing = new Set(await admin.listTopics());
    for (const topic of new Set(agents.map((a) => a.topic))) {
      if (existing.has(topic)) await admin.deleteTopic(topic).catch(() => undefined);
    }
  });
  // Tombstones, so compaction drops the agents' desired state from the shared control topic.
  await withProducer(async (producer) => {
    for (const { topic, agent } of agents) {
      await producer
        .send({ topic: SYSTEM_TOPICS.control, key: controlKey(topic, agent), value: null })
        .catch(() => undefined);
    }
  });
}
