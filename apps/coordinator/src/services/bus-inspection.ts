import {
  agentNames,
  type BusAdmin,
  type DlqEntry,
  type DlqFilter,
  type DlqManager,
  type DlqReplayOptions,
  type DlqReplayResult,
  type GroupInfo,
  type GroupLag,
} from "@omnidaemon/bus-kafka";
import type { AuditRepository } from "@omnidaemon/store-pg";
import { asInputError } from "./input-errors";
import type { Actor, AgentDlqSummary, BusService } from "./types";

export interface BusInspectionOptions {
  admin: Pick<BusAdmin, "listGroups" | "groupLag">;
  dlq: Pick<DlqManager, "list" | "summary" | "replay" | "purge">;
  audit: AuditRepository;
  /** Refuses an agent that is not registered (404 naming the known ones). */
  requireAgent(topic: string, name: string): Promise<unknown>;
}

/** Bus inspection through bus-kafka: the fleet's consumer groups, an agent's lag, its dead-letter queue. */
export class BusInspection implements BusService {
  constructor(private readonly options: BusInspectionOptions) {}

  async busGroups(options: { stream?: string }): Promise<GroupInfo[]> {
    const groups = await this.options.admin.listGroups();
    if (options.stream === undefined) return groups;
    // An agent's group is omnidaemon.<topic>.<agent>, and agent names have no dots.
    const prefix = `omnidaemon.${options.stream}.`;
    return groups.filter(
      (g) => g.groupId.startsWith(prefix) && !g.groupId.slice(prefix.length).includes("."),
    );
  }

  async busLag(topic: string, agent: string): Promise<GroupLag> {
    await this.options.requireAgent(topic, agent);
    const names = agentNames(topic, agent);
    return this.options.admin.groupLag(names.groupId, [names.topic, names.retryTopic]);
  }

  async dlqList(
    topic: string,
    agent: string,
    options: { limit: number; filter?: DlqFilter },
  ): Promise<DlqEntry[]> {
    await this.options.requireAgent(topic, agent);
    try {
      return await this.options.dlq.list(topic, agent, options);
    } catch (error) {
      return asInputError(error);
    }
  }

  async dlqSummary(topic: string, agent: string): Promise<AgentDlqSummary> {
    await this.options.requireAgent(topic, agent);
    const summary = await this.options.dlq.summary(topic, agent);
    return { topic, agent, dlqTopic: agentNames(topic, agent).dlqTopic, ...summary };
  }

  async dlqReplay(
    topic: string,
    agent: string,
    options: DlqReplayOptions,
    actor: Actor,
  ): Promise<DlqReplayResult> {
    await this.options.requireAgent(topic, agent);
    let result: DlqReplayResult;
    try {
      result = await this.options.dlq.replay(topic, agent, options);
    } catch (error) {
      return asInputError(error);
    }
    if (!result.dryRun) {
      await this.options.audit.record({
        actor: actor.name,
        action: "dlq_replay",
        topic,
        agent,
        details: { replayed: result.replayedCount, skipped: result.skippedCount },
      });
    }
    return result;
  }

  async dlqPurge(topic: string, agent: string, actor: Actor): Promise<{ deleted: number }> {
    await this.options.requireAgent(topic, agent);
    const result = await this.options.dlq.purge(topic, agent);
    await this.options.audit.record({
      actor: actor.name,
      action: "dlq_purge",
      topic,
      agent,
      details: result,
    });
    return result;
  }
}
