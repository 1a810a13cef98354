// Shared by the worker's multi-process integration suites: real coordinator and worker processes started from the
// built CLI (`node packages/cli/dist/bin.js coordinator|worker`), a fixture agents module that records what it sees
// in JSON lines, a publisher straight to Kafka, and the clean-up that goes with them.
//
// Processes are spawned detached (their own process group), so a SIGKILL to the group takes the CLI and the app
// it launched together; SIGTERM goes to the CLI alone, which forwards it once to the app (as a container runtime
// signals PID 1). Every test uses topics, agents and a Postgres schema of its own and removes them afterwards.
//
// Isolation caveat (as in apps/coordinator/test/support.ts): the coordinator's task-events group is a fixed name,
// so suites keep at most one coordinator alive at a time.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BusAdmin, KafkaProducer, SYSTEM_TOPICS, agentNames, createEnvelope } from "@omnidaemon/bus-kafka";
import { controlKey } from "@omnidaemon/protocol";
import { Client } from "pg";
import pino from "pino";
import { databaseUrl, kafkaBrokers, kafkaClient, uniqueName } from "../../../test/helpers";

export { databaseUrl, kafkaBrokers, uniqueName };

export const ROOT = resolve(__dirname, "..", "..", "..");
export const CLI = join(ROOT, "packages", "cli", "dist", "bin.js");
export const FIXTURES = join(__dirname, "fixtures");
export const AGENTS_FIXTURE = join(FIXTURES, "agents.js");

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
/** Child log level; raise it (TEST_CHILD_LOG_LEVEL=debug) to see more in failure messages. */
const CHILD_LOG_LEVEL = process.env.TEST_CHILD_LOG_LEVEL ?? "info";

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A topic name of our own (letters, digits, `_`). */
export function newTopic(prefix: string): string {
  return uniqueName(`wkt_${prefix}`);
}

/** An agent name (letters, digits, `_` and `-`, no dots). */
export function newAgent(prefix: string): string {
  return uniqueName(prefix).replace(/_/g, "-");
}

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

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 100,
  diagnostics?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? ` (last error: ${last.message})` : "";
      const extra = diagnostics ? `\n${diagnostics()}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}${extra}`);
    }
    await delay(intervalMs);
  }
}

// --- processes ---------------------------------------------------------------------------------------------------

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const OUTPUT_CAP = 1 << 20;
const live = new Set<Proc>();

/** A child process started from the built CLI, with its output kept (bounded) for diagnostics. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  stdout = "";
  stderr = "";
  private readonly lineListeners = new Set<(line: string) => void>();
  private partial = "";

  constructor(
    readonly role: "coordinator" | "worker",
    readonly label: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: baseEnv(env),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this);
    this.child.stdout?.setEncoding("utf8");
    this.child.stderr?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      this.stdout = keepTail(this.stdout + chunk);
      const lines = (this.partial + chunk).split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) for (const listener of this.lineListeners) listener(line);
    });
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr = keepTail(this.stderr + chunk);
    });
    this.exited = new Promise((resolveExit) => {
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolveExit(this.exit);
      });
    });
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.label} has no pid (spawn failed)`);
    return pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The first stdout line (pino JSON) matching `match`, waiting for it. */
  waitForLog(
    what: string,
    match: (entry: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    const parse = (line: string): Record<string, unknown> | undefined => {
      try {
        const value = JSON.parse(line) as unknown;
        return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    };
    for (const line of this.stdout.split("\n")) {
      const entry = parse(line);
      if (entry && match(entry)) return Promise.resolve(entry);
    }
    return new Promise((resolveLog, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.lineListeners.delete(listener);
      };
      const listener = (line: string): void => {
        const entry = parse(line);
        if (entry && match(entry)) {
          cleanup();
          resolveLog(entry);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.label}: no "${what}" log line within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      this.lineListeners.add(listener);
      void this.exited.then((exit) => {
        if (!this.lineListeners.has(listener)) return;
        cleanup();
        reject(new Error(`${this.label} exited (${JSON.stringify(exit)}) before "${what}"\n${this.tail()}`));
      });
    });
  }

  /** SIGTERM to the CLI only; it forwards the signal to the app once. */
  term(): void {
    if (this.running) this.child.kill("SIGTERM");
  }

  /** A signal to the whole process group (the CLI and the app it launched). */
  signalGroup(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }

  async waitExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === "timeout")
      throw new Error(`${this.label} did not exit within ${timeoutMs} ms\n${this.tail()}`);
    return result;
  }

  /** Graceful stop bounded by `graceMs`, then SIGKILL to the group. Never throws. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.term();
    try {
      await this.waitExit(graceMs);
    } catch {
      this.signalGroup("SIGKILL");
      await this.exited;
    }
  }

  tail(chars = 6000): string {
    return `--- ${this.label} stdout (tail) ---\n${this.stdout.slice(-chars)}\n--- ${this.label} stderr (tail) ---\n${this.stderr.slice(-chars)}`;
  }
}

function keepTail(text: string): string {
  return text.length > OUTPUT_CAP ? text.slice(-OUTPUT_CAP / 2) : text;
}

/**
 * A clean environment: nothing from the developer's shell leaks into the children (API tokens, NODE_OPTIONS) but the
 * Kafka client the suite runs on, so a child coordinator or worker is on the same driver as the test.
 */
