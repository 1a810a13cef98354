import { isIP } from "node:net";
import { redactKafkaConnection, safeLoadKafkaEnv, type KafkaConnection } from "@omnidaemon/bus-kafka";
import {
  EnvConfigError,
  LOG_LEVELS,
  envInteger,
  envIssues,
  envFileContent,
  envMilliseconds,
  envOneOf,
  envText,
  secretOf,
  shown,
  type Env,
  type LogLevel,
} from "@omnidaemon/lifecycle";
import { safeLoadDatabaseEnv, type DatabaseSettings } from "@omnidaemon/store-pg";
import { z } from "zod";

/**
 * The coordinator's configuration, parsed once by `main.ts` with {@link loadCoordinatorConfig}: Kafka from the one
 * `OMNIDAEMON_KAFKA_*` schema (@omnidaemon/bus-kafka), Postgres from `OMNIDAEMON_DATABASE_*` (@omnidaemon/store-pg),
 * and the coordinator's own variables below. Nothing here reads `process.env`; the env is injected. Every variable
 * is listed in docs/configuration.md.
 */

const MIN_TOKEN_LENGTH = 16;

export type { LogLevel };

/** Thrown by {@link loadCoordinatorConfig}; `issues` holds one line per bad variable, each naming it. */
export class ConfigError extends EnvConfigError {
  override readonly name = "ConfigError";

  constructor(issues: readonly string[]) {
    super(issues, "coordinator configuration");
  }
}

/**
 * The coordinator's own variables, by their full names, so an issue's path is the variable to fix.
 * Defaults are documented here and in docs/configuration.md.
 */
const coordinatorEnvSchema = z
  .object({
    /** Bearer token required by the REST API (or `_FILE`). @default none: the API listens on loopback only */
    OMNIDAEMON_API_TOKEN: envText(),
    OMNIDAEMON_API_TOKEN_FILE: envFileContent(),
    /** @default 8765 */
    OMNIDAEMON_API_PORT: envInteger(1, 65_535, 8765),
    /** @default "0.0.0.0" with a token, "127.0.0.1" without */
    OMNIDAEMON_API_HOST: envText(),
    /** @default "info" */
    OMNIDAEMON_LOG_LEVEL: envOneOf(LOG_LEVELS, "info"),
    /** Deadline from SIGTERM to exit. @default 30000 */
    OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: envMilliseconds(30_000),
    /** How long finished task records are kept. @default 86400000 (24 h) */
    OMNIDAEMON_RESULT_TTL_MS: envMilliseconds(86_400_000),
    /** A worker whose last heartbeat is older is not live. @default 15000 */
    OMNIDAEMON_HEARTBEAT_TIMEOUT_MS: envMilliseconds(15_000),
    /** How long a stopped (or silent) worker stays in the registry before it is deleted. @default 86400000 (24 h) */
    OMNIDAEMON_WORKER_RETENTION_MS: envMilliseconds(86_400_000),
  })
  .transform((env, ctx) => {
    let token = secretOf(env, "OMNIDAEMON_API_TOKEN", ctx);
    if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
      ctx.addIssue({
        code: "custom",
        path: [
          env.OMNIDAEMON_API_TOKEN_FILE === undefined ? "OMNIDAEMON_API_TOKEN" : "OMNIDAEMON_API_TOKEN_FILE",
        ],
        message: `expected at least ${MIN_TOKEN_LENGTH} characters, got ${token.length} (value not shown)`,
      });
      token = undefined;
    }
    return { ...env, OMNIDAEMON_API_TOKEN: token };
  })
  .superRefine((env, ctx) => {
    if (env.OMNIDAEMON_WORKER_RETENTION_MS < env.OMNIDAEMON_HEARTBEAT_TIMEOUT_MS) {
      // Shorter would delete workers that are merely between heartbeats, not gone.
      ctx.addIssue({
        code: "custom",
        path: ["OMNIDAEMON_WORKER_RETENTION_MS"],
        message: `must be at least OMNIDAEMON_HEARTBEAT_TIMEOUT_MS (${env.OMNIDAEMON_HEARTBEAT_TIMEOUT_MS})`,
      });
    }
    const host = env.OMNIDAEMON_API_HOST;
    if (host !== undefined && env.OMNIDAEMON_API_TOKEN === undefined && !isLoopback(host)) {
      ctx.addIssue({
        code: "custom",
        path: ["OMNIDAEMON_API_HOST"],
        message:
          `${shown(host)} is not a loopback address, and the API has no token: set OMNIDAEMON_API_TOKEN ` +
          `to expose it beyond this machine, or leave OMNIDAEMON_API_HOST unset (127.0.0.1)`,
      });
    }
  })
  .transform((env) => ({
    api: {
      host: env.OMNIDAEMON_API_HOST ?? (env.OMNIDAEMON_API_TOKEN === undefined ? "127.0.0.1" : "0.0.0.0"),
      port: env.OMNIDAEMON_API_PORT,
      ...(env.OMNIDAEMON_API_TOKEN !== undefined && { token: env.OMNIDAEMON_API_TOKEN }),
    },
    logLevel: env.OMNIDAEMON_LOG_LEVEL ?? "info",
    shutdownTimeoutMs: env.OMNIDAEMON_SHUTDOWN_TIMEOUT_MS,
    resultTtlMs: env.OMNIDAEMON_RESULT_TTL_MS,
    heartbeatTimeoutMs: env.OMNIDAEMON_HEARTBEAT_TIMEOUT_MS,
    workerRetentionMs: env.OMNIDAEMON_WORKER_RETENTION_MS,
  }));

