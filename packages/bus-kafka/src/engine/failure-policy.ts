import { MAX_TIMER_MS } from "@omnidaemon/lifecycle";
import { errorSummary, type ErrorSummary } from "@omnidaemon/protocol";
import { isNonRetriable, retryAfterMsOf } from "../handler-errors";
import type { AgentRuntimeConfig } from "./agent-config";
import { backoffMs } from "./backoff";
import type { DeadLetterReason } from "./types";

/** The part of an agent's configuration the failure policy reads. */
export type FailurePolicyConfig = Pick<
  AgentRuntimeConfig,
  "maxRetries" | "dlqEnabled" | "retryBackoffMs" | "maxRetryBackoffMs"
> & {
  /**
   * The agent has fleet-wide limits (a rate limit or `maxInFlight`; docs/rate-limits.md): a `RetryAfterError` is the
   * provider asking the fleet to slow down, and the event only has to wait — it is retried after the asked delay
   * without counting as an attempt, up to {@link MAX_RATE_WAITS} times. @default false
   */
  waitOnRetryAfter?: boolean;
};

/**
 * How many times one event may wait on a `RetryAfterError` without it counting as an attempt (agents with limits):
 * past that, a provider that keeps refusing is a failure like any other, and `maxRetries` applies.
 */
export const MAX_RATE_WAITS = 100;

/**
 * What happens to an event after a failure — the product's core rule (docs/delivery.md, "Failures, retries and the
 * dead-letter queue"). `outcome` is the protocol's `FailureOutcome`: the engine reports it to observers, and the
 * task event and webhook statuses follow from it (`failureStatusOf`). `summary` is the `{ class, message }` every
 * reader of the failure reports (task events, webhooks).
 */
export type FailureVerdict =
  /** `wait`: a push-back under limits — the next attempt has the same number, and the event's waits grow by one. */
  | { outcome: "retry"; delayMs: number; summary: ErrorSummary; wait?: boolean }
  | { outcome: "dead_letter" | "dropped"; reason: DeadLetterReason; summary: ErrorSummary };

/**
 * The verdict on attempt `attempt` (1 for the first delivery) that failed with `error`:
 *
 * - a `NonRetriableError` (its subclasses `ResultNotJsonError` and `ReplyRejectedError` included) is never retried;
 * - any other error is retried while `attempt <= maxRetries` (so `maxRetries: 3` allows 4 attempts and
 *   `maxRetries: 0` none), after the callback's `RetryAfterError` delay or else the backoff;
 * - an event that is not retried goes to the DLQ, or is dropped when the agent disabled its DLQ;
 * - but with `waitOnRetryAfter` (an agent with limits), a `RetryAfterError` with a usable delay is a wait: retried
 *   after that delay whatever the attempt, without counting, while the event has waited fewer than
 *   {@link MAX_RATE_WAITS} times (`waits`).
 *
 * Pure: the engine executes the verdict (a retry record, a dead letter, or nothing).
 */
export function failureVerdict(
  failure: { error: unknown; attempt: number; waits?: number },
  config: FailurePolicyConfig,
  random: () => number = Math.random,
): FailureVerdict {
  const summary = errorSummary(failure.error);
  const nonRetriable = isNonRetriable(failure.error);
  const asked = retryAfterMsOf(failure.error);
  if (
    config.waitOnRetryAfter === true &&
    !nonRetriable &&
    typeof asked === "number" &&
    asked >= 0 &&
    (failure.waits ?? 0) < MAX_RATE_WAITS
  ) {
    return { outcome: "retry", delayMs: Math.min(asked, MAX_TIMER_MS), summary, wait: true };
  }
  if (!nonRetriable && failure.attempt <= config.maxRetries) {
    return {
      outcome: "retry",
      delayMs: retryDelayMs(failure.error, failure.attempt, config, random),
      summary,
    };
  }
  const reason: DeadLetterReason = nonRetriable ? "non_retriable" : "retries_exhausted";
  return { outcome: config.dlqEnabled ? "dead_letter" : "dropped", reason, summary };
}

/**
 * A record that is not JSON or not an envelope never reaches a callback: it goes to the DLQ with its reason, whatever
 * `dlqEnabled` says, because no retry can change it and dropping it would lose the only copy of what was sent.
 */
export function invalidRecordVerdict(
  error: Error,
): FailureVerdict & { outcome: "dead_letter"; reason: "invalid_record" } {
  return { outcome: "dead_letter", reason: "invalid_record", summary: errorSummary(error) };
}

/**
 * How long to wait before the next attempt after `failedAttempt` failed with `error`: the callback's own
 * `RetryAfterError` delay if it threw one (a copy of the error from another SDK bundle whose delay is not a
 * number ≥ 0 gets the backoff), else the backoff. Capped at the longest delay a Node timer holds (~24.8 days), so a
 * rate limit of months waits that long rather than firing at once.
 */
export function retryDelayMs(
  error: unknown,
  failedAttempt: number,
  config: Pick<FailurePolicyConfig, "retryBackoffMs" | "maxRetryBackoffMs">,
  random: () => number = Math.random,
): number {
  const asked = retryAfterMsOf(error);
  const delay =
    typeof asked === "number" && asked >= 0
      ? asked
      : backoffMs(failedAttempt, config.retryBackoffMs, config.maxRetryBackoffMs, random);
  return Math.min(delay, MAX_TIMER_MS);
}
