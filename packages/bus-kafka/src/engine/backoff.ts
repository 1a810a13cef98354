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