function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { OMNIDAEMON_KAFKA_CLIENT: kafkaClient() };
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Stops every worker still running: SIGTERM, then SIGKILL after `graceMs`. For afterEach. */
export async function stopWorkers(graceMs = 15_000): Promise<void> {
  await Promise.all([...live].filter((p) => p.role === "worker").map((proc) => proc.stop(graceMs)));
}

/** Stops every child still running, workers first (they deregister from the coordinator). For afterAll. */
export async function stopAll(graceMs = 15_000): Promise<void> {
  await stopWorkers(graceMs);
  await Promise.all([...live].map((proc) => proc.stop(graceMs)));
}

// --- HTTP --------------------------------------------------------------------------------------------------------

export interface HttpAnswer {
  status: number;
  text: string;
  /** Parsed JSON, or undefined. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
}

export async function http(url: string, method = "GET", json?: unknown, token?: string): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (json !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method,
    headers,
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, text, body };
}

// --- coordinator ---------------------------------------------------------------------------------------------------

export interface Coordinator {
  proc: Proc;
  url: string;
  schema: string;
  api(method: string, path: string, json?: unknown): Promise<HttpAnswer>;
  /** Stops the process, then drops its schema. */
  close(): Promise<void>;
}

export async function startCoordinator(
  options: {
    heartbeatTimeoutMs?: number;
    /** Reuse a schema and a port, to restart a coordinator that died (the fault suite). @default new ones */
    schema?: string;
    port?: number;
    /** `OMNIDAEMON_API_TOKEN`; `api()` then sends it. @default none (loopback, unauthenticated) */
    token?: string;
  } = {},
): Promise<Coordinator> {
  const schema = options.schema ?? uniqueName("wk_coord");
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const proc = new Proc("coordinator", "coordinator", ["coordinator"], {
    OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
    OMNIDAEMON_DATABASE_URL: databaseUrl(),
    OMNIDAEMON_DATABASE_SCHEMA: schema,
    OMNIDAEMON_API_HOST: "127.0.0.1",
    OMNIDAEMON_API_PORT: String(port),
    OMNIDAEMON_HEARTBEAT_TIMEOUT_MS: String(options.heartbeatTimeoutMs ?? 15_000),
    OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: "10000",
    OMNIDAEMON_LOG_LEVEL: process.env.TEST_CHILD_LOG_LEVEL ?? "warn",
    ...(options.token === undefined ? {} : { OMNIDAEMON_API_TOKEN: options.token }),
  });
  const coordinator: Coordinator = {
    proc,
    url,
    schema,
    api: (method, path, json) => http(`${url}${path}`, method, json, options.token),
    close: async () => {
      await proc.stop(15_000);
      await dropSchema(schema);
    },
  };
  try {
    await waitFor(
      "the coordinator to answer /livez",
      async () => {
        if (!proc.running) throw new Error(`coordinator exited ${JSON.stringify(proc.exit)}`);
        return (await http(`${url}/livez`)).status === 200;
      },
      45_000,
      200,
      () => proc.tail(),
    );
  } catch (error) {
    await coordinator.close();
    throw error;
  }
  return coordinator;
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

// --- workers -------------------------------------------------------------------------------------------------------

export type Behaviour = "record" | "throw" | "hang" | "nonjson" | "provider";

/** One agent of the fixture module (apps/worker/test/fixtures/agents.js). */
export interface AgentSpec {
  topic: string;
  name: string;
  config?: Record<string, unknown>;
  behaviour?: Behaviour;
}

export interface WorkerOptions {
  id: string;
  /** Agents of the fixture module; ignored when `module` is given. */
  agents?: AgentSpec[];
  /** Another agents module (the invalid fixtures). @default the recording fixture */
  module?: string;
  /** `OMNIDAEMON_COORDINATOR_URL`; pass a dead one to run without a coordinator. */
  coordinatorUrl: string;
  /** Where the fixture writes its JSON lines. */
  logDir: string;
  env?: Record<string, string>;
}

export class Worker {
  readonly proc: Proc;
  readonly id: string;
  private port: number | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id;
    this.proc = new Proc(
      "worker",
      `worker ${options.id}`,
      ["worker", "--agents", options.module ?? AGENTS_FIXTURE],
      {
        OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
        OMNIDAEMON_KAFKA_CLIENT_ID: options.id,
        OMNIDAEMON_COORDINATOR_URL: options.coordinatorUrl,
        OMNIDAEMON_WORKER_ID: options.id,
        // 0: the probe server picks a free port and logs it ("worker ready"), so concurrent workers never collide.
        OMNIDAEMON_METRICS_PORT: "0",
        OMNIDAEMON_METRICS_HOST: "127.0.0.1",
        OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: "10000",
        OMNIDAEMON_LOG_LEVEL: CHILD_LOG_LEVEL,
        FIXTURE_AGENTS: JSON.stringify(options.agents ?? []),
        FIXTURE_LOG_DIR: options.logDir,
        ...options.env,
      },
    );
  }

  /** Waits for "worker ready" (every agent consumer started, probes listening) and learns the probe port. */
  async started(timeoutMs = 45_000): Promise<this> {
    const entry = await this.proc.waitForLog("worker ready", (e) => e.msg === "worker ready", timeoutMs);
    const port = entry.probes;
    if (typeof port !== "number")
      throw new Error(`"worker ready" names no probe port: ${JSON.stringify(entry)}`);
    this.port = port;
    return this;
  }

  /** `started()`, then /readyz 200 (every active agent is a member of its group). */
  async ready(timeoutMs = 45_000): Promise<this> {
    await this.started(timeoutMs);
    await waitFor(
      `${this.id} /readyz 200`,
      async () => (await this.probe("/readyz")).status === 200,
      timeoutMs,
      100,
      () => this.proc.tail(),
    );
    return this;
  }

  get metricsPort(): number {
    if (this.port === undefined) throw new Error(`${this.id}: probe port unknown (await started() first)`);
    return this.port;
  }

  probe(path: "/metrics" | "/livez" | "/readyz"): Promise<HttpAnswer> {
    return http(`http://127.0.0.1:${this.metricsPort}${path}`);
  }

  async metrics(): Promise<string> {
    const answer = await this.probe("/metrics");
    if (answer.status !== 200) throw new Error(`${this.id} /metrics answered ${answer.status}`);
    return answer.text;
  }
}

