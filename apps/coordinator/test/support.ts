// Shared by the coordinator's integration suites: a real coordinator (real Kafka, real Postgres) per suite, each
// in a Postgres schema and on topics of its own, and the clean-up that goes with them.
//
// Isolation caveat: the coordinator's task-events consumer group (`omnidaemon.coordinator`) and the system topics are
// fixed names, so every coordinator on the broker shares them. Suites keep at most one coordinator alive at a time;
// another coordinator on the same broker (a concurrent run elsewhere) could take task events meant for ours.
import net from "node:net";
import { BusAdmin, KafkaProducer, SYSTEM_TOPICS, agentNames, taskEventRecord } from "@omnidaemon/bus-kafka";
import { controlKey, type TaskEvent } from "@omnidaemon/protocol";
import { ServiceStack } from "@omnidaemon/lifecycle";
import { Kafka, logLevel } from "kafkajs";
import { Client } from "pg";
import pino from "pino";
import { databaseUrl, kafkaBrokers, kafkaClient, kafkaConnection, uniqueName } from "../../../test/helpers";
export { PostgresProxy } from "../../../test/helpers";
import type { CoordinatorConfig } from "../src/config";
import { buildCoordinator, type CoordinatorHandles } from "../src/coordinator";

export { databaseUrl, kafkaBrokers, uniqueName };

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export const API_TOKEN = "integration-token-0123456789abcdef";

export function connection(): ReturnType<typeof kafkaConnection> {
  return kafkaConnection("coordinator-int-test");
}

/** A fresh Postgres schema name (the coordinator's PgStore creates it by migrating). */
export function newSchema(prefix: string): string {
  return uniqueName(`coord_${prefix}`);
}

/** A topic name of our own; valid for Kafka and the API (no reserved prefix). */
export function newTopic(prefix: string): string {
  return uniqueName(`coordt_${prefix}`);
}

/** An agent name (letters, digits, `_` and `-`). */
export function newAgent(prefix: string): string {
  return uniqueName(prefix).replace(/_/g, "-");
}

export interface ConfigOverrides {
  schema: string;
  /** @default the test database */
  databaseUrl?: string;
  token?: string;
  resultTtlMs?: number;
  heartbeatTimeoutMs?: number;
  workerRetentionMs?: number;
}

/** A coordinator config built directly (not from env), listening on a free loopback port. */
export function coordinatorConfig(overrides: ConfigOverrides): CoordinatorConfig {
  return {
    kafka: {
      client: kafkaClient(),
      brokers: kafkaBrokers(),
      clientId: "coordinator-int-test",
      ssl: false,
      connectionTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
    },
    database: { url: overrides.databaseUrl ?? databaseUrl(), schema: overrides.schema },
    api: {
      host: "127.0.0.1",
      port: 0,
      ...(overrides.token !== undefined && { token: overrides.token }),
    },
    logLevel: "silent",
    shutdownTimeoutMs: 30_000,
    resultTtlMs: overrides.resultTtlMs ?? 24 * 60 * 60 * 1000,
    heartbeatTimeoutMs: overrides.heartbeatTimeoutMs ?? 15_000,
    workerRetentionMs: overrides.workerRetentionMs ?? 24 * 60 * 60 * 1000,
  };
}

/** A JSON object as the API answers it; tests read arbitrary shapes. */
export type JsonObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
}

export interface ApiRequest {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (with the given headers), for malformed bodies. */
  raw?: string;
  headers?: Record<string, string>;
  /** Bearer token; defaults to the coordinator's own (if it has one). `null` sends none. */
  token?: string | null;
}

export interface RunningCoordinator {
  stack: ServiceStack;
  handles: CoordinatorHandles;
  config: CoordinatorConfig;
  url: string;
  port: number;
  request(method: string, path: string, request?: ApiRequest): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function httpRequest(
  url: string,
  method: string,
  path: string,
  request: ApiRequest & { defaultToken?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...request.headers };
  const token = request.token === undefined ? request.defaultToken : request.token;
  if (token !== undefined && token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = request.raw;
  if (request.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(request.json);
  }
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body !== undefined && { body }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/**
 * Builds a coordinator exactly as main.ts does (one ServiceStack), from a config made here, its answers checked
 * against the protocol. The stack is closed again if building fails half-way.
 */
export async function startCoordinator(
  overrides: ConfigOverrides,
  options: Parameters<typeof buildCoordinator>[3] = {},
): Promise<RunningCoordinator> {
  const config = coordinatorConfig(overrides);
  const stack = new ServiceStack({ stopTimeoutMs: 15_000 });
  let handles: CoordinatorHandles;
  try {
    // Every answer is checked against the protocol's response schemas: what the SDK and the CLI compile against.
    handles = await buildCoordinator(stack, config, logger, { checkResponses: true, ...options });
  } catch (error) {
    await stack.close().catch(() => undefined);
    throw error;
  }
  const address = handles.http.address();
  if (address === undefined) {
    await stack.close();
    throw new Error("the coordinator's HTTP server has no address after start");
  }
  let closing: Promise<void> | undefined;
  return {
    stack,
    handles,
    config,
    url: address.url,
    port: address.port,
    request: (method, path, request = {}) =>
      httpRequest(address.url, method, path, {
        ...request,
        ...(config.api.token !== undefined && { defaultToken: config.api.token }),
      }),
    close: () => (closing ??= stack.close()),
  };
}

// --- Postgres --------------------------------------------------------------------------------------------------

export async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await withAdmin((client) => client.query(`drop schema if exists "${schema}" cascade`));
}

/** Connections open right now with this `application_name`. */
export async function connectionsNamed(applicationName: string): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where application_name = $1",
      [applicationName],
    );
    return rows[0]?.n ?? 0;
  });
}

