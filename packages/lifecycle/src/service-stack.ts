import { assertTimeoutMs, raceDeadline, TIMED_OUT } from "./deadline";
import {
  StackCloseError,
  StackClosedError,
  StartRollbackError,
  StopTimeoutError,
  type StopFailure,
} from "./errors";
import { silentLogger, type LifecycleLogger } from "./logger";
import type { Service } from "./service";

export interface ServiceStackOptions {
  /**
   * Receives one line per start and per stop, with `service`, `durationMs` and `outcome` fields.
   * @default silentLogger
   */
  logger?: LifecycleLogger;
  /**
   * How long one stop may run before `close()` gives up on it and goes on to the next.
   * @default 10_000
   */
  stopTimeoutMs?: number;
}

export interface EntryOptions {
  /**
   * Overrides the stack's `stopTimeoutMs` for this entry.
   * @default the stack's stopTimeoutMs
   */
  stopTimeoutMs?: number;
}

interface StackEntry {
  readonly name: string;
  readonly stop: () => Promise<void> | void;
  readonly stopTimeoutMs: number;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * Services and cleanups entered in order and released in reverse, like Python's `AsyncExitStack`.
 *
 * A failed `enter()` rolls the whole stack back. `close()` stops everything, one at a time, each under its own
 * deadline, goes on past failures, and reports them all together.
 */
export class ServiceStack implements AsyncDisposable {
  readonly #logger: LifecycleLogger;
  readonly #stopTimeoutMs: number;
  #entries: StackEntry[] = [];
  // Tokens rather than names because two services may share a name.
  readonly #starting = new Set<{ readonly name: string }>();
  // More than one stop runs at a time only when a start finishes while close() is unwinding.
  readonly #stopping = new Set<StackEntry>();
  #closing: Promise<void> | undefined;

