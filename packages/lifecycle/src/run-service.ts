import { assertTimeoutMs, MAX_TIMER_MS } from "./deadline";
import { ExitCode } from "./exit-code";
import type { LifecycleLogger } from "./logger";
import { ServiceStack } from "./service-stack";

/** Where signals come from; `process` fits, and so does an `EventEmitter` in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface RunServiceOptions {
  /**
   * Receives the stack's lines and the shutdown's: why it began, what had not stopped, the exit code. Required
   * because a process entry point that fails without a word is worse than a little boilerplate.
   */
  logger: LifecycleLogger;
  /**
   * Overall deadline from the first signal (or from a failed build) to exit; when it expires the process exits
   * with {@link ExitCode.DeadlineExpired} and the log names what had not stopped.
   * @default 30_000
   */
  shutdownTimeoutMs?: number;
  /**
   * Deadline of each stop, unless its `enter()`/`defer()` sets its own.
   * @default 10_000
   */
  stopTimeoutMs?: number;
  /**
   * Signals that begin a graceful shutdown; a second one forces exit.
   * @default ["SIGTERM", "SIGINT"]
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * Ends the process. Tests pass a recorder instead.
   * @default process.exit
   */
  exit?: (code: ExitCode) => void;
  /**
   * Source of the signals. Tests pass an `EventEmitter` instead.
   * @default process
   */
  signalSource?: SignalSource;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

/**
 * Runs a service process: `build` enters the services into a fresh stack, then the process waits for a
 * signal, closes the stack within `shutdownTimeoutMs` and exits with an {@link ExitCode}.
 *
 * If `build` throws, the stack is closed (rolled back) and the process exits with {@link ExitCode.Failed}.
 * A second signal during shutdown exits at once with {@link ExitCode.SecondSignal}. The process stays up while
 * it waits for a signal even when no service holds it up, as a service is expected to.
 *
 * Resolves with the exit code after calling `exit`, which matters only when `exit` returns (in tests).
 */
export function runService(
  build: (stack: ServiceStack) => Promise<void>,
  options: RunServiceOptions,
): Promise<ExitCode> {
  const {
    logger,
    shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS,
    signals = DEFAULT_SIGNALS,
    exit = (code: ExitCode) => process.exit(code),
    signalSource = process,
  } = options;
  assertTimeoutMs("shutdownTimeoutMs", shutdownTimeoutMs);
  const stack = new ServiceStack({ logger, stopTimeoutMs: options.stopTimeoutMs });

  return new Promise<ExitCode>((resolve) => {
    let signalCount = 0;
    let shutdownBegun = false;
    let finished = false;
    let deadline: NodeJS.Timeout | undefined;
    // Without a handle of its own, a service whose services hold none would let Node exit with 0 right after
    // build, without ever running the stops.
    const keepAlive = setInterval(() => undefined, MAX_TIMER_MS);

    const unstopped = () => ({ stopping: stack.stopping, pending: stack.pending, starting: stack.starting });

    const finish = (code: ExitCode): void => {
      if (finished) return;
      finished = true;
      clearInterval(keepAlive);
      clearTimeout(deadline);
      for (const signal of signals) signalSource.off(signal, onSignal);
      logger.info({ exitCode: code }, "exiting");
      resolve(code);
      exit(code);
    };

    const built = Promise.resolve().then(() => build(stack));
    const buildSettled = built.then(
      () => undefined,
      () => undefined,
    );

    const beginShutdown = (buildFailed: boolean): void => {
      if (shutdownBegun) return;
      shutdownBegun = true;
      deadline = setTimeout(() => {
        logger.error({ shutdownTimeoutMs, ...unstopped() }, "shutdown deadline expired, forcing exit");
        finish(ExitCode.DeadlineExpired);
      }, shutdownTimeoutMs);
      void closeStack().then((clean) => finish(clean && !buildFailed ? ExitCode.Ok : ExitCode.Failed));
    };

    const closeStack = async (): Promise<boolean> => {
      let clean = true;
      try {
        await stack.close();
      } catch (error) {
        clean = false;
        logger.error({ err: error }, "shutdown finished with failed stops");
      }
      // A start still running when the stack began closing stops its own service once it finishes; the process
      // must not exit before that.
      await buildSettled;
      return clean;
    };

    function onSignal(signal: NodeJS.Signals): void {
      signalCount += 1;
      if (signalCount > 1) {
        logger.error({ signal, ...unstopped() }, "second signal during shutdown, forcing exit");
        finish(ExitCode.SecondSignal);
        return;
      }
      logger.info({ signal }, "signal received, shutting down");
      beginShutdown(false);
    }

    for (const signal of signals) signalSource.on(signal, onSignal);

    built.then(
      () => {
        if (!shutdownBegun) logger.info({ signals }, "service started, waiting for a shutdown signal");
      },
      (error: unknown) => {
        if (shutdownBegun) {
          // Expected when a signal closed the stack under a running build; the exit code follows the close.
          logger.warn({ err: error }, "build did not complete before shutdown");
          return;
        }
        logger.error({ err: error }, "build failed, rolling back");
        beginShutdown(true);
      },
    );
  });
}
