/** A request to the coordinator failed: it answered with an error, or nothing (or not the coordinator) answered. */
export class CoordinatorRequestError extends Error {
  override readonly name: string = "CoordinatorRequestError";

  constructor(
    message: string,
    /** The coordinator's base URL. */
    readonly url: string,
    readonly method: string,
    /** The request's path, without the query string. */
    readonly path: string,
    /** The HTTP status; undefined when nothing answered. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The coordinator answered with an error status. `message` is the API's own sentence (`error.message`, which names
 * the field for bad input), else `HTTP <status>`; `details` holds the rest of its error body.
 */
export class CoordinatorApiError extends CoordinatorRequestError {
  override readonly name: string = "CoordinatorApiError";
  declare readonly status: number;

  constructor(
    message: string,
    url: string,
    method: string,
    path: string,
    status: number,
    /** From the API's error body, when it has one. */
    readonly details: { code?: string; field?: string; known?: string[] } = {},
    /** The whole body as parsed (JSON), for callers that need more than the details. */
    readonly body: unknown = undefined,
  ) {
    super(message, url, method, path, status);
  }
}

/** Nothing answered at the URL (refused, DNS, TLS, timeout), or what answered is not the coordinator. */
export class CoordinatorUnreachableError extends CoordinatorRequestError {
  override readonly name: string = "CoordinatorUnreachableError";

  constructor(
    url: string,
    method: string,
    path: string,
    /** Why, in words: `connection refused (nothing listens there)`, `no answer within 30 s`. */
    readonly reason: string,
    message = `cannot reach the coordinator at ${url}: ${reason}`,
    options?: { cause?: unknown },
  ) {
    super(message, url, method, path, undefined, options);
  }
}

/** Why fetch failed, in words: `connection refused`, `no answer within 30 s`, `host not found`. */
export function networkReason(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") {
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  }
  const code = err?.cause?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens there)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ECONNRESET":
      return "connection reset";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    default:
      return err?.cause?.message ?? err?.message ?? String(error);
  }
}
