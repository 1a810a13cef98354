import type { ControlRecord, RateHint } from "@omnidaemon/protocol";
import type { RateHold } from "./adaptive-rate";
import type { Throttle } from "./throttle";

/** What applying a control record did to a throttle. */
export type ControlApplied = "limits" | "rate_hint" | "unchanged";

/** The hold a rate hint carries, as the throttle takes it. */
export function holdOfHint(hint: RateHint): RateHold {
  return { factor: hint.factor, holdUntil: hint.hold_until, retryAfterMs: hint.retry_after_ms };
}

/**
 * Applies one control record of an agent to that agent's throttle (the caller routes by topic and agent):
 * - a desired state that carries `limits`: they replace the throttle's (the registry's limits, the operator's
 *   override on top, win over the worker's own config). One without `limits` (a coordinator that predates them)
 *   changes nothing: the worker keeps the limits of its config.
 * - a rate hint: merged into the throttle's adaptive rate (idempotent; a worker reading its own hint back changes
 *   nothing).
 * The follower's own rule that an older revision of a desired state is dropped still applies before this.
 */
export function applyControlRecord(throttle: Throttle, record: ControlRecord, now: number): ControlApplied {
  if (record.kind === "rate_hint") {
    throttle.onRateHint(holdOfHint(record.hint), now);
    return "rate_hint";
  }
  if (record.state.limits === undefined) return "unchanged";
  throttle.setLimits(record.state.limits, now);
  return "limits";
}
