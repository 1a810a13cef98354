import { agentNames, type BusAdmin } from "@omnidaemon/bus-kafka";
import type { Logger } from "pino";
import { PeriodicService, type Leadership } from "./periodic-job";
import type { AgentsRepository } from "@omnidaemon/store-pg";

/**
 * Finishes `delete --cleanup/--delete-dlq`: the consumer group and the DLQ are removed only once every worker has
 * stopped the agent, i.e. the group has no members. The pending cleanup lives in Postgres, so a coordinator restart
 * resumes it.
 */
export class CleanupJob extends PeriodicService {
  readonly name = "cleanup-job";

  constructor(
    private readonly agents: Pick<AgentsRepository, "listPendingCleanups" | "completeCleanup">,
    private readonly admin: BusAdmin,
    private readonly logger: Logger,
    intervalMs = 2000,
    leadership?: Leadership,
  ) {
    super({ name: "agent-cleanup", intervalMs, logger, leadership });
  }

  /** One pass over pending cleanups (also used by tests to avoid waiting for the timer). */
  runOnce(): Promise<void> {
    return this.runNow();
  }

  protected async runJob(): Promise<void> {
    for (const agent of await this.agents.listPendingCleanups()) {
      if (agent.state !== "deleted" || !agent.cleanup) continue;
      const names = agentNames(agent.topic, agent.name);
      const group = await this.admin.listGroups({ prefix: names.groupId });
      const members = group.find((g) => g.groupId === names.groupId)?.members.length ?? 0;
      if (members > 0) {
        this.logger.debug({ groupId: names.groupId, members }, "cleanup waits for the group to empty");
        continue;
      }
      if (agent.cleanup.deleteGroup) {
        await this.admin.deleteGroup(names.groupId);
        await this.admin.deleteAgentTopics(agent.topic, agent.name, { retry: true, dlq: false });
      }
      if (agent.cleanup.deleteDlq)
        await this.admin.deleteAgentTopics(agent.topic, agent.name, { retry: false, dlq: true });
      await this.agents.completeCleanup(agent.topic, agent.name);
      this.logger.info({ topic: agent.topic, agent: agent.name, ...agent.cleanup }, "agent cleanup done");
    }
  }
}
