import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { safeLoadKafkaEnv, type KafkaConnection } from "@omnidaemon/bus-kafka";
import {
  EnvConfigError,
  LOG_LEVELS,
  envFileContent,
  envInteger,
  envIssues,
  envOneOf,
  envText,
  secretFromEnv,
  secretOf,
  shown,
  type Env,
} from "@omnidaemon/lifecycle";
import { API_TOKEN_VARIABLE } from "@omnidaemon/protocol";
import { z } from "zod";

/**
 * The SDK's environment, read at `start()` (never at import). Kafka comes from the one `OMNIDAEMON_KAFKA_*`
 * schema of @omnidaemon/bus-kafka; the rest is the SDK's own. Every variable is in docs/configuration.md.
 */
const sdkEnvSchema = z
  .object({
    OMNIDAEMON_COORDINATOR_URL: envText().transform((value, ctx) => {
      if (value === undefined) return "http://127.0.0.1:8765";
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        ctx.addIssue({ code: "custom", message: `expected an http:// or https:// URL, got ${shown(value)}` });
        return z.NEVER;
      }
      return value;
    }),
    OMNIDAEMON_API_TOKEN: envText(),
    OMNIDAEMON_API_TOKEN_FILE: envFileContent(),
    OMNIDAEMON_WORKER_ID: envText().transform((value, ctx) => {
      if (value !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `expected 1-128 letters, digits, ".", "_" or "-", got ${shown(value)}`,
        });
        return z.NEVER;
      }
      return value;
    }),
    OMNIDAEMON_TOPIC_PARTITIONS: envInteger(1, 10_000, 12),
    OMNIDAEMON_AGENT_START_CONCURRENCY: envInteger(1, 1000, 16),
    OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: envInteger(100, 86_400_000, 30_000),
    OMNIDAEMON_LOG_LEVEL: envOneOf(LOG_LEVELS, "info"),
  })
  .transform((env, ctx) => ({ ...env, apiToken: secretOf(env, "OMNIDAEMON_API_TOKEN", ctx) }));

/**
 * The coordinator's API token alone (`OMNIDAEMON_API_TOKEN` or `_FILE`), for the calls that reach the coordinator
 * without a started SDK. Throws an {@link SdkConfigError} naming the variable.
 */
export function apiTokenFrom(env: Env): string | undefined {
  try {
    return secretFromEnv(env, API_TOKEN_VARIABLE);
  } catch (error) {
    if (error instanceof EnvConfigError) throw new SdkConfigError(error.issues.join("; "));
    throw error;
  }
}

export interface SdkConfig {
  /** How to reach Kafka: brokers, client id, TLS, SASL, timeouts. Holds secrets: log it redacted. */
  kafka: KafkaConnection;
  coordinatorUrl: string;
  apiToken: string | undefined;
  workerId: string;
  partitions: number;
  /** How many agents `start()` brings up at once (agent topics, connect, group join). @default 16 */
  agentStartConcurrency: number;
  /** One budget for the whole shutdown of the process: every agent's drain, then commit, deregister, flush. */
  shutdownTimeoutMs: number;
  /** Kafka group session timeout: a worker that stops heartbeating loses its partitions after this. */
  sessionTimeoutMs: number;
  /** Kafka group heartbeat interval; shorter than `sessionTimeoutMs`. */
  heartbeatIntervalMs: number;
  logLevel: string;
}

export class SdkConfigError extends Error {
  override readonly name = "SdkConfigError";
}

/** Parses the SDK's environment; throws an {@link SdkConfigError} naming every bad variable ("; "-separated). */
export function loadSdkConfig(env: Env): SdkConfig {
  const kafka = safeLoadKafkaEnv(env, { defaultClientId: "omnidaemon-worker" });
  const own = sdkEnvSchema.safeParse(env);
  const issues = [...(kafka.ok ? [] : kafka.issues), ...(own.success ? [] : envIssues(own.error))];
  if (!kafka.ok || !own.success) throw new SdkConfigError(issues.join("; "));
  const e = own.data;
  return {
    kafka: kafka.settings.connection,
    coordinatorUrl: e.OMNIDAEMON_COORDINATOR_URL,
    apiToken: e.apiToken,
    workerId: e.OMNIDAEMON_WORKER_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    partitions: e.OMNIDAEMON_TOPIC_PARTITIONS,
    agentStartConcurrency: e.OMNIDAEMON_AGENT_START_CONCURRENCY,
    shutdownTimeoutMs: e.OMNIDAEMON_SHUTDOWN_TIMEOUT_MS,
    sessionTimeoutMs: kafka.settings.sessionTimeoutMs,
    heartbeatIntervalMs: kafka.settings.heartbeatIntervalMs,
    logLevel: e.OMNIDAEMON_LOG_LEVEL,
  };
}
