/** Exit codes of every `omnidaemon` command. */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The operation failed: the coordinator answered an error, could not be reached, or the user declined. */
  failed: 1,
  /** The command line is wrong: unknown command or flag, missing or invalid value, confirmation impossible. */
  usage: 2,
} as const;

/**
 * A mistake in the command line (exit 2). `command` names the command whose `--help` explains it, so the message
 * can end with a pointer to it.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** An operation that failed for a reason already phrased for a person (exit 1). */
export class OperationError extends Error {
  override readonly name = "OperationError";
}
