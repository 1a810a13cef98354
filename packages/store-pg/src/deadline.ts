/** The value {@link raceDeadline} resolves with when the deadline passes first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Settles like `work`, or resolves with {@link TIMED_OUT} after `ms`. The timer is cleared either way, so nothing
 * is left keeping the event loop alive; `work` itself keeps running, so callers attach a catch to it.
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