// --- what the fixture saw ------------------------------------------------------------------------------------------

export interface FixtureLine {
  event: "loaded" | "start" | "end" | "abort" | "fail";
  pid: number;
  t: number;
  workerId?: string | null;
  agent?: string;
  taskId?: string;
  key?: string | null;
  attempt?: number;
  seq?: number;
  workdir?: string;
  reason?: string;
}

/** A temporary directory the fixture processes write their JSON lines into. */
export class FixtureLog {
  readonly dir = mkdtempSync(join(tmpdir(), "omnidaemon-worker-it-"));

  lines(filter: Partial<Pick<FixtureLine, "event" | "agent" | "pid">> = {}): FixtureLine[] {
    const all: FixtureLine[] = [];
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith(".jsonl")) continue;
      const text = readFileSync(join(this.dir, file), "utf8");
      for (const line of text.split("\n")) {
        // The last line may be half written while we read; it is read whole next time.
        if (line === "") continue;
        try {
          all.push(JSON.parse(line) as FixtureLine);
        } catch {
          // partial line
        }
      }
    }
    return all
      .filter(
        (l) =>
          (filter.event === undefined || l.event === filter.event) &&
          (filter.agent === undefined || l.agent === filter.agent) &&
          (filter.pid === undefined || l.pid === filter.pid),
      )
      .sort((a, b) => a.t - b.t || (a.seq ?? 0) - (b.seq ?? 0));
  }

  /** The app pid of the worker process with this id (from the fixture's "loaded" line). */
  async pidOf(workerId: string, timeoutMs = 30_000): Promise<number> {
    return waitFor(
      `the fixture loaded by ${workerId}`,
      () => {
        const line = this.lines({ event: "loaded" }).find((l) => l.workerId === workerId);
        return line?.pid;
      },
      timeoutMs,
    );
  }

  /** Task ids with at least one "end" line for the agent. */
  ended(agent: string): Set<string> {
    return new Set(this.lines({ event: "end", agent }).map((l) => l.taskId as string));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Occurrences of each value. */
export function countBy<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

export function duplicates<T>(values: Iterable<T>): T[] {
  return [...countBy(values)].filter(([, n]) => n > 1).map(([value]) => value);
}

/** The most [start, end) intervals open at one instant. */
export function maxOverlap(intervals: Array<{ start: number; end: number }>): number {
  const points = intervals.flatMap(({ start, end }) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  // Ends before starts at the same millisecond: touching intervals do not overlap.
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let max = 0;
  for (const { delta } of points) {
    open += delta;
    max = Math.max(max, open);
  }
  return max;
}

/** [start, end] of each delivery: the "start" line paired with the next "end"/"abort"/"fail" of the same task. */
export function intervals(
  lines: FixtureLine[],
): Array<{ taskId: string; key: string | null; start: number; end: number; pid: number }> {
  const open = new Map<string, FixtureLine>();
  const result: Array<{ taskId: string; key: string | null; start: number; end: number; pid: number }> = [];
  for (const line of lines) {
    const id = `${line.pid}/${line.taskId}/${line.attempt}`;
    if (line.event === "start") open.set(id, line);
    else if (line.event === "end" || line.event === "abort" || line.event === "fail") {
      const start = open.get(id);
      if (!start) continue;
      open.delete(id);
      result.push({
        taskId: line.taskId as string,
        key: line.key ?? null,
        start: start.t,
        end: line.t,
        pid: line.pid,
      });
    }
  }
  return result;
}

export function pathExists(path: string): boolean {
  return existsSync(path);
}

// --- Prometheus text -------------------------------------------------------------------------------------------------

/** Sum of the samples of `name` whose labels include `labels`; undefined when there is none. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      found[pair[1] as string] = pair[2] as string;
    }
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}

// --- Kafka ---------------------------------------------------------------------------------------------------------

export function connection(): { brokers: string[]; clientId: string } {
  return { brokers: kafkaBrokers(), clientId: "worker-int-test" };
}

/** Publishes envelopes straight to Kafka (acks=all), as any producer of the fleet would. */
export class Publisher {
  private readonly producer = new KafkaProducer({ connection: connection(), logger });
  private readonly admin = new BusAdmin({ connection: connection(), logger, defaultPartitions: 12 });
  private readonly known = new Set<string>();

  async start(): Promise<this> {
    await this.producer.start();
    await this.admin.start();
    return this;
  }

  async ensureTopic(topic: string): Promise<void> {
    if (this.known.has(topic)) return;
    await this.admin.ensureTopic(topic);
    this.known.add(topic);
  }

  /** Publishes one event; returns its task id. */
  async publish(
    topic: string,
    content: unknown,
    options: { key?: string; webhook?: string; tenant?: string } = {},
  ): Promise<string> {
    await this.ensureTopic(topic);
    const envelope = createEnvelope({
      topic,
      content,
      webhook: options.webhook ?? null,
      tenantId: options.tenant ?? null,
    });
    await this.producer.publish(envelope, options.key === undefined ? {} : { key: options.key });
    return envelope.id;
  }

  /** Publishes many events at once (the producer batches concurrent publishes); ids in input order. */
  async publishMany(
    topic: string,
    events: Array<{ content: unknown; key?: string; tenant?: string }>,
  ): Promise<string[]> {
    await this.ensureTopic(topic);
    return Promise.all(
      events.map((e) =>
        this.publish(topic, e.content, {
          ...(e.key === undefined ? {} : { key: e.key }),
          ...(e.tenant === undefined ? {} : { tenant: e.tenant }),
        }),
      ),
    );
  }

  /** Waits until the group has `members` members, is Stable, and every member holds partitions of `topic`. */
  async waitGroupStable(topic: string, agent: string, members: number, timeoutMs = 30_000): Promise<void> {
    const { groupId } = agentNames(topic, agent);
    await waitFor(
      `group ${groupId} stable with ${members} members`,
      async () => {
        const group = await this.admin.describeGroup(groupId);
        return (
          group.state === "Stable" &&
          group.members.length === members &&
          group.members.every((m) => (m.assignments[topic]?.length ?? 0) > 0)
        );
      },
      timeoutMs,
      200,
    );
  }

  async stop(): Promise<void> {
    await this.admin.stop();
    await this.producer.stop();
  }
}

/**
 * Everything a test made on the broker, removed once every process that used it is gone (a group with members
 * cannot be deleted; kafkajs#1622: a live client that used a deleted topic stalls).
 */
export class KafkaLeftovers {
  private readonly topics = new Set<string>();
  private readonly agents = new Map<string, { topic: string; agent: string }>();

  agent(topic: string, agent: string): void {
    this.topics.add(topic);
    this.agents.set(controlKey(topic, agent), { topic, agent });
  }

  async clean(): Promise<void> {
    if (this.agents.size === 0 && this.topics.size === 0) return;
    const admin = new BusAdmin({ connection: connection(), logger });
    await admin.start();
    try {
      for (const { topic, agent } of this.agents.values()) {
        await admin.deleteGroup(agentNames(topic, agent).groupId).catch(() => undefined);
        await admin.deleteAgentTopics(topic, agent, { retry: true, dlq: true }).catch(() => undefined);
      }
      const existing = new Set(await admin.listTopics());
      for (const topic of this.topics) {
        if (existing.has(topic)) await admin.deleteTopic(topic).catch(() => undefined);
      }
    } finally {
      await admin.stop();
    }
    if (this.agents.size > 0) {
      // Tombstones, so compaction drops our agents' desired state from the shared control topic.
      const producer = new KafkaProducer({ connection: connection(), logger });
      await producer.start();
      try {
        for (const key of this.agents.keys()) {
          await producer.send({ topic: SYSTEM_TOPICS.control, key, value: null }).catch(() => undefined);
        }
      } finally {
        await producer.stop();
      }
    }
    this.agents.clear();
    this.topics.clear();
  }
}

/**
 * What every worker-process suite sets up: a fresh fixture log per test (removed afterwards), every process started
 * by the test stopped after it, and the suite's Kafka topics and groups deleted at the end. Call once, at the top
 * level of the suite.
 */
export function workerSuite(graceMs = 15_000): { readonly log: FixtureLog; leftovers: KafkaLeftovers } {
  const leftovers = new KafkaLeftovers();
  let current: FixtureLog | undefined;
  beforeEach(() => {
    current = new FixtureLog();
  });
  afterEach(async () => {
    await stopAll(graceMs);
    current?.remove();
  });
  afterAll(async () => {
    await stopAll(graceMs);
    await leftovers.clean();
  });
  return {
    get log(): FixtureLog {
      if (!current) throw new Error("the fixture log exists only inside a test");
      return current;
    },
    leftovers,
  };
}

/** A coordinator URL nothing listens on (the port was free a moment ago): the worker must start without it. */
export async function deadCoordinatorUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
