import { z } from "zod";

import { storableString } from "./api/fields";
import { RATE_LIMIT_SCOPES } from "./limits-text";

export {
  RATE_LIMIT_SCOPES,
  resolveRateLimit,
  type RateLimitScope,
  type ResolvedRateLimit,
} from "./limits-text";

/*
 * Fleet-wide limits of one agent (docs/rate-limits.md): a rate limit, a cap on deliveries in flight, and weights for
 * tenant fairness. One shape everywhere: the keys of an agent's `config` (camelCase, as every config key), the
 * operator's override (`PUT /agents/{topic}/{name}/limits`), and the limits a control record tells workers to
 * enforce. Every number is fleet-wide: each worker enforces its share (by the partitions it owns).
 */

export const MAX_RATE_PER_SECOND = 1_000_000;
export const MAX_BURST = 1_000_000;
export const MAX_IN_FLIGHT = 100_000;
export const MAX_TENANT_WEIGHT = 1000;
export const MAX_TENANT_WEIGHTS = 1000;
export const EXACTLY_ONE_RATE = "set exactly one of perSecond and perMinute";

const positiveRate = (max: number) => z.number().positive().max(max);

/**
 * `{ perSecond | perMinute, burst?, scope? }`. Exactly one of `perSecond` and `perMinute` (the JSON Schema says so
 * with `oneOf`, the validator with a refinement that words it). `burst`: events the fleet may start at once after
 * being idle; default the rate's one second, at least 1. `scope`: default `"agent"`.
 */
export const rateLimitSchema = z
  .strictObject({
    perSecond: positiveRate(MAX_RATE_PER_SECOND)
      .optional()
      .meta({ description: "Events per second, fleet-wide (fractions allowed)" }),
    perMinute: positiveRate(MAX_RATE_PER_SECOND * 60)
      .optional()
      .meta({ description: "Events per minute, fleet-wide (fractions allowed)" }),
    burst: z.number().int().min(1).max(MAX_BURST).optional().meta({
      description: "Events the fleet may start at once after being idle; default one second's worth",
    }),
    scope: z
      .enum(RATE_LIMIT_SCOPES)
      .optional()
      .meta({ description: 'One budget for the agent ("agent", default) or one per tenant_id ("tenant")' }),
  })
  .superRefine((value, ctx) => {
    if ((value.perSecond === undefined) === (value.perMinute === undefined)) {
      ctx.addIssue({ code: "custom", message: EXACTLY_ONE_RATE });
    }
  })
  .meta({ oneOf: [{ required: ["perSecond"] }, { required: ["perMinute"] }] });
export type RateLimit = z.output<typeof rateLimitSchema>;

export const maxInFlightSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_IN_FLIGHT)
  .meta({ description: "Deliveries running at once, fleet-wide" });

/** Relative weights of tenants in the fair ready-queue; a tenant not listed weighs 1. */
export const tenantWeightsSchema = z
  .record(
    // A tenant id: what Postgres can hold in `jsonb` (the weights are stored in the agent's config).
    storableString().min(1).max(256),
    z.number().positive().max(MAX_TENANT_WEIGHT),
    {
      // zod says "Invalid key in record"; say what is wrong with the key (the path names the key).
      error: (issue) => {
        if (issue.code !== "invalid_key") return undefined;
        const inner = (issue as { issues?: Array<{ message?: string }> }).issues?.[0]?.message;
        return `tenant id ${inner ?? "is not valid"}`;
      },
    },
  )
  .refine((weights) => Object.keys(weights).length <= MAX_TENANT_WEIGHTS, {
    message: `at most ${MAX_TENANT_WEIGHTS} tenants`,
  })
  .meta({
    description: "Weight per tenant_id in the fair ready-queue (a tenant not listed weighs 1)",
    maxProperties: MAX_TENANT_WEIGHTS,
  });

/** The limit keys as they sit in an agent's config: every one optional, no default (absent means no limit). */
export const agentLimitsShape = {
  rateLimit: rateLimitSchema.optional(),
  maxInFlight: maxInFlightSchema.optional(),
  tenantWeights: tenantWeightsSchema.optional(),
};

/** The keys of {@link agentLimitsShape}, in one place. */
export const LIMIT_KEYS = ["rateLimit", "maxInFlight", "tenantWeights"] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** Limits as workers enforce them (also what a control record carries): an absent key is no limit. */
export const agentLimitsSchema = z.strictObject(agentLimitsShape);
export type AgentLimits = z.output<typeof agentLimitsSchema>;

/**
 * An operator's override of an agent's configured limits (`PUT /agents/{topic}/{name}/limits`): a key present
 * replaces the configured one, `null` removes it (no limit, whatever the config says), an absent key keeps the
 * configured one. It survives re-registration: a worker that restarts with its code's config does not undo it.
 */
export const limitsOverrideSchema = z.strictObject({
  rateLimit: rateLimitSchema.nullable().optional(),
  maxInFlight: maxInFlightSchema.nullable().optional(),
  tenantWeights: tenantWeightsSchema.nullable().optional(),
});
export type LimitsOverride = z.output<typeof limitsOverrideSchema>;

/**
 * The limit keys of an agent's stored config. The config was validated when the agent was registered; a key that
 * does not parse (a row written before limits existed cannot have one, but a hand-edited one could) is left out.
 */
export function limitsOfConfig(config: Readonly<Record<string, unknown>>): AgentLimits {
  const limits: AgentLimits = {};
  for (const key of LIMIT_KEYS) {
    if (config[key] === undefined) continue;
    const parsed = agentLimitsShape[key].safeParse(config[key]);
    if (parsed.success && parsed.data !== undefined) Object.assign(limits, { [key]: parsed.data });
  }
  return limits;
}

/** What workers enforce: the configured limits with the operator's override on top (see {@link limitsOverrideSchema}). */
export function effectiveLimits(
  config: Readonly<Record<string, unknown>>,
  override: LimitsOverride | null | undefined,
): AgentLimits {
  const limits: Record<string, unknown> = { ...limitsOfConfig(config) };
  if (override) {
    for (const key of LIMIT_KEYS) {
      if (!(key in override) || override[key] === undefined) continue;
      if (override[key] === null) delete limits[key];
      else limits[key] = override[key];
    }
  }
  return limits as AgentLimits;
}
