import { raceDeadline } from "./deadline";

/** What a service does to start and to stop; {@link StartStop} decides when each runs. */
export interface StartStopSteps {
  start(): Promise<void>;
  /**
   * Releases whatever start acquired. Runs exactly once, on the first `stop()`, after a start in progress has
   * settled (or `startWaitMs` has passed); `started` says whether `start()` was ever called, so a service stopped
   * before it started can skip its goodbye (and its log line).
   */
  stop(started: boolean): Promise<void>;
}

export interface StartStopOptions {
  /** What `start()` rejects with once `stop()` was called. @default an Error "<name> was stopped; build a new one" */
  stoppedError?: () => Error;
  /**
   * How long `stop()` waits for a start in progress before it stops anyway (the start then finds `stopped` set and
   * cleans up after itself). @default as long as the start takes
   */
  startWaitMs?: number;
}

/**
 * The memoized start and stop every long-lived service needs (style habit 2): `start()` is idempotent while it runs
 * or once it succeeded, and a failed start may be tried again; `stop()` is idempotent, safe before `start()`, waits
 * for a start in progress, and after it `start()` refuses. The service keeps its own state; this keeps the order.
 */
export class StartStop {
  readonly #name: string;
  readonly #steps: StartStopSteps;
  readonly #options: StartStopOptions;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #started = false;

  constructor(name: string, steps: StartStopSteps, options: StartStopOptions = {}) {
    this.#name = name;
    this.#steps = steps;
    this.#options = options;
  }

  /** `start()` was called (it may still be running, or have failed). */
  get started(): boolean {
    return this.#started;
  }

  /** `stop()` was called: a start still running checks this to give up and release what it took. */
  get stopped(): boolean {
    return this.#stopping !== undefined;
  }

  start(): Promise<void> {
    if (this.#stopping !== undefined) {
      return Promise.reject(
        this.#options.stoppedError?.() ?? new Error(`${this.#name} was stopped; build a new one`),
      );
    }
    this.#started = true;
    this.#starting ??= this.#steps.start().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const starting = this.#starting?.catch(() => undefined);
    if (starting !== undefined) {
      if (this.#options.startWaitMs === undefined) await starting;
      else await raceDeadline(starting, this.#options.startWaitMs);
    }
    await this.#steps.stop(this.#started);
  }
}
