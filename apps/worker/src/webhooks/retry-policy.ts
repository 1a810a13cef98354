/**
 * Whether a response status is worth another attempt. Only 2xx is success; 408, 429 and 5xx are the receiver
 * saying "not now"; every other status (3xx, which is never followed, and the remaining 4xx) will not change by
 * asking again.
 */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status <= 299;
}

/**
 * The delay a `Retry-After` header asks for, in ms, honoured on 429 and 503 only (the statuses that define it):
 * delta-seconds or an HTTP date. Undefined when absent or unparseable.
 */
export function retryAfterMs(
  status: number,
  header: string | undefined,
  now = Date.now(),
): number | undefined {
  if ((status !== 429 && status !== 503) || header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP dates end in GMT; without that check Date.parse would read "-1" as a year.
  if (!/ GMT$/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Delay before attempt `attempt + 1`: `baseMs × 2^(attempt-1)`, capped at `maxMs`, then "equal jitter" (a random
 * point in the upper half) so a fleet of workers retrying one receiver does not arrive in lockstep.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
