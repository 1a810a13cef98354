/** The value {@link raceDeadline} resolves with when the deadline passes first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

// setTimeout fires after 1 ms, with only a warning, when given more than a signed 32-bit count of milliseconds
// (or Infinity, or NaN), which would turn a generous deadline into an immediate one.
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Throws a RangeError unless `ms` is a timer delay that Node honours. */
export function assertTimeoutMs(option: string, ms: number): void {
  if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
    throw new RangeError(
      `${option} must be an integer number of milliseconds in 1..${MAX_TIMER_MS}, got ${ms}`,
    );
  }
}

/**
 * Settles like `work`, or resolves with {@link TIMED_OUT} after `ms`. The timer is cleared either way, so a cut
 * step leaves nothing behind that keeps the event loop alive; `work` itself keeps running.
 */
export async function raceDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
