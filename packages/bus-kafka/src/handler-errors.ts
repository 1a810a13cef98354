/**
 * Errors an agent callback throws to steer delivery. Recognised by a brand symbol rather than `instanceof`, so a
 * callback bundled with its own copy of the SDK is still understood.
 */
const KIND = Symbol.for("omnidaemon.handler-error");

type HandlerErrorKind = "non-retriable" | "retry-after";

interface Branded {
  [KIND]?: HandlerErrorKind;
}

/** The event goes straight to the agent's dead-letter queue: retrying cannot help. */
export class NonRetriableError extends Error {
  override readonly name: string = "NonRetriableError";
  readonly [KIND]: HandlerErrorKind = "non-retriable";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Retry this event after `retryAfterMs` instead of the computed backoff (e.g. an upstream rate limit). */
export class RetryAfterError extends Error {
  override readonly name: string = "RetryAfterError";
  readonly [KIND]: HandlerErrorKind = "retry-after";
  readonly retryAfterMs: number;

  constructor(
    retryAfterMs: number,
    message = `retry after ${retryAfterMs} ms`,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    if (!Number.isFinite(retryAfterMs) || retryAfterMs < 0) {
      throw new RangeError(`retryAfterMs must be a finite number >= 0, got ${String(retryAfterMs)}`);
    }
    this.retryAfterMs = retryAfterMs;
  }
}

/** Raised into the delivery when it ran past `reclaimIdleMs`; counts as a failed attempt. */
export class DeadlineExceededError extends Error {
  override readonly name = "DeadlineExceededError";
  constructor(readonly deadlineMs: number) {
    super(`delivery exceeded its deadline of ${deadlineMs} ms (reclaimIdleMs)`);
  }
}

/** The callback's result cannot be stored or forwarded as JSON. Not retried: the same code returns the same. */
export class ResultNotJsonError extends NonRetriableError {
  override readonly name = "ResultNotJsonError";
}

/**
 * The callback succeeded but its `reply_to` event can never be published (the topic does not exist, the reply is
 * larger than the topic accepts, the worker may not write there). Not retried: the same reply fails the same way.
 */
export class ReplyRejectedError extends NonRetriableError {
  override readonly name = "ReplyRejectedError";
}

export function isNonRetriable(error: unknown): boolean {
  return (error as Branded | null)?.[KIND] === "non-retriable";
}

export function retryAfterMsOf(error: unknown): number | undefined {
  if ((error as Branded | null)?.[KIND] !== "retry-after") return undefined;
  return (error as RetryAfterError).retryAfterMs;
}
