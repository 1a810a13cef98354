import { retryAfterMsOf } from "../handler-errors";

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of many events that
 * failed together spread out instead of hitting a recovering dependency at once.
 *
 * attempt 1 failed → ~base, attempt 2 → ~2×base, … capped at `maxMs`.
 */
export function backoffMs(
  failedAttempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** The longest delay a Node timer holds (2^31 - 1 ms, ~24.8 days); a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How long to wait before the next attempt after `failedAttempt` failed with `error`: the callback's own
 * `RetryAfterError` delay if it threw one, else the backoff. Capped at {@link MAX_TIMER_MS}, so a rate limit of
 * months waits ~24.8 days rather than retrying at once.
 */
export function retryDelayMs(
  error: unknown,
  failedAttempt: number,
  config: { retryBackoffMs: number; maxRetryBackoffMs: number },
  random: () => number = Math.random,
): number {
  const delay =
    retryAfterMsOf(error) ??
    backoffMs(failedAttempt, config.retryBackoffMs, config.maxRetryBackoffMs, random);
  return Math.min(delay, MAX_TIMER_MS);
}
