/*
 * The one deadline and abort helper of the project: every bounded wait (a stop, a ping, a drain) and every wait a
 * signal may cut short goes through these, so no timer is ever left armed after the race it bounded.
 */

/** The value {@link raceDeadline} resolves with when the deadline passes first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

// setTimeout fires after 1 ms, with only a warning, when given more than a signed 32-bit count of milliseconds
// (or Infinity, or NaN), which would turn a generous deadline into an immediate one.
/** The longest delay a Node timer holds. */
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
 * step leaves nothing behind that keeps the event loop alive; `work` itself keeps running (attach a catch to it
 * when its later failure does not matter).
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

/**
 * Settles like `work`, or rejects with `onTimeout()` after `ms` (the error names what did not answer). As with
 * {@link raceDeadline}, the timer is always cleared and `work` keeps running.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  const outcome = await raceDeadline(work, ms);
  if (outcome === TIMED_OUT) {
    work.catch(() => undefined);
    throw onTimeout();
  }
  return outcome;
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as `signal` aborts (at once when it already
 * has). The listener is removed when `work` settles; `work` itself keeps running.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Resolves after `ms`, or as soon as `signal` aborts (never rejects: a sleep cut short is simply over). With
 * `unref`, the pending timer does not keep the process alive on its own.
 */
export function sleep(ms: number, options: { signal?: AbortSignal; unref?: boolean } = {}): Promise<void> {
  const { signal } = options;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (options.unref === true) timer.unref();
    signal?.addEventListener("abort", done, { once: true });
  });
}
