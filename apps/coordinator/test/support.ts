// The coordinator's own helpers for its integration suites, on top of @omnidaemon/testkit: a real coordinator (real
// Kafka, real Postgres) built in-process as main.ts builds it, per suite, each in a Postgres schema of its own.
//
// Isolation caveat: the coordinator's task-events consumer group (`omnidaemon.coordinator`) and the system topics are
// fixed names, so every coordinator on the broker shares them. Suites keep at most one coordinator alive at a time;
// another coordinator on the same broker (a concurrent run elsewhere) could take task events meant for ours.
import { ServiceStack } from "@omnidaemon/lifecycle";
import {
  databaseUrl,
  httpRequest,
  kafkaBrokers,
  kafkaClient,
  testLogger,
  uniqueName,
  type HttpAnswer,
  type HttpRequest,
} from "@omnidaemon/testkit";
import type { CoordinatorConfig } from "../src/config";
import type { CoordinatorHandles, CoordinatorOptions } from "../src/coordinator";
import { enterCoordinator } from "../src/main";

export const API_TOKEN = "integration-token-0123456789abcdef";

/** A fresh Postgres schema name (the coordinator's PgStore creates it by migrating). */
export function newSchema(prefix: string): string {
  return uniqueName(`coord_${prefix}`);
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

export interface RunningCoordinator {
  stack: ServiceStack;
  handles: CoordinatorHandles;
  config: CoordinatorConfig;
  url: string;
  port: number;
  /** A request to its API; `token` defaults to the coordinator's own (if it has one), `null` sends none. */
  request(method: string, path: string, request?: HttpRequest): Promise<HttpAnswer>;
  close(): Promise<void>;
}

/**
 * Builds a coordinator exactly as main.ts does (one ServiceStack), from a config made here, its answers checked
 * against the protocol. The stack is closed again if building fails half-way.
 */
export async function startCoordinator(
  overrides: ConfigOverrides,
  options: CoordinatorOptions = {},
): Promise<RunningCoordinator> {
  const config = coordinatorConfig(overrides);
  const stack = new ServiceStack({ stopTimeoutMs: 15_000 });
  let handles: CoordinatorHandles;
  try {
    // Every answer is checked against the protocol's response schemas: what the SDK and the CLI compile against.
    handles = await enterCoordinator(stack, config, testLogger, { checkResponses: true, ...options });
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
      httpRequest(`${address.url}${path}`, method, {
        ...request,
        token: request.token === undefined ? config.api.token : request.token,
      }),
    close: () => (closing ??= stack.close()),
  };
}

/** `obj.snake_case`, falling back to `obj.snakeCase` (bus objects reach the API in camelCase today). */
export function field(obj: unknown, snake: string): unknown {
  const record = obj as Record<string, unknown>;
  if (snake in record) return record[snake];
  return record[snake.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())];
}
