import type { Logger } from "pino";
import { PeriodicJob, type Leadership } from "./periodic-job";
import type { TasksRepository } from "@omnidaemon/store-pg";

/** Deletes task records past their TTL (`OMNIDAEMON_RESULT_TTL_MS`), every `intervalMs`. */
export class ResultSweeper {
  readonly name = "result-sweeper";
  private readonly job: PeriodicJob;

  constructor(
    private readonly tasks: Pick<TasksRepository, "deleteExpired">,
    private readonly logger: Logger,
    intervalMs = 60_000,
    leadership?: Leadership,
  ) {
    this.job = new PeriodicJob(
      "result-sweeper",
      intervalMs,
      async () => void (await this.sweep()),
      logger,
      false,
      leadership,
    );
  }

  start(): Promise<void> {
    return this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  async sweep(): Promise<number> {
    const deleted = await this.tasks.deleteExpired(new Date());
    if (deleted > 0) this.logger.info({ deleted }, "expired task records deleted");
    return deleted;
  }
}
