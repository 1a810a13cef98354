/**
 * Errors raised by the bus. Each carries a closed `code` and a `retriable` verdict so callers route on data,
 * never on message text.
 */
export const BUS_ERROR_CODES = [
  "INVALID_CONFIG",
  "INVALID_NAME",
  "INVALID_ENVELOPE",
  "ENVELOPE_TOO_LARGE",
  "NOT_STARTED",
  "STOPPED",
  "PUBLISH_FAILED",
  "PUBLISH_REJECTED",
  "GROUP_NOT_EMPTY",
  "NOT_FOUND",
  "ADMIN_FAILED",
  "REPLAY_REFUSED",
  "CONNECT_FAILED",
] as const;

export type BusErrorCode = (typeof BUS_ERROR_CODES)[number];

const RETRIABLE: ReadonlySet<BusErrorCode> = new Set<BusErrorCode>(["PUBLISH_FAILED", "ADMIN_FAILED"]);

export class BusError extends Error {
  override readonly name = "BusError";
  readonly code: BusErrorCode;
  readonly retriable: boolean;
  /** The input field the error is about, when there is one (for "name the field" messages). */
  readonly field: string | undefined;

  constructor(code: BusErrorCode, message: string, options: { cause?: unknown; field?: string } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    this.field = options.field;
  }
}
