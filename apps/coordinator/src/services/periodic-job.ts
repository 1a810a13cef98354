import type { Logger } from "pino";

/**
 * Runs `run` every `intervalMs`, never overlapping itself. A failing run is logged and retried at the next tick.
 * `stop()` clears the timer and waits for a run in progress, so nothing touches a closed pool afterwards.
 */
export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly run: () => Promise<void>,
    private readonly logger: Logger,
    private readonly runAtStart = false,
  ) {}

  async start(): Promise<void> {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    if (this.runAtStart) await this.tick();
  }

  /** Runs once now (or joins the run in progress). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.run()
      .catch((error: unknown) => this.logger.warn({ err: error, job: this.name }, "periodic job failed"))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
