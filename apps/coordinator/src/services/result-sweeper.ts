import type { Logger } from "pino";
import { PeriodicService, type Leadership } from "./periodic-job";
import type { TasksRepository } from "@omnidaemon/store-pg";

/** Deletes task records past their TTL (`OMNIDAEMON_RESULT_TTL_MS`), every `intervalMs`. */
export class ResultSweeper extends PeriodicService {
  readonly name = "result-sweeper";

  constructor(
    private readonly tasks: Pick<TasksRepository, "deleteExpired">,
    private readonly logger: Logger,
    intervalMs = 60_000,
    leadership?: Leadership,
  ) {
    super({ name: "result-sweeper", intervalMs, logger, leadership });
  }

  protected async runJob(): Promise<void> {
    await this.sweep();
  }

  async sweep(): Promise<number> {
    const deleted = await this.tasks.deleteExpired(new Date());
    if (deleted > 0) this.logger.info({ deleted }, "expired task records deleted");
    return deleted;
  }
}
