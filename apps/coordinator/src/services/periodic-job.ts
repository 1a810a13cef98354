import type { Logger } from "pino";

/** Who may run leader-only jobs: with several coordinator replicas, only the one holding the leader lock. */
export interface Leadership {
  isLeader(): boolean;
}

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
    /** When given, the timer runs the job only while this process leads; `tick()` called directly always runs. */
    private readonly leadership?: Leadership,
  ) {}

  async start(): Promise<void> {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.scheduledTick(), this.intervalMs);
    if (this.runAtStart) await this.scheduledTick();
  }

  private scheduledTick(): Promise<void> {
    if (this.leadership !== undefined && !this.leadership.isLeader()) return Promise.resolve();
    return this.tick();
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

/**
 * A long-lived service whose work is one periodic job (the result sweeper, the worker purger, the cleanup job, the
 * control reconciler, the metrics history): its `start()` and `stop()` are the job's; a subclass says what one run
 * does.
 */
export abstract class PeriodicService {
  abstract readonly name: string;
  private readonly job: PeriodicJob;

  protected constructor(job: {
    /** The job's name in its log lines. */
    name: string;
    intervalMs: number;
    logger: Logger;
    /** Run once as part of `start()`. @default false */
    runAtStart?: boolean;
    /** When given, the timer runs the job only while this process leads. */
    leadership?: Leadership | undefined;
  }) {
    this.job = new PeriodicJob(
      job.name,
      job.intervalMs,
      () => this.runJob(),
      job.logger,
      job.runAtStart ?? false,
      job.leadership,
    );
  }

  /** One run of the job; a failure is logged and the next tick runs again. */
  protected abstract runJob(): Promise<void>;

  start(): Promise<void> {
    return this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One run now, whoever leads (or joins the run in progress). */
  protected runNow(): Promise<void> {
    return this.job.tick();
  }
}
