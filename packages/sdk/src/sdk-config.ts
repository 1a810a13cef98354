import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { z } from "zod";

const intFrom = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected ${min}–${max}`);

/** The SDK's environment, read at `start()` (never at import), parsed by one schema. */
const sdkEnvSchema = z
  .object({
    OMNIDAEMON_KAFKA_BROKERS: z
      .string({ error: "is required (comma-separated host:port)" })
      .min(1, "is required (comma-separated host:port)")
      .transform((v) =>
        v
          .split(",")
          .map((b) => b.trim())
          .filter(Boolean),
      ),
    OMNIDAEMON_KAFKA_CLIENT_ID: z.string().min(1).default("omnidaemon-worker"),
    OMNIDAEMON_COORDINATOR_URL: z.url().default("http://127.0.0.1:8765"),
    OMNIDAEMON_API_TOKEN: z.string().min(1).optional(),
    OMNIDAEMON_WORKER_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,128}$/)
      .optional(),
    OMNIDAEMON_TOPIC_PARTITIONS: intFrom(1, 10_000).optional(),
    OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: intFrom(100, 86_400_000).optional(),
    OMNIDAEMON_LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    // The broker bounds the session timeout too (group.min/max.session.timeout.ms, 6 s and 30 min by default).
    OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: intFrom(1000, 3_600_000).default(30_000),
    OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: intFrom(100, 3_600_000).default(3000),
  })
  .superRefine((e, ctx) => {
    // A heartbeat as long as the session would expire the session between two beats.
    if (e.OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS >= e.OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS"],
        message: `${e.OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS} must be shorter than OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS (${e.OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS}); a third of it is usual`,
      });
    }
  });

export interface SdkConfig {
  brokers: string[];
  clientId: string;
  coordinatorUrl: string;
  apiToken: string | undefined;
  workerId: string;
  partitions: number;
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

export function loadSdkConfig(env: Readonly<Record<string, string | undefined>>): SdkConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = sdkEnvSchema.safeParse(cleaned);
  if (!result.success) {
    throw new SdkConfigError(
      result.error.issues
        .map((issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`)
        .join("; "),
    );
  }
  const e = result.data;
  return {
    brokers: e.OMNIDAEMON_KAFKA_BROKERS,
    clientId: e.OMNIDAEMON_KAFKA_CLIENT_ID,
    coordinatorUrl: e.OMNIDAEMON_COORDINATOR_URL,
    apiToken: e.OMNIDAEMON_API_TOKEN,
    workerId: e.OMNIDAEMON_WORKER_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    partitions: e.OMNIDAEMON_TOPIC_PARTITIONS ?? 12,
    shutdownTimeoutMs: e.OMNIDAEMON_SHUTDOWN_TIMEOUT_MS ?? 30_000,
    sessionTimeoutMs: e.OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: e.OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS,
    logLevel: e.OMNIDAEMON_LOG_LEVEL,
  };
}
