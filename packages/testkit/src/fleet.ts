// The fleet as users start it, for the suites that run real processes (the worker's, the CLI's, the fault, console,
// secure and deploy suites): a coordinator and workers started from the built CLI (`node packages/cli/dist/bin.js
// coordinator|worker`; `npm run build` first), a recording agents module (fixtures/agents.js) whose JSON lines say
// what each callback saw, and a publisher straight to Kafka.
//
// Processes are spawned detached (their own process group), so a SIGKILL to the group takes the CLI and the app it
// launched together; SIGTERM goes to the CLI alone, which forwards it once to the app (as a container runtime signals
// PID 1). Isolation caveat: the coordinator's task-events group is a fixed name, so suites keep at most one
// coordinator alive at a time.
import { join } from "node:path";
import {
  BusAdmin,
  KafkaProducer,
  agentNames,
  createEnvelope,
  type OutgoingRecord,
} from "@omnidaemon/bus-kafka";
import type { Envelope } from "@omnidaemon/protocol";
import { FixtureLog } from "./fixture-log";
import { http, type HttpAnswer } from "./http";
import { KafkaLeftovers } from "./kafka";
import { testLogger } from "./logs";
import { uniqueName } from "./names";
import { freePort } from "./net";
import { dropSchema } from "./postgres";
import { childEnv, Proc, stopAll } from "./processes";
import { CLI, ROOT } from "./root";
import { databaseUrl, kafkaBrokers } from "./services";
import { waitFor } from "./wait";

/** The recording agents module: see its header for the behaviours and the JSON lines it writes. */
export const AGENTS_FIXTURE = join(ROOT, "packages", "testkit", "fixtures", "agents.js");

/**
 * The connection of the fleet suites' own clients (their publisher, their observers): the default Kafka client
 * whichever client the suite runs on, so only the processes under test change with OMNIDAEMON_KAFKA_CLIENT.
 */
export function fleetConnection(): { brokers: string[]; clientId: string } {
  return { brokers: kafkaBrokers(), clientId: "worker-int-test" };
}

/** Child log level; raise it (TEST_CHILD_LOG_LEVEL=debug) to see more in failure messages. */
const CHILD_LOG_LEVEL = process.env.TEST_CHILD_LOG_LEVEL ?? "info";

/** `omnidaemon <args>` (the built CLI) as a long-running child, in a clean environment plus `env`. */
export function cliProcess(
  label: string,
  args: string[],
  env: Record<string, string | undefined>,
  role: "coordinator" | "worker" | "other" = "other",
): Proc {
  return new Proc(label, [CLI, ...args], { env: childEnv(env), role });
}

// --- coordinator ---------------------------------------------------------------------------------------------------

export interface CoordinatorProcess {
  proc: Proc;
  url: string;
  schema: string;
  /** Its Kafka client id (`OMNIDAEMON_KAFKA_CLIENT_ID`), to find its members in the task-events group. */
  clientId: string;
  /** A request to its API, with its token when it has one. */
  api(method: string, path: string, json?: unknown): Promise<HttpAnswer>;
  /** Stops the process (SIGTERM, then SIGKILL after the grace). */
  stop(): Promise<void>;
  /** Stops the process, then drops its schema. */
  close(): Promise<void>;
}

/** `omnidaemon coordinator` on a free loopback port (or `port`), in a schema of its own (or `schema`). */
export async function startCoordinatorProcess(
  options: {
    heartbeatTimeoutMs?: number;
    /** Reuse a schema and a port, to restart a coordinator that died (the fault suite). @default new ones */
    schema?: string;
    port?: number;
    /** `OMNIDAEMON_API_TOKEN`; `api()` then sends it. @default none (loopback, unauthenticated) */
    token?: string;
  } = {},
): Promise<CoordinatorProcess> {
  const schema = options.schema ?? uniqueName("coord");
  const port = options.port ?? (await freePort());
  const clientId = uniqueName("coord");
  const url = `http://127.0.0.1:${port}`;
  const proc = cliProcess(
    "coordinator",
    ["coordinator"],
    {
      OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
      OMNIDAEMON_KAFKA_CLIENT_ID: clientId,
      OMNIDAEMON_DATABASE_URL: databaseUrl(),
      OMNIDAEMON_DATABASE_SCHEMA: schema,
      OMNIDAEMON_API_HOST: "127.0.0.1",
      OMNIDAEMON_API_PORT: String(port),
      OMNIDAEMON_API_TOKEN: options.token,
      OMNIDAEMON_HEARTBEAT_TIMEOUT_MS: String(options.heartbeatTimeoutMs ?? 15_000),
      OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: "10000",
      OMNIDAEMON_LOG_LEVEL: process.env.TEST_CHILD_LOG_LEVEL ?? "warn",
    },
    "coordinator",
  );
  const coordinator: CoordinatorProcess = {
    proc,
    url,
    schema,
    clientId,
    api: (method, path, json) => http(`${url}${path}`, method, json, options.token),
    stop: () => proc.stop(15_000),
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

/** A coordinator URL nothing listens on (the port was free a moment ago): the worker must start without it. */
export async function deadCoordinatorUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

// --- workers -------------------------------------------------------------------------------------------------------

export type Behaviour = "record" | "throw" | "hang" | "nonjson" | "provider";

/** One agent of the recording fixture. */
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

/** `omnidaemon worker --agents <module>` with its probe server on a port of its choosing. */
export class Worker {
  readonly proc: Proc;
  readonly id: string;
  private port: number | undefined;

  constructor(options: WorkerOptions) {
    this.id = options.id;
    this.proc = cliProcess(
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
      "worker",
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

// --- publishing ----------------------------------------------------------------------------------------------------

/** Publishes envelopes straight to Kafka (acks=all), as any producer of the fleet would. */
export class Publisher {
  private readonly producer: KafkaProducer;
  private readonly admin = new BusAdmin({
    connection: fleetConnection(),
    logger: testLogger,
    defaultPartitions: 12,
  });
  private readonly known = new Set<string>();

  /** `publishTimeoutMs`: how long one publish may take, broker retries included. @default the producer's */
  constructor(options: { publishTimeoutMs?: number } = {}) {
    this.producer = new KafkaProducer({ connection: fleetConnection(), logger: testLogger, ...options });
  }

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
    await this.publishEnvelope(envelope, options);
    return envelope.id;
  }

  /** Publishes an envelope made by the caller (acks=all); its topic must exist. */
  publishEnvelope(envelope: Envelope, options: { key?: string } = {}): Promise<void> {
    return this.producer.publish(envelope, options.key === undefined ? {} : { key: options.key });
  }

  /** Sends a record as it is (any value, a chosen partition); its topic must exist. */
  send(record: OutgoingRecord): Promise<void> {
    return this.producer.send(record);
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
    await waitFor(
      `${agentNames(topic, agent).groupId} stable with ${members} members`,
      async () => (await this.groupMembers(topic, agent)) === members,
      timeoutMs,
      200,
    );
  }

  /** Members of the agent's group while it is Stable and every member holds partitions of `topic`; else -1. */
  async groupMembers(topic: string, agent: string): Promise<number> {
    const group = await this.admin.describeGroup(agentNames(topic, agent).groupId);
    if (group.state !== "Stable") return -1;
    const holding = group.members.filter((m) => (m.assignments[topic]?.length ?? 0) > 0);
    return holding.length === group.members.length ? group.members.length : -1;
  }

  async stop(): Promise<void> {
    await this.admin.stop();
    await this.producer.stop();
  }
}
