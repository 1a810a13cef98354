import { desiredStateRecord, SYSTEM_TOPICS, type Publisher } from "@omnidaemon/bus-kafka";
import { controlKey, effectiveLimits } from "@omnidaemon/protocol";
import type { AgentRecord, AgentsRepository } from "@omnidaemon/store-pg";
import type { Logger } from "pino";
import { PeriodicService, type Leadership } from "./periodic-job";

/**
 * Puts desired state on the control topic. Postgres is the source of truth: every change is written there first,
 * then published. A publish that fails (Kafka down) is not lost: the reconciler republishes every agent whose
 * revision it has not seen acknowledged, at start and every `reconcileIntervalMs`.
 */
export class ControlPublisher extends PeriodicService {
  readonly name = "control-publisher";
  private readonly published = new Map<string, number>();
  /** The publish of each agent in progress: one at a time per agent, in call order. */
  private readonly inProgress = new Map<string, Promise<void>>();

  constructor(
    private readonly agents: Pick<AgentsRepository, "get" | "list">,
    private readonly publisher: Publisher,
    private readonly logger: Logger,
    reconcileIntervalMs = 10_000,
    private readonly topic: string = SYSTEM_TOPICS.control,
    leadership?: Leadership,
  ) {
    super({
      name: "control-reconcile",
      intervalMs: reconcileIntervalMs,
      logger,
      runAtStart: true,
      leadership,
    });
  }

  protected runJob(): Promise<void> {
    return this.reconcile();
  }

  /**
   * Publishes one agent's desired state; rejects if Kafka did not acknowledge (the reconciler retries later).
   *
   * The control topic is compacted, and compaction keeps each agent's last record by offset, not by revision: a
   * row read before a newer change and published after it would become the state every new worker reads. So the
   * publishes of one agent run one at a time, and each sends the agent's current row from the store (never older
   * than `row`): whatever the order of the calls, the agent's last record is its newest revision.
   */
  publish(row: AgentRecord, actor?: string): Promise<void> {
    const key = controlKey(row.topic, row.name);
    const previous = this.inProgress.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.send(row, actor));
    this.inProgress.set(key, next);
    const forget = (): void => {
      if (this.inProgress.get(key) === next) this.inProgress.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  private async send(row: AgentRecord, actor: string | undefined): Promise<void> {
    const current = await this.agents.get(row.topic, row.name);
    const latest = current && current.revision > row.revision ? current : row;
    await this.publisher.send(
      desiredStateRecord(
        {
          kind: "desired_state",
          topic: latest.topic,
          agent: latest.name,
          state: latest.state,
          revision: latest.revision,
          updated_at: latest.updatedAt.toISOString(),
          updated_by: latest === row ? (actor ?? null) : null,
          // What every worker enforces: the registered config's limits with the operator's override on top.
          limits: effectiveLimits(latest.config, latest.limits),
        },
        this.topic,
      ),
    );
    const key = controlKey(latest.topic, latest.name);
    this.published.set(key, Math.max(this.published.get(key) ?? -1, latest.revision));
  }

  async reconcile(): Promise<void> {
    // Deleted agents too: a delete that never reached the control topic must be republished.
    const rows = await this.agents.list({ includeDeleted: true });
    const stale = rows.filter(
      (row) => (this.published.get(controlKey(row.topic, row.name)) ?? -1) < row.revision,
    );
    for (const row of stale) await this.publish(row);
    if (stale.length > 0) this.logger.info({ agents: stale.length }, "desired state republished");
  }
}
