/*
 * Limits in words and with their defaults resolved, for every reader (the CLI, the console, the engine). No zod in
 * this module: the console imports it without pulling the schemas into its bundle.
 */

/** Whether a rate limit is one budget for the agent, or one budget per `tenant_id` (each tenant gets the rate). */
export const RATE_LIMIT_SCOPES = ["agent", "tenant"] as const;
export type RateLimitScope = (typeof RATE_LIMIT_SCOPES)[number];

/** What these functions read of a rate limit (`RateLimit` of ./limits, stated here so this module imports nothing). */
export interface RateLimitFields {
  perSecond?: number | undefined;
  perMinute?: number | undefined;
  burst?: number | undefined;
  scope?: RateLimitScope | undefined;
}

type TenantWeights = Readonly<Record<string, number>>;

/** A rate limit with its defaults resolved: the rate per second, the burst and the scope. */
export interface ResolvedRateLimit {
  perSecond: number;
  burst: number;
  scope: RateLimitScope;
}

/** The one place the defaults of a rate limit are decided: burst = one second of the rate (at least 1), scope agent. */
export function resolveRateLimit(rateLimit: RateLimitFields): ResolvedRateLimit {
  const perSecond = rateLimit.perSecond ?? (rateLimit.perMinute ?? 0) / 60;
  return {
    perSecond,
    burst: rateLimit.burst ?? Math.max(1, Math.ceil(perSecond)),
    scope: rateLimit.scope ?? "agent",
  };
}

/** `50/s, burst 50`, `600/min, burst 10, per tenant`: a rate limit with its defaults resolved; `none` without one. */
export function formatRateLimit(rate: RateLimitFields | null | undefined, none = "-"): string {
  if (rate === undefined || rate === null) return none;
  const resolved = resolveRateLimit(rate);
  const speed = rate.perSecond !== undefined ? `${rate.perSecond}/s` : `${rate.perMinute ?? 0}/min`;
  return `${speed}, burst ${resolved.burst}${resolved.scope === "tenant" ? ", per tenant" : ""}`;
}

/** `acme=3, free=0.5`; `none` without weights. */
export function formatTenantWeights(weights: TenantWeights | null | undefined, none = "-"): string {
  const entries = Object.entries(weights ?? {});
  return entries.length === 0 ? none : entries.map(([tenant, weight]) => `${tenant}=${weight}`).join(", ");
}

/** One line of what an agent's limits are: `50/s, burst 50; max in flight 20`; `none` without any. */
export function summarizeLimits(limits: {
  rateLimit?: RateLimitFields | undefined;
  maxInFlight?: number | undefined;
  tenantWeights?: TenantWeights | undefined;
}): string {
  const parts = [
    limits.rateLimit !== undefined && formatRateLimit(limits.rateLimit),
    limits.maxInFlight !== undefined && `max in flight ${limits.maxInFlight}`,
    limits.tenantWeights !== undefined && `tenant weights ${formatTenantWeights(limits.tenantWeights)}`,
  ].filter((part): part is string => typeof part === "string");
  return parts.length > 0 ? parts.join("; ") : "none";
}
