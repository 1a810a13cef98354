import { agentLimitsShape } from "@omnidaemon/protocol";
import { z } from "zod";
import { BusError } from "../errors";

/**
 * Runtime knobs of one agent. JSON-serializable by design: they are stored in the registry and shown by the CLI.
 * Unknown keys are refused so a typo (`maxRetry`) fails loudly instead of silently running with the default.
 */
export const agentRuntimeConfigSchema = z.strictObject({
  /** Retries after the first attempt; 0 means none. @default 3 */
  maxRetries: z.number().int().min(0).max(100).default(3),
  /** A delivery running longer is aborted (its signal fires) and counts as a failed attempt. @default 300000 */
  reclaimIdleMs: z.number().int().min(10).max(86_400_000).default(300_000),
  /** Send exhausted and non-retriable events to the agent's DLQ; if false they are dropped and reported. @default true */
  dlqEnabled: z.boolean().default(true),
  /** Deliveries in flight per agent per process, across and within partitions. @default 8 */
  concurrency: z.number().int().min(1).max(10_000).default(8),
  /** Where a new consumer group starts reading the topic. @default "earliest" */
  startFrom: z.enum(["earliest", "latest"]).default("earliest"),
  /** Retry in place, holding the key, so a key's later events wait behind a failing one. @default false */
  strictKeyOrder: z.boolean().default(false),
  /** First retry delay in ms; doubles per attempt, with jitter. @default 1000 */
  retryBackoffMs: z.number().int().min(0).max(3_600_000).default(1000),
  /** Largest retry delay in ms. @default 60000 */
  maxRetryBackoffMs: z.number().int().min(0).max(86_400_000).default(60_000),
  /**
   * How long a callback that ignores its aborted signal (deadline, revocation, forced shutdown) keeps its key and
   * concurrency slot after the abort: the next delivery of that key waits for it to settle, at most this long.
   * @default 30000
   */
  abortGraceMs: z.number().int().min(0).max(3_600_000).default(30_000),
  /**
   * Which task events reach the coordinator (results, statuses, its counters): every one, only failures (failed,
   * retrying, dead_lettered), or none — for high-volume agents whose results nobody reads. Worker metrics count
   * everything either way. @default "all"
   */
  results: z.enum(["all", "failures", "none"]).default("all"),
  /**
   * A delivery reports `processing` only once it has run this long; one that ends sooner reports only its end
   * (half the task events for fast agents). 0 reports `processing` at once. @default 250
   */
  reportProcessingAfterMs: z.number().int().min(0).max(86_400_000).default(250),
  /**
   * Fleet-wide limits (the protocol's one definition; docs/rate-limits.md): `rateLimit` `{ perSecond | perMinute,
   * burst?, scope? }`, `maxInFlight`, `tenantWeights`. Absent means no limit. The registry's copy, with an
   * operator's override on top, reaches every worker through the control topic.
   */
  ...agentLimitsShape,
});

export type AgentRuntimeConfig = z.output<typeof agentRuntimeConfigSchema>;
export type AgentRuntimeConfigInput = z.input<typeof agentRuntimeConfigSchema>;

/** Parses agent config; the error names the field (`config.maxRetries: …`). */
export function parseAgentRuntimeConfig(input: unknown, fieldPrefix = "config"): AgentRuntimeConfig {
  const result = agentRuntimeConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = [fieldPrefix, ...(issue?.path ?? []).map(String)].join(".");
    throw new BusError("INVALID_CONFIG", `invalid agent ${path}: ${issue?.message ?? "invalid"}`, {
      field: path,
    });
  }
  return result.data;
}
