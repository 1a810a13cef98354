import { isIP } from "node:net";
import type { KafkaConnectionInput } from "@omnidaemon/bus-kafka";
import { z } from "zod";

/**
 * The coordinator's configuration: one zod schema over `OMNIDAEMON_*` environment variables, parsed once by
 * `main.ts` with {@link loadCoordinatorConfig}. Nothing here reads `process.env`; the env is injected.
 *
 * Empty values count as unset, so `OMNIDAEMON_API_TOKEN=` in a compose file means "no token", not "empty token".
 */

const MAX_TIMER_MS = 2 ** 31 - 1;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
const MIN_TOKEN_LENGTH = 16;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Thrown by {@link loadCoordinatorConfig}; `issues` holds one line per bad variable, each naming it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(readonly issues: readonly string[]) {
    super(`invalid coordinator configuration:\n  ${issues.join("\n  ")}`);
  }
}

const shown = (raw: string): string => JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);

/** An env var as a trimmed string, with "" meaning unset. */
const text = () =>
  z
    .string()
    .optional()
    .transform((raw) => {
      const value = raw?.trim();
      return value === undefined || value === "" ? undefined : value;
    });

const required = (what: string) =>
  text().transform((value, ctx) => {
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: `is required (${what})` });
      return z.NEVER;
    }
    return value;
  });

const integer = (min: number, max: number, fallback: number) =>
  text().transform((value, ctx) => {
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      ctx.addIssue({ code: "custom", message: `expected an integer ${min}-${max}, got ${shown(value)}` });
      return z.NEVER;
    }
    return parsed;
  });

const milliseconds = (fallback: number) => integer(1, MAX_TIMER_MS, fallback);

const boolean = (fallback: boolean) =>
  text().transform((value, ctx) => {
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (["true", "1", "yes", "on"].includes(lower)) return true;
    if (["false", "0", "no", "off"].includes(lower)) return false;
    ctx.addIssue({ code: "custom", message: `expected true or false, got ${shown(value)}` });
    return z.NEVER;
  });

const oneOf = <T extends string>(values: readonly T[], fallback?: T) =>
  text().transform((value, ctx): T | undefined => {
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    const match = values.find((candidate) => candidate === lower);
    if (match === undefined) {
      ctx.addIssue({ code: "custom", message: `expected one of ${values.join(", ")}, got ${shown(value)}` });
      return z.NEVER;
    }
    return match;
  });

const BROKER = /^[^\s:,]+:\d{1,5}$/;

/**
 * Every variable the coordinator reads, by its full name, so an issue's path is the variable to fix.
 * Defaults are documented here and in docs/control-plane.md.
 */
