/**
 * Errors raised by the store. Each carries a closed `code` and a `retriable` verdict, so callers (the coordinator's
 * HTTP layer, the task-event consumer) route on data, never on message text.
 */
export const STORE_ERROR_CODES = [
  /** An option is missing or out of range; names the option in `field`. */
  "INVALID_CONFIG",
  /** A repository argument is invalid; names it in `field`. */
  "INVALID_INPUT",
  /** A repository or `ping()` was used before `start()` finished. */
  "NOT_STARTED",
  /** The store is stopping or stopped. */
  "STOPPED",
  /** Postgres does not answer: refused, unreachable, restarting, connection lost, or no answer within the bound. */
  "UNAVAILABLE",
  /** A statement ran past `statement_timeout` (or was cancelled). */
  "TIMEOUT",
  /** Serialization failure or deadlock: running the same call again is the fix. */
  "CONFLICT",
  /** Applying the migrations failed. */
  "MIGRATION_FAILED",
  /** Any other database error (constraint violation, bad SQL, permissions); `sqlState` says which. */
  "QUERY_FAILED",
] as const;

export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

const RETRIABLE: ReadonlySet<StoreErrorCode> = new Set<StoreErrorCode>([
  "UNAVAILABLE",
  "TIMEOUT",
  "CONFLICT",
]);

export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;
  readonly retriable: boolean;
  /** The option or argument the error is about, when there is one. */
  readonly field: string | undefined;
  /** Postgres SQLSTATE (e.g. `23505`), when the server reported one. */
  readonly sqlState: string | undefined;

  constructor(
    code: StoreErrorCode,
    message: string,
    options: { cause?: unknown; field?: string; sqlState?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    this.field = options.field;
    this.sqlState = options.sqlState;
  }
}
