/** One cleanup of a stack that failed or passed its deadline. */
export interface StopFailure {
  readonly name: string;
  readonly error: unknown;
}

/** A stop that did not settle within its `stopTimeoutMs`; it was left running and the stack went on. */
export class StopTimeoutError extends Error {
  override readonly name = "StopTimeoutError";

  constructor(
    readonly serviceName: string,
    readonly stopTimeoutMs: number,
  ) {
    super(`stop of "${serviceName}" did not finish within ${stopTimeoutMs} ms`);
  }
}

/** `close()` ran every cleanup, and these failed or timed out, in the order they were stopped. */
export class StackCloseError extends AggregateError {
  override readonly name = "StackCloseError";

  constructor(readonly failures: readonly StopFailure[]) {
    super(
      failures.map((failure) => failure.error),
      `stack closed with ${failures.length} failed stop(s): ${failures.map(describe).join(", ")}`,
    );
  }

  /** Names of the stops that were cut at their deadline. */
  get timedOut(): string[] {
    return this.failures.filter((failure) => failure.error instanceof StopTimeoutError).map((f) => f.name);
  }
}

/**
 * A service failed to start and the rollback that followed failed too. `cause` is the start error; when the
 * rollback is clean, `enter()` rethrows the start error itself instead. Like `SuppressedError` of `await using`,
 * this keeps both errors rather than dropping one.
 */
export class StartRollbackError extends Error {
  override readonly name = "StartRollbackError";

  constructor(
    readonly serviceName: string,
    cause: unknown,
    readonly rollback: StackCloseError,
  ) {
    const failed = rollback.failures.map(describe).join(", ");
    super(`"${serviceName}" failed to start, and the rollback failed: ${failed}`, { cause });
  }
}

/** The stack is closing or closed, so it takes no more services or cleanups. */
export class StackClosedError extends Error {
  override readonly name = "StackClosedError";
}

function describe(failure: StopFailure): string {
  return failure.error instanceof StopTimeoutError ? `${failure.name} (timed out)` : failure.name;
}
