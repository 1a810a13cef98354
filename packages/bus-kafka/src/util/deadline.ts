/*
 * A shim, not a helper: the project's deadline and sleep helpers are @omnidaemon/lifecycle's (`raceDeadline`,
 * `withDeadline`, `sleep`). These two keep the old call shapes only for the files still being rewritten elsewhere
 * (now only driver/platformatic/**); each is a line over lifecycle's, and this file goes once
 * the last of those imports lifecycle directly. Do not import it from new code.
 */
import { raceDeadline, sleep as sleepFor, TIMED_OUT } from "@omnidaemon/lifecycle";

/** lifecycle's `withDeadline`, except that an `onTimeout` returning undefined resolves undefined instead. */
export async function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error | undefined,
): Promise<T> {
  const outcome = await raceDeadline(promise, timeoutMs);
  if (outcome !== TIMED_OUT) return outcome;
  const error = onTimeout();
  if (error === undefined) return undefined as T;
  promise.catch(() => undefined);
  throw error;
}

/** lifecycle's `sleep` with the signal as a positional argument. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepFor(ms, signal === undefined ? {} : { signal });
}