  constructor(options: ServiceStackOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    assertTimeoutMs("stopTimeoutMs", this.#stopTimeoutMs);
  }

  /** Names of the stops running now: during `close()`, the one it is waiting for. */
  get stopping(): string[] {
    return [...this.#stopping].map((entry) => entry.name);
  }

  /** Names still to be stopped, in the order `close()` will stop them; excludes {@link stopping}. */
  get pending(): string[] {
    return this.#entries.map((entry) => entry.name).reverse();
  }

  /** Names of services whose `start()` is running. */
  get starting(): string[] {
    return [...this.#starting].map((token) => token.name);
  }

  /**
   * Starts `service` and registers its `stop()` for `close()`.
   *
   * When `start()` throws, the service's own `stop()` runs (so it can release what it acquired), then every
   * entry before it in reverse, and the stack is closed. The start error is rethrown, or a
   * {@link StartRollbackError} carrying it when a rollback stop failed too.
   *
   * Rejects with {@link StackClosedError} once `close()` has been called. A service whose start finishes after
   * `close()` began is stopped at once, and the call rejects with the same error.
   */
  async enter<S extends Service>(service: S, options: EntryOptions = {}): Promise<S> {
    const entry = this.#entry(service.name, () => service.stop(), options);
    this.#assertOpen(`enter "${entry.name}"`);
    const token = { name: entry.name };
    this.#starting.add(token);
    const startedAt = performance.now();
    try {
      await service.start();
    } catch (startError) {
      this.#starting.delete(token);
      this.#logger.error(
        { service: entry.name, durationMs: elapsedMs(startedAt), outcome: "failed", err: startError },
        "service failed to start",
      );
      await this.#rollBack(entry, startError);
      throw startError;
    }
    this.#starting.delete(token);
    this.#logger.info(
      { service: entry.name, durationMs: elapsedMs(startedAt), outcome: "started" },
      "service started",
    );
    if (this.#closing !== undefined) {
      await this.#stopOne(entry);
      throw new StackClosedError(
        `"${entry.name}" finished starting after the stack began closing; it was stopped`,
      );
    }
    this.#entries.push(entry);
    return service;
  }

  /** Registers `cleanup` to run in `close()`, in reverse order with the services entered. */
  defer(name: string, cleanup: () => Promise<void> | void, options: EntryOptions = {}): void {
    const entry = this.#entry(name, cleanup, options);
    this.#assertOpen(`defer "${name}"`);
    this.#entries.push(entry);
  }

  /**
   * Hands every registered cleanup to a new stack and leaves this one empty, so that closing this one (for
   * example by `await using` at the end of a constructor-like function) releases nothing once setup succeeded.
   */
  move(): ServiceStack {
    this.#assertOpen("move");
    if (this.#starting.size > 0) {
      // The service would land on whichever stack its start finished on; refuse rather than guess.
      throw new Error(`cannot move a stack while ${this.starting.join(", ")} is starting`);
    }
    const next = new ServiceStack({ logger: this.#logger, stopTimeoutMs: this.#stopTimeoutMs });
    next.#entries = this.#entries;
    this.#entries = [];
    return next;
  }

  /**
   * Runs every cleanup in reverse order, one at a time, each bounded by its `stopTimeoutMs`, going on past
   * failures and timeouts. Rejects with {@link StackCloseError} naming every failed or timed-out entry.
   *
   * Idempotent: every call returns the same promise, and each cleanup runs at most once.
   */
  close(): Promise<void> {
    // Deferred by a microtask so that the stack counts as closing before the first cleanup runs, even if that
    // cleanup calls back into the stack.
    this.#closing ??= Promise.resolve().then(() => this.#unwind());
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #unwind(): Promise<void> {
    const failures: StopFailure[] = [];
    for (let entry = this.#entries.pop(); entry !== undefined; entry = this.#entries.pop()) {
      const failure = await this.#stopOne(entry);
      if (failure !== undefined) failures.push(failure);
    }
    if (failures.length > 0) throw new StackCloseError(failures);
  }

  async #rollBack(failed: StackEntry, startError: unknown): Promise<void> {
    if (this.#closing !== undefined) {
      // close() already owns the entries before this one; only this service is left to clean up.
      await this.#stopOne(failed);
      return;
    }
    this.#entries.push(failed);
    try {
      await this.close();
    } catch (error) {
      throw error instanceof StackCloseError ? new StartRollbackError(failed.name, startError, error) : error;
    }
  }

  async #stopOne(entry: StackEntry): Promise<StopFailure | undefined> {
    const { name, stopTimeoutMs } = entry;
    this.#stopping.add(entry);
    const startedAt = performance.now();
    // Through then() so that a cleanup which throws synchronously is caught like one that rejects.
    const work = Promise.resolve().then(entry.stop);
    try {
      if ((await raceDeadline(work, stopTimeoutMs)) === TIMED_OUT) {
        this.#logger.error(
          { service: name, durationMs: elapsedMs(startedAt), outcome: "timed_out", stopTimeoutMs },
          "service stop timed out",
        );
        work.catch((error: unknown) => {
          this.#logger.warn({ service: name, err: error }, "service stop failed after its deadline");
        });
        return { name, error: new StopTimeoutError(name, stopTimeoutMs) };
      }
      this.#logger.info(
        { service: name, durationMs: elapsedMs(startedAt), outcome: "stopped" },
        "service stopped",
      );
      return undefined;
    } catch (error) {
      this.#logger.error(
        { service: name, durationMs: elapsedMs(startedAt), outcome: "failed", err: error },
        "service stop failed",
      );
      return { name, error };
    } finally {
      this.#stopping.delete(entry);
    }
  }

  #entry(name: string, stop: StackEntry["stop"], options: EntryOptions): StackEntry {
    const stopTimeoutMs = options.stopTimeoutMs ?? this.#stopTimeoutMs;
    assertTimeoutMs(`stopTimeoutMs of "${name}"`, stopTimeoutMs);
    return { name, stop, stopTimeoutMs };
  }

  #assertOpen(action: string): void {
    if (this.#closing !== undefined) throw new StackClosedError(`cannot ${action}: the stack is closed`);
  }
}

function elapsedMs(since: number): number {
  return Math.round(performance.now() - since);
}
