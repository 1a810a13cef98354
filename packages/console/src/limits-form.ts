import type { AgentLimits, LimitsOverride, RateLimitScope } from "@omnidaemon/protocol";

/** The limits form of an agent's page, as typed: strings, an empty one meaning "no limit". */
export interface LimitsForm {
  perSecond: string;
  burst: string;
  scope: RateLimitScope;
  maxInFlight: string;
}

/** The form filled with the limits in force (a per-minute rate shown per second). */
export function formOfLimits(limits: AgentLimits): LimitsForm {
  const rate = limits.rateLimit;
  const perSecond = rate === undefined ? undefined : (rate.perSecond ?? (rate.perMinute ?? 0) / 60);
  return {
    perSecond: perSecond === undefined ? "" : String(perSecond),
    burst: rate?.burst === undefined ? "" : String(rate.burst),
    scope: rate?.scope ?? "agent",
    maxInFlight: limits.maxInFlight === undefined ? "" : String(limits.maxInFlight),
  };
}

/** A bad field of the form, named as the form labels it. */
export class LimitsFormError extends Error {
  constructor(
    readonly field: keyof LimitsForm,
    message: string,
  ) {
    super(message);
  }
}

function number(text: string, field: keyof LimitsForm, label: string, integer: boolean): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new LimitsFormError(field, `${label} must be ${integer ? "a whole number" : "a number"} above 0`);
  }
  return value;
}

/**
 * The override the form asks for (`PUT …/limits` replaces the previous one): the rate and the in-flight cap as typed
 * (an empty field is no limit: `null`, whatever the config says), the tenant weights of the current override kept
 * (the form does not edit them). Throws {@link LimitsFormError} naming a field that is not a positive number. The
 * API checks the bounds again and names the key.
 */
export function overrideOfForm(form: LimitsForm, current: LimitsOverride | null): LimitsOverride {
  const perSecond = number(form.perSecond, "perSecond", "Events per second", false);
  const burst = number(form.burst, "burst", "Burst", true);
  const maxInFlight = number(form.maxInFlight, "maxInFlight", "Max in flight", true);
  if (perSecond === undefined && burst !== undefined) {
    throw new LimitsFormError("burst", "Burst needs a rate: set events per second too");
  }
  const override: LimitsOverride = {
    rateLimit:
      perSecond === undefined
        ? null
        : { perSecond, ...(burst === undefined ? {} : { burst }), scope: form.scope },
    maxInFlight: maxInFlight ?? null,
  };
  if (current?.tenantWeights !== undefined) override.tenantWeights = current.tenantWeights;
  return override;
}
