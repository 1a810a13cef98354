import { z } from "zod";
import { agentLimitsSchema } from "../limits";
import { AGENT_STATES } from "../vocabulary";

/*
 * Records of the compacted control topic (`omnidaemon.control`). Two kinds share it, told apart by `kind`:
 * - the desired state of an agent (coordinator → every worker), key `<topic>/<agent>`;
 * - a rate hint (a worker → every worker), key `<topic>/<agent>/rate-hint`, when a provider pushed back.
 * Compaction keeps the last record per key, so each agent keeps its last state and its last hint.
 */

/**
 * One agent's desired state, fleet-wide. Records written before `kind` and `limits` existed have neither and
 * still parse; readers that predate them ignore both (the schema is not strict).
 */
export const desiredStateSchema = z.object({
  /** Absent on records written before rate hints shared the topic. */
  kind: z.literal("desired_state").optional(),
  topic: z.string().min(1),
  agent: z.string().min(1),
  state: z.enum(AGENT_STATES),
  /** Strictly increasing across all agents (a Postgres sequence); older revisions are ignored. */
  revision: z.number().int().nonnegative(),
  updated_at: z.string(),
  updated_by: z.string().nullish(),
  /**
   * The limits every worker enforces for the agent: its registered config with the operator's override on top
   * (docs/rate-limits.md). Absent on records of a coordinator that predates limits: a worker then keeps the limits
   * of its own config. Present and `{}`: no limits.
   */
  limits: agentLimitsSchema.optional(),
});

export type DesiredState = z.output<typeof desiredStateSchema>;

/**
 * A rate hint: a worker's callback was told to back off (`RetryAfterError`, a provider's 429), so the worker lowered
 * the agent's fleet-wide rate to `factor` × the configured rate until `hold_until`; every worker that reads it lowers
 * its share the same way (merging is min/max, so order and repeats do not matter). After the hold the rate recovers
 * additively on each worker by itself; no record says "recovered".
 */
export const rateHintSchema = z.object({
  kind: z.literal("rate_hint"),
  topic: z.string().min(1),
  agent: z.string().min(1),
  /** Fraction of the configured rate (and max in flight) to use until `hold_until`. */
  factor: z.number().gt(0).max(1),
  /** Epoch ms until which the lowered rate holds. */
  hold_until: z.number().int().nonnegative(),
  /**
   * The retry-after that caused it, in ms: a reader holds at most this long from when it reads the hint, so a
   * writer whose clock runs ahead cannot hold the fleet back longer than the provider asked.
   */
  retry_after_ms: z.number().int().nonnegative(),
  issued_at: z.string(),
  worker_id: z.string().nullish(),
});

export type RateHint = z.output<typeof rateHintSchema>;

/** A control record as a reader sees it, by kind. */
export type ControlRecord =
  { kind: "desired_state"; state: DesiredState } | { kind: "rate_hint"; hint: RateHint };

/**
 * Parses a control record's JSON value by its `kind` (a record without one is a desired state, as every record
 * written before rate hints existed). Throws the schema's ZodError for a record that is neither.
 */
export function parseControlRecord(json: unknown): ControlRecord {
  if ((json as { kind?: unknown } | null)?.kind === "rate_hint") {
    return { kind: "rate_hint", hint: rateHintSchema.parse(json) };
  }
  return { kind: "desired_state", state: desiredStateSchema.parse(json) };
}

/** The key of an agent's control record (compaction keeps the last record per key), and of agent maps. */
export function controlKey(topic: string, agent: string): string {
  return `${topic}/${agent}`;
}

/** The key of an agent's rate hint: its own key, so compaction never drops the agent's desired state for it. */
export function rateHintKey(topic: string, agent: string): string {
  return `${controlKey(topic, agent)}/rate-hint`;
}
