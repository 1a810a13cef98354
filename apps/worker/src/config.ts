import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"], { error: "expected true or false" })
  .transform((v) => ["true", "1", "yes", "on"].includes(v));
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected ${min}–${max}`);

/**
 * The worker's own settings (the SDK reads Kafka and coordinator settings itself, at start). One schema, parsed
 * once in main from the injected environment; errors name the variable.
 */
const workerEnvSchema = z.object({
  OMNIDAEMON_AGENTS_MODULE: z.string().min(1).optional(),
  OMNIDAEMON_METRICS_PORT: int(0, 65_535).default(9464),
  OMNIDAEMON_METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  OMNIDAEMON_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  OMNIDAEMON_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: int(100, 86_400_000).default(30_000),
  OMNIDAEMON_LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
});

export interface WorkerConfig {
  agentsModule: string | undefined;
  metricsPort: number;
  metricsHost: string;
  webhookSecret: string | undefined;
  webhookAllowPrivate: boolean;
  shutdownTimeoutMs: number;
  logLevel: string;
}

export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

export function loadWorkerConfig(env: Readonly<Record<string, string | undefined>>): WorkerConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = workerEnvSchema.safeParse(cleaned);
  if (!result.success) {
    throw new WorkerConfigError(
      result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "),
    );
  }
  const e = result.data;
  return {
    agentsModule: e.OMNIDAEMON_AGENTS_MODULE,
    metricsPort: e.OMNIDAEMON_METRICS_PORT,
    metricsHost: e.OMNIDAEMON_METRICS_HOST,
    webhookSecret: e.OMNIDAEMON_WEBHOOK_SECRET,
    webhookAllowPrivate: e.OMNIDAEMON_WEBHOOK_ALLOW_PRIVATE,
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
