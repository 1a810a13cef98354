import { desiredStateRecord, type Publisher } from "@omnidaemon/bus-kafka";
import type { Logger } from "pino";
import { PeriodicJob } from "./periodic-job";
import type { AgentRow, ControlPlaneStore } from "./store-port";

/**
 * Puts desired state on the control topic. Postgres is the source of truth: every change is written there first,
 * then published. A publish that fails (Kafka down) is not lost: the reconciler republishes every agent whose
 * revision it has not seen acknowledged, at start and every `reconcileIntervalMs`.
 */
export class ControlPublisher {
  readonly name = "control-publisher";
  private readonly published = new Map<string, number>();
  private readonly job: PeriodicJob;

  constructor(
    private readonly store: ControlPlaneStore,
    private readonly publisher: Publisher,
    private readonly logger: Logger,
    reconcileIntervalMs = 10_000,
  ) {
    this.job = new PeriodicJob(
      "control-reconcile",
      reconcileIntervalMs,
      () => this.reconcile(),
      logger,
      true,
    );
  }

  start(): Promise<void> {
    return this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Publishes one agent's desired state; rejects if Kafka did not acknowledge (the reconciler retries later). */
  async publish(row: AgentRow, actor?: string): Promise<void> {
    await this.publisher.send(
      desiredStateRecord({
        topic: row.topic,
        agent: row.name,
        state: row.state,
        revision: row.revision,
        updated_at: row.updatedAt.toISOString(),
        updated_by: actor ?? null,
      }),
    );
    const key = `${row.topic}/${row.name}`;
    this.published.set(key, Math.max(this.published.get(key) ?? -1, row.revision));
  }

  async reconcile(): Promise<void> {
    const rows = await this.store.agents.list();
    const stale = rows.filter((row) => (this.published.get(`${row.topic}/${row.name}`) ?? -1) < row.revision);
    for (const row of stale) await this.publish(row);
    if (stale.length > 0) this.logger.info({ agents: stale.length }, "desired state republished");
  }
}
