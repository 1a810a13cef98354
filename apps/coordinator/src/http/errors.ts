import type { ErrorBody, HttpErrorCode } from "@omnidaemon/protocol";
import { CoordinatorError, type CoordinatorErrorCode } from "../services/types";

/** An error the HTTP layer answers itself (bad input, auth, unknown route), with its status. */
export class HttpError extends Error {
  override readonly name = "HttpError";

  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly details: { field?: string; known?: string[] } = {},
  ) {
    super(message);
  }
}

/** 400 invalid_input naming the field; the message starts with it. */
export function invalidInput(field: string, problem: string, status = 400): HttpError {
  return new HttpError(status, "invalid_input", `${field}: ${problem}`, { field });
}

const STATUS_OF: Record<CoordinatorErrorCode, number> = {
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** True when the error is ours (a bug or an unexpected failure): log it with its stack. */
  unexpected: boolean;
}

/** What fastify throws for bodies it cannot read; all are the client's fault. */
interface FastifyClientError {
  code: string;
  statusCode: number;
  message: string;
}

function isFastifyClientError(error: unknown): error is FastifyClientError {
  if (typeof error !== "object" || error === null) return false;
  const { code, statusCode } = error as Partial<FastifyClientError>;
  return (
    typeof code === "string" &&
    code.startsWith("FST_") &&
    typeof statusCode === "number" &&
    statusCode >= 400 &&
    statusCode < 500
  );
}

const OUTAGE_CODES = new Set([
  "UNAVAILABLE",
  "TIMEOUT",
  "NOT_STARTED",
  "STOPPED",
  "ADMIN_FAILED",
  "PUBLISH_FAILED",
]);

/**
 * Postgres (StoreError) or Kafka (BusError) not answering: a 503 the client may retry, not a 500. Matched by name
 * and code so the HTTP layer needs neither package's classes.
 */
function isDependencyOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { name, code } = error as Error & { code?: unknown };
  return (name === "StoreError" || name === "BusError") && typeof code === "string" && OUTAGE_CODES.has(code);
}

/**
 * Maps anything a route can throw to a status and an {@link ErrorBody}. Never 500 for the client's mistakes;
 * 500 only for the unexpected, with a generic message (the detail goes to the log, not to the client).
 */
export function toErrorResponse(error: unknown, limits: { bodyLimitBytes: number }): ErrorResponse {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      body: errorBody(error.code, error.message, error.details),
      unexpected: false,
    };
  }
  if (error instanceof CoordinatorError) {
    const { field, known } = error.details;
    const message =
      field !== undefined && !error.message.startsWith(field) ? `${field}: ${error.message}` : error.message;
    return {
      status: STATUS_OF[error.code],
      body: errorBody(error.code, message, { field, known }),
      unexpected: false,
    };
  }
  if (isFastifyClientError(error)) {
    return { ...fromFastify(error, limits), unexpected: false };
  }
  if (isDependencyOutage(error)) {
    return {
      status: 503,
      body: errorBody("unavailable", `a dependency is unavailable: ${(error as Error).message}`),
      unexpected: false,
    };
  }
  return {
    status: 500,
    body: errorBody("internal", "internal error: the coordinator's log has the details"),
    unexpected: true,
  };
}

function fromFastify(
  error: FastifyClientError,
  limits: { bodyLimitBytes: number },
): Omit<ErrorResponse, "unexpected"> {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: errorBody("invalid_input", `body: larger than the limit of ${limits.bodyLimitBytes} bytes`, {
          field: "body",
        }),
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: errorBody("invalid_input", "content-type: expected application/json", {
          field: "content-type",
        }),
      };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return {
        status: 400,
        body: errorBody("invalid_input", "body: not valid JSON", { field: "body" }),
      };
    default:
      return {
        status: error.statusCode,
        body: errorBody("invalid_input", `request: ${error.message}`),
      };
  }
}

export function errorBody(
  code: HttpErrorCode,
  message: string,
  details: { field?: string | undefined; known?: string[] | undefined } = {},
): ErrorBody {
  return {
    error: {
      code,
      message,
      ...(details.field !== undefined && { field: details.field }),
      ...(details.known !== undefined && { known: details.known }),
    },
  };
}
