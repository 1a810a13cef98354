import {
  LOG_LEVELS,
  envBoolean,
  envFileContent,
  envInteger,
  envIssues,
  envOneOf,
  envText,
  secretOf,
  type Env,
} from "@omnidaemon/lifecycle";
import { z } from "zod";

/**
 * The worker's own settings; Kafka (the one `OMNIDAEMON_KAFKA_*` schema) and the coordinator are the SDK's, read
 * by `loadSdkConfig`. One schema, parsed once in main from the injected environment; errors name the variable.
 * Every variable is listed in docs/configuration.md.
 */
const workerEnvSchema = z
  .object({
    OMNIDAEMON_AGENTS_MODULE: envText(),
    OMNIDAEMON_METRICS_PORT: envInteger(0, 65_535, 9464),
    OMNIDAEMON_METRICS_HOST: envText().transform((value) => value ?? "0.0.0.0"),
    OMNIDAEMON_WEBHOOK_SECRET: envText(),
    OMNIDAEMON_WEBHOOK_SECRET_FILE: envFileContent(),
    OMNIDAEMON_WEBHOOK_ALLOW_PRIVATE: envBoolean(false),
    // The deliverer's bounds (webhooks/webhook-deliverer.ts has the same defaults).
    OMNIDAEMON_WEBHOOK_TIMEOUT_MS: envInteger(100, 600_000, 10_000),
    OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS: envInteger(1, 20, 5),
    OMNIDAEMON_WEBHOOK_MAX_CONCURRENT: envInteger(1, 1024, 16),
    OMNIDAEMON_WEBHOOK_MAX_PENDING: envInteger(1, 1_000_000, 1000),
    OMNIDAEMON_WEBHOOK_MAX_PENDING_BYTES: envInteger(1_048_576, 4_294_967_296, 67_108_864),
    OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: envInteger(100, 86_400_000, 30_000),
    OMNIDAEMON_LOG_LEVEL: envOneOf(LOG_LEVELS, "info"),
  })
  .transform((env, ctx) => {
    const webhookSecret = secretOf(env, "OMNIDAEMON_WEBHOOK_SECRET", ctx);
    if (webhookSecret !== undefined && webhookSecret.length < 16) {
      const name = env.OMNIDAEMON_WEBHOOK_SECRET_FILE
        ? "OMNIDAEMON_WEBHOOK_SECRET_FILE"
        : "OMNIDAEMON_WEBHOOK_SECRET";
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: `must be at least 16 characters, got ${webhookSecret.length} (value not shown)`,
      });
    }
    return { ...env, webhookSecret };
  });

export interface WorkerConfig {
  agentsModule: string | undefined;
  metricsPort: number;
  metricsHost: string;
  webhookSecret: string | undefined;
  webhookAllowPrivate: boolean;
  /** The webhook deliverer's bounds: per-attempt timeout, attempts, POSTs at once, pending deliveries and bytes. */
  webhookLimits: {
    timeoutMs: number;
    maxAttempts: number;
    maxConcurrent: number;
    maxPending: number;
    maxPendingBytes: number;
  };
  shutdownTimeoutMs: number;
  logLevel: string;
}

export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

export function loadWorkerConfig(env: Env): WorkerConfig {
  const result = workerEnvSchema.safeParse(env);
  if (!result.success) throw new WorkerConfigError(envIssues(result.error).join("; "));
  const e = result.data;
  return {
    agentsModule: e.OMNIDAEMON_AGENTS_MODULE,
    metricsPort: e.OMNIDAEMON_METRICS_PORT,
    metricsHost: e.OMNIDAEMON_METRICS_HOST,
    webhookSecret: e.webhookSecret,
    webhookAllowPrivate: e.OMNIDAEMON_WEBHOOK_ALLOW_PRIVATE,
    webhookLimits: {
      timeoutMs: e.OMNIDAEMON_WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS,
      maxConcurrent: e.OMNIDAEMON_WEBHOOK_MAX_CONCURRENT,
      maxPending: e.OMNIDAEMON_WEBHOOK_MAX_PENDING,
      maxPendingBytes: e.OMNIDAEMON_WEBHOOK_MAX_PENDING_BYTES,
    },
    shutdownTimeoutMs: e.OMNIDAEMON_SHUTDOWN_TIMEOUT_MS,
    logLevel: e.OMNIDAEMON_LOG_LEVEL,
  };
}

/** `--agents <path>` (or `--agents=<path>`) from argv, else the env variable. */
export function agentsModuleFrom(argv: string[], config: WorkerConfig): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--agents") return argv[i + 1];
    if (arg.startsWith("--agents=")) return arg.slice("--agents=".length);
  }
  return config.agentsModule;
}
