import type { Logger } from "pino";
import { PeriodicService, type Leadership } from "./periodic-job";
import type { WorkersRepository } from "@omnidaemon/store-pg";

/** Longest pause between purges: a short retention is honoured within a minute, a long one checked every minute. */
const MAX_INTERVAL_MS = 60_000;

/**
 * Deletes worker rows gone for longer than `OMNIDAEMON_WORKER_RETENTION_MS`: deregistered that long ago, or silent
 * that long (killed without deregistering). Without it every pod that ever ran stays in `GET /v1/workers` forever.
 * A purged worker that turns out to be alive is told `known: false` at its next heartbeat and registers again.
 */
export class WorkerPurger extends PeriodicService {
  readonly name = "worker-purger";

  constructor(
    private readonly workers: Pick<WorkersRepository, "purgeStopped">,
    private readonly retentionMs: number,
    private readonly logger: Logger,
    intervalMs = Math.min(retentionMs, MAX_INTERVAL_MS),
    leadership?: Leadership,
  ) {
    super({ name: "worker-purger", intervalMs, logger, leadership });
  }

  protected async runJob(): Promise<void> {
    await this.purge();
  }

  /** One purge now (also used by tests to avoid waiting for the timer); how many workers were deleted. */
  async purge(): Promise<number> {
    const purged = await this.workers.purgeStopped(this.retentionMs);
    if (purged > 0) this.logger.info({ purged, retentionMs: this.retentionMs }, "stopped workers purged");
    return purged;
  }
}
