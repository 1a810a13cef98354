import { agentNames, type BusAdmin } from "@omnidaemon/bus-kafka";
import type { Logger } from "pino";
import { PeriodicService, type Leadership } from "./periodic-job";
import type { AgentRecord, AgentsRepository } from "@omnidaemon/store-pg";

/**
 * Finishes `delete --cleanup/--delete-dlq`: the consumer group and the DLQ are removed only once every worker has
 * stopped the agent, i.e. the group has no members. The pending cleanup lives in Postgres, so a coordinator restart
 * resumes it.
 *
 * An agent registered again cancels its pending cleanup (the registry's upsert). The job reads the agent again before
 * it deletes anything, and once more after: registered again while the deletes ran, the agent gets its retry and DLQ
 * topics back at once, so a registration never ends up without the topics it needs (docs/control-plane.md).
 */
export class CleanupJob extends PeriodicService {
  readonly name = "cleanup-job";

  constructor(
    private readonly agents: Pick<AgentsRepository, "get" | "listPendingCleanups" | "completeCleanup">,
    private readonly admin: Pick<
      BusAdmin,
      "listGroups" | "deleteGroup" | "deleteAgentTopics" | "ensureAgentTopics"
    >,
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
    for (const listed of await this.agents.listPendingCleanups()) {
      const names = agentNames(listed.topic, listed.name);
      const group = await this.admin.listGroups({ prefix: names.groupId });
      const members = group.find((g) => g.groupId === names.groupId)?.members.length ?? 0;
      if (members > 0) {
        this.logger.debug({ groupId: names.groupId, members }, "cleanup waits for the group to empty");
        continue;
      }
      const agent = await this.stillPending(listed);
      if (agent?.cleanup == null) continue;
      if (agent.cleanup.deleteGroup) {
        await this.admin.deleteGroup(names.groupId);
        await this.admin.deleteAgentTopics(agent.topic, agent.name, { retry: true, dlq: false });
      }
      if (agent.cleanup.deleteDlq)
        await this.admin.deleteAgentTopics(agent.topic, agent.name, { retry: false, dlq: true });
      if ((await this.stillPending(agent)) === undefined) {
        await this.admin.ensureAgentTopics(agent.topic, agent.name);
        this.logger.info(
          { topic: agent.topic, agent: agent.name },
          "agent registered again during its cleanup; its topics are restored",
        );
        continue;
      }
      await this.agents.completeCleanup(agent.topic, agent.name);
      this.logger.info({ topic: agent.topic, agent: agent.name, ...agent.cleanup }, "agent cleanup done");
    }
  }

  /** The agent as it is now, if it is still deleted with a cleanup pending. */
  private async stillPending(agent: AgentRecord): Promise<AgentRecord | undefined> {
    const now = await this.agents.get(agent.topic, agent.name);
    return now?.state === "deleted" && now.cleanup !== null ? now : undefined;
  }
}