export interface CoordinatorConfig {
  /** Holds secrets (SASL password, client key): log {@link redactConfig}'s copy. */
  kafka: KafkaConnection;
  /** Holds secrets (the password, in the URL or apart). */
  database: DatabaseSettings;
  /** `token` absent means the API is unauthenticated and `host` is a loopback address. */
  api: { host: string; port: number; token?: string };
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  resultTtlMs: number;
  heartbeatTimeoutMs: number;
  /** Stopped or silent workers are deleted from the registry after this long. */
  workerRetentionMs: number;
}

type OwnConfig = Omit<CoordinatorConfig, "kafka" | "database">;
// Keeps the interface (what main.ts reads) and the schema (what the env yields) from drifting apart.
const _sameShape: (parsed: z.output<typeof coordinatorEnvSchema>) => OwnConfig = (parsed) => parsed;

/**
 * Parses the coordinator's environment. Throws a {@link ConfigError} listing every bad variable by name, e.g.
 * `OMNIDAEMON_API_PORT: expected an integer 1-65535, got "abc"`. Secrets never appear in the message. Files named
 * by `*_FILE` variables are read here.
 */
export function loadCoordinatorConfig(env: Env): CoordinatorConfig {
  const kafka = safeLoadKafkaEnv(env, { defaultClientId: "omnidaemon-coordinator" });
  const database = safeLoadDatabaseEnv(env);
  const own = coordinatorEnvSchema.safeParse(env);
  if (kafka.ok && database.ok && own.success) {
    return { kafka: kafka.settings.connection, database: database.settings, ...own.data };
  }
  throw new ConfigError([
    ...(kafka.ok ? [] : kafka.issues),
    ...(database.ok ? [] : database.issues),
    ...(own.success ? [] : envIssues(own.error)),
  ]);
}

const REDACTED = "[redacted]";

/** What {@link redactConfig} returns: the config without secrets, for a log line. */
export type RedactedConfig = Omit<CoordinatorConfig, "kafka" | "database"> & {
  kafka: Record<string, unknown>;
  database: { url: string; schema: string; sslCa?: string; password?: string };
};

/** A copy of `config` fit for a log line: token and passwords replaced, credentials in URLs masked. */
export function redactConfig(config: CoordinatorConfig): RedactedConfig {
  const { sslCa, password, ...database } = config.database;
  return {
    ...config,
    kafka: redactKafkaConnection(config.kafka),
    database: {
      ...database,
      url: redactUrl(database.url),
      ...(sslCa === undefined ? {} : { sslCa: `(PEM, ${sslCa.length} bytes)` }),
      ...(password === undefined ? {} : { password: REDACTED }),
    },
    api: { ...config.api, ...(config.api.token !== undefined && { token: REDACTED }) },
  };
}

/** Masks the password of a URL, and the values of query parameters that look like secrets. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return REDACTED;
  }
  // "***" survives URL encoding as is, unlike "[redacted]".
  if (url.password !== "") url.password = "***";
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|secret|token|key/i.test(key)) url.searchParams.set(key, "***");
  }
  return url.toString();
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost". */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === "localhost") return true;
  const family = isIP(bare);
  if (family === 4) return bare.startsWith("127.");
  if (family === 6) {
    const lower = bare.toLowerCase();
    return lower === "::1" || lower === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(lower);
  }
  return false;
}