/** The test database URL with extra query parameters (pg lets the URL's parameters win over the client config). */
export function databaseUrlWith(params: Record<string, string>, base = databaseUrl()): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

// --- Kafka -----------------------------------------------------------------------------------------------------

export function rawKafka(): Kafka {
  return new Kafka({ brokers: kafkaBrokers(), clientId: "coordinator-int-raw", logLevel: logLevel.NOTHING });
}

export async function startedProducer(): Promise<KafkaProducer> {
  const producer = new KafkaProducer({ connection: connection(), logger });
  await producer.start();
  return producer;
}

/** A task event as a worker reports it. */
export function taskEvent(
  fields: Pick<TaskEvent, "task_id" | "topic" | "agent" | "status"> & Partial<TaskEvent>,
): TaskEvent {
  return {
    attempt: 1,
    at: new Date().toISOString(),
    correlation_id: null,
    tenant_id: null,
    worker_id: "int-test-worker",
    ...fields,
  };
}

/** Publishes task events in order (one after the other, so events of one task keep their order). */
export async function reportTaskEvents(producer: KafkaProducer, events: TaskEvent[]): Promise<void> {
  for (const event of events) await producer.send(taskEventRecord(event));
}

/**
 * Everything a suite made on the broker, removed in afterAll once every client that wrote to it is stopped
 * (kafkajs#1622: a live producer that wrote to a deleted topic stalls on its next publish).
 */
export class KafkaLeftovers {
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private readonly agents = new Map<string, { topic: string; agent: string }>();

  /** The agent's main, retry and DLQ topics, its group, and its control record. */
  agent(topic: string, agent: string): void {
    this.topics.add(topic);
    this.groups.add(agentNames(topic, agent).groupId);
    this.agents.set(controlKey(topic, agent), { topic, agent });
  }

  topic(topic: string): void {
    this.topics.add(topic);
  }

  group(groupId: string): void {
    this.groups.add(groupId);
  }

  async clean(): Promise<void> {
    const admin = new BusAdmin({ connection: connection(), logger });
    await admin.start();
    try {
      for (const group of this.groups) await admin.deleteGroup(group).catch(() => undefined);
      // Retry and DLQ topics carry the reserved prefix, which deleteTopic() refuses: deleteAgentTopics() is theirs.
      for (const { topic, agent } of this.agents.values()) {
        await admin.deleteAgentTopics(topic, agent, { retry: true, dlq: true }).catch(() => undefined);
      }
      const existing = new Set(await admin.listTopics());
      for (const topic of this.topics) {
        if (existing.has(topic)) await admin.deleteTopic(topic).catch(() => undefined);
      }
    } finally {
      await admin.stop();
    }
    if (this.agents.size === 0) return;
    // Tombstones, so compaction drops our agents' desired state from the shared control topic.
    const producer = await startedProducer();
    try {
      for (const key of this.agents.keys()) {
        await producer.send({ topic: SYSTEM_TOPICS.control, key, value: null }).catch(() => undefined);
      }
    } finally {
      await producer.stop();
    }
  }
}

// --- waiting ---------------------------------------------------------------------------------------------------

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  intervalMs = 100,
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
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await delay(intervalMs);
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a TCP connection to the port is refused (nothing listens). */
export function connectionRefused(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** Reads `topic` from the beginning with a throwaway group until `done` says so; deletes the group after. */
export async function readUntil(
  topic: string,
  done: (values: unknown[]) => boolean,
  timeoutMs = 15_000,
): Promise<unknown[]> {
  const kafka = rawKafka();
  const groupId = uniqueName("coord-reader");
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const values: unknown[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic}: condition not met in ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          const text = message.value?.toString("utf8");
          values.push(text === undefined ? null : JSON.parse(text));
          if (done(values)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return values;
}

/** `obj.snake_case`, falling back to `obj.snakeCase` (bus objects reach the API in camelCase today). */
export function field(obj: unknown, snake: string): unknown {
  const record = obj as Record<string, unknown>;
  if (snake in record) return record[snake];
  return record[snake.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())];
}