const coordinatorEnvSchema = z
  .object({
    /** Comma-separated bootstrap brokers, `host:port,host:port`. Required. */
    OMNIDAEMON_KAFKA_BROKERS: required("comma-separated host:port list").transform((value, ctx) => {
      const brokers = value
        .split(",")
        .map((broker) => broker.trim())
        .filter((broker) => broker !== "");
      const bad = brokers.find((broker) => !BROKER.test(broker));
      if (brokers.length === 0 || bad !== undefined) {
        ctx.addIssue({
          code: "custom",
          message: `expected a comma-separated list of host:port, got ${shown(bad ?? value)}`,
        });
        return z.NEVER;
      }
      return brokers;
    }),
    /** @default "omnidaemon-coordinator" */
    OMNIDAEMON_KAFKA_CLIENT_ID: text().transform((value) => value ?? "omnidaemon-coordinator"),
    /** TLS to the brokers with the system CAs. @default false */
    OMNIDAEMON_KAFKA_SSL: boolean(false),
    /** plain, scram-sha-256 or scram-sha-512; with USERNAME and PASSWORD. @default none */
    OMNIDAEMON_KAFKA_SASL_MECHANISM: oneOf(SASL_MECHANISMS),
    OMNIDAEMON_KAFKA_SASL_USERNAME: text(),
    OMNIDAEMON_KAFKA_SASL_PASSWORD: text(),
    /** `postgres://user:password@host:5432/db`. Required. */
    OMNIDAEMON_DATABASE_URL: required("postgres://user:password@host:5432/database").transform(
      (value, ctx) => {
        let url: URL | undefined;
        try {
          url = new URL(value);
        } catch {
          url = undefined;
        }
        if (url === undefined || (url.protocol !== "postgres:" && url.protocol !== "postgresql:")) {
          // The value may hold a password: never echo it.
          ctx.addIssue({
            code: "custom",
            message: "expected a postgres:// or postgresql:// URL (value not shown: it may hold a password)",
          });
          return z.NEVER;
        }
        return value;
      },
    ),
    /** Postgres schema holding the coordinator's tables. @default "public" */
    OMNIDAEMON_DATABASE_SCHEMA: text().transform((value, ctx) => {
      if (value === undefined) return "public";
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `expected a lowercase identifier (letters, digits, _; at most 63), got ${shown(value)}`,
        });
        return z.NEVER;
      }
      return value;
    }),
    /** TLS to Postgres. @default false */
    OMNIDAEMON_DATABASE_SSL: boolean(false),
    /** Bearer token required by the REST API. @default none: the API listens on loopback only */
    OMNIDAEMON_API_TOKEN: text().transform((value, ctx) => {
      if (value !== undefined && value.length < MIN_TOKEN_LENGTH) {
        ctx.addIssue({
          code: "custom",
          message: `expected at least ${MIN_TOKEN_LENGTH} characters, got ${value.length} (value not shown)`,
        });
        return z.NEVER;
      }
      return value;
    }),
    /** @default 8765 */
    OMNIDAEMON_API_PORT: integer(1, 65_535, 8765),
    /** @default "0.0.0.0" with a token, "127.0.0.1" without */
    OMNIDAEMON_API_HOST: text(),
    /** @default "info" */
    OMNIDAEMON_LOG_LEVEL: oneOf(LOG_LEVELS, "info"),
    /** Deadline from SIGTERM to exit. @default 30000 */
    OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: milliseconds(30_000),
    /** How long finished task records are kept. @default 86400000 (24 h) */
    OMNIDAEMON_RESULT_TTL_MS: milliseconds(86_400_000),
    /** A worker whose last heartbeat is older is not live. @default 15000 */
    OMNIDAEMON_HEARTBEAT_TIMEOUT_MS: milliseconds(15_000),
    /** How long a stopped (or silent) worker stays in the registry before it is deleted. @default 86400000 (24 h) */
    OMNIDAEMON_WORKER_RETENTION_MS: milliseconds(86_400_000),
  })
  .superRefine((env, ctx) => {
    const mechanism = env.OMNIDAEMON_KAFKA_SASL_MECHANISM;
    if (mechanism !== undefined) {
      for (const key of ["OMNIDAEMON_KAFKA_SASL_USERNAME", "OMNIDAEMON_KAFKA_SASL_PASSWORD"] as const) {
        if (env[key] === undefined) {
          ctx.addIssue({ code: "custom", path: [key], message: `is required when SASL is configured` });
        }
      }
    } else if (
      env.OMNIDAEMON_KAFKA_SASL_USERNAME !== undefined ||
      env.OMNIDAEMON_KAFKA_SASL_PASSWORD !== undefined
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["OMNIDAEMON_KAFKA_SASL_MECHANISM"],
        message: `is required with a SASL username or password (one of ${SASL_MECHANISMS.join(", ")})`,
      });
    }
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
    kafka: {
      brokers: env.OMNIDAEMON_KAFKA_BROKERS,
      clientId: env.OMNIDAEMON_KAFKA_CLIENT_ID,
      ssl: env.OMNIDAEMON_KAFKA_SSL,
      ...(env.OMNIDAEMON_KAFKA_SASL_MECHANISM !== undefined && {
        sasl: {
          mechanism: env.OMNIDAEMON_KAFKA_SASL_MECHANISM,
          username: env.OMNIDAEMON_KAFKA_SASL_USERNAME ?? "",
          password: env.OMNIDAEMON_KAFKA_SASL_PASSWORD ?? "",
        },
      }),
    } satisfies KafkaConnectionInput,
    database: {
      url: env.OMNIDAEMON_DATABASE_URL,
      schema: env.OMNIDAEMON_DATABASE_SCHEMA,
      ssl: env.OMNIDAEMON_DATABASE_SSL,
    },
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
  kafka: {
    brokers: string[];
    clientId: string;
    ssl: boolean;
    sasl?: { mechanism: (typeof SASL_MECHANISMS)[number]; username: string; password: string };
  };
  database: { url: string; schema: string; ssl: boolean };
  /** `token` absent means the API is unauthenticated and `host` is a loopback address. */
  api: { host: string; port: number; token?: string };
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  resultTtlMs: number;
  heartbeatTimeoutMs: number;
  /** Stopped or silent workers are deleted from the registry after this long. */
  workerRetentionMs: number;
}

// Keeps the interface (what main.ts reads) and the schema (what the env yields) from drifting apart.
const _sameShape: (parsed: z.output<typeof coordinatorEnvSchema>) => CoordinatorConfig = (parsed) => parsed;

/**
 * Parses the coordinator's environment. Throws a {@link ConfigError} listing every bad variable by name, e.g.
 * `OMNIDAEMON_API_PORT: expected an integer 1-65535, got "abc"`. Secrets never appear in the message.
 */
export function loadCoordinatorConfig(env: Readonly<Record<string, string | undefined>>): CoordinatorConfig {
  const result = coordinatorEnvSchema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.map(String).join(".") || "environment";
      // zod's own type messages (a variable given as a non-string) stay generic; ours already read well.
      return `${name}: ${issue.message}`;
    }),
  );
}

const REDACTED = "[redacted]";

/** A copy of `config` fit for a log line: token and passwords replaced, credentials in URLs masked. */
export function redactConfig(config: CoordinatorConfig): CoordinatorConfig {
  const { sasl } = config.kafka;
  return {
    ...config,
    kafka: { ...config.kafka, ...(sasl !== undefined && { sasl: { ...sasl, password: REDACTED } }) },
    database: { ...config.database, url: redactUrl(config.database.url) },
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
