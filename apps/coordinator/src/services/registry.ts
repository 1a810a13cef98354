import {
  agentNames,
  parseAgentRuntimeConfig,
  validateAgentName,
  validateTopic,
  type BusAdmin,
} from "@omnidaemon/bus-kafka";
import type { AuditAction, LimitsOverride } from "@omnidaemon/protocol";
import type {
  AgentRecord,
  AgentsRepository,
  AuditEntry,
  AuditRepository,
  WorkerRecord,
  WorkersRepository,
} from "@omnidaemon/store-pg";
import type { ControlPublisher } from "./control-publisher";
import { asInputError } from "./input-errors";
import {
  CoordinatorError,
  type Actor,
  type AgentDefinitionInput,
  type RegisteredAgent,
  type RegistryService,
} from "./types";

export interface AgentRegistryOptions {
  store: { agents: AgentsRepository; audit: AuditRepository; workers: WorkersRepository };
  admin: Pick<BusAdmin, "ensureAgentTopics">;
  control: Pick<ControlPublisher, "publish">;
  /** A worker without a heartbeat for this long no longer counts as a live consumer. */
  heartbeatTimeoutMs: number;
}

/** Whether a live worker's heartbeat says it consumes the agent now. */
export function consumes(worker: Pick<WorkerRecord, "agents">, topic: string, name: string): boolean {
  return worker.agents.some((a) => a.topic === topic && a.name === name && a.status === "running");
}

/**
 * The registry and desired state: agents in Postgres first (the source of truth), then on the control topic, every
 * change recorded in the audit log with who asked.
 */
export class AgentRegistry implements RegistryService {
  constructor(private readonly options: AgentRegistryOptions) {}

  private get store(): AgentRegistryOptions["store"] {
    return this.options.store;
  }

  async listAgents(): Promise<RegisteredAgent[]> {
    const [records, live] = await Promise.all([this.store.agents.list(), this.liveWorkers()]);
    return records.map((record) => registered(record, live));
  }

  async getAgent(topic: string, name: string): Promise<RegisteredAgent> {
    return registered(await this.requireAgent(topic, name), await this.liveWorkers());
  }

  async registerAgent(input: AgentDefinitionInput, actor: Actor): Promise<RegisteredAgent> {
    try {
      validateTopic(input.topic, "topic");
      validateAgentName(input.name, "name");
      agentNames(input.topic, input.name);
      parseAgentRuntimeConfig(input.config ?? {});
    } catch (error) {
      asInputError(error);
    }
    const before = await this.store.agents.get(input.topic, input.name);
    await this.options.admin.ensureAgentTopics(input.topic, input.name);
    const record = await this.store.agents.upsert({
      topic: input.topic,
      name: input.name,
      description: input.description ?? "",
      version: input.version ?? null,
      tags: input.tags ?? [],
      config: input.config ?? {},
    });
    // Registered again while the cleanup of its deletion was pending: the upsert cancelled the cleanup, but the
    // cleanup job may be deleting the topics right now. Ensured again after the upsert, they exist once this
    // returns; deletes that land later still are undone by the cleanup job, which re-reads the agent after them.
    if (before?.cleanup) await this.options.admin.ensureAgentTopics(input.topic, input.name);
    await this.options.control.publish(record, actor.name);
    await this.audit(actor, "register", record.topic, record.name);
    return registered(record, await this.liveWorkers());
  }

  pauseAgent(topic: string, name: string, actor: Actor): Promise<RegisteredAgent> {
    return this.changeState(topic, name, "paused", "pause", actor);
  }

  resumeAgent(topic: string, name: string, actor: Actor): Promise<RegisteredAgent> {
    return this.changeState(topic, name, "active", "resume", actor);
  }

  /**
   * The operator's override of the agent's limits, in Postgres first (with a new revision), then on the control
   * topic inside the agent's desired-state record, then in the audit log. Like a pause, it survives restarts and
   * re-registrations.
   */
  async setLimits(
    topic: string,
    name: string,
    override: LimitsOverride | null,
    actor: Actor,
  ): Promise<RegisteredAgent> {
    await this.requireAgent(topic, name);
    const record = await this.store.agents.setLimits(topic, name, override);
    if (!record) throw await this.unknownAgent(topic, name);
    await this.options.control.publish(record, actor.name);
    await this.audit(actor, "set_limits", topic, name, { override });
    return registered(record, await this.liveWorkers());
  }

  async deleteAgent(
    topic: string,
    name: string,
    options: { deleteGroup: boolean; deleteDlq: boolean },
    actor: Actor,
  ): Promise<{ deleted: boolean; cleanupPending: boolean }> {
    await this.requireAgent(topic, name);
    const cleanup = options.deleteGroup || options.deleteDlq ? options : undefined;
    const record = await this.store.agents.setState(topic, name, "deleted", cleanup ? { cleanup } : {});
    if (record) await this.options.control.publish(record, actor.name);
    await this.audit(actor, "delete", topic, name, {
      delete_group: options.deleteGroup,
      delete_dlq: options.deleteDlq,
    });
    return { deleted: true, cleanupPending: cleanup !== undefined };
  }

  async deleteTopic(topic: string, actor: Actor): Promise<{ deleted: number }> {
    const agents = await this.store.agents.listByTopic(topic);
    for (const agent of agents) {
      const record = await this.store.agents.setState(topic, agent.name, "deleted");
      if (record) await this.options.control.publish(record, actor.name);
    }
    await this.audit(actor, "delete_topic", topic, undefined, { agents: agents.length });
    return { deleted: agents.length };
  }

  async clearAgents(actor: Actor): Promise<{ deleted: number }> {
    const cleared = await this.store.agents.clearAll();
    for (const record of cleared) await this.options.control.publish(record, actor.name);
    await this.audit(actor, "clear_agents", undefined, undefined, { agents: cleared.length });
    return { deleted: cleared.length };
  }

  auditLog(options: { limit: number; topic?: string; agent?: string }): Promise<AuditEntry[]> {
    return this.store.audit.list(options);
  }

  /** The agent, unless unknown or deleted: then a 404 listing the agents the topic has. */
  async requireAgent(topic: string, name: string): Promise<AgentRecord> {
    const record = await this.store.agents.get(topic, name);
    if (!record || record.state === "deleted") throw await this.unknownAgent(topic, name);
    return record;
  }

  private async changeState(
    topic: string,
    name: string,
    state: "active" | "paused",
    action: AuditAction,
    actor: Actor,
  ): Promise<RegisteredAgent> {
    const current = await this.requireAgent(topic, name);
    const record = current.state === state ? current : await this.store.agents.setState(topic, name, state);
    if (!record) throw await this.unknownAgent(topic, name);
    // Published even when unchanged: re-sending the same revision is harmless and heals a lost publish.
    await this.options.control.publish(record, actor.name);
    await this.audit(actor, action, topic, name);
    return registered(record, await this.liveWorkers());
  }

  private async unknownAgent(topic: string, name: string): Promise<CoordinatorError> {
    const known = (await this.store.agents.listByTopic(topic)).map((a) => a.name);
    const hint =
      known.length > 0 ? `known agents on "${topic}": ${known.join(", ")}` : `no agents on "${topic}"`;
    return new CoordinatorError(
      "not_found",
      `agent "${name}" is not registered on topic "${topic}" (${hint})`,
      {
        known,
      },
    );
  }

  private async audit(
    actor: Actor,
    action: AuditAction,
    topic?: string,
    agent?: string,
    details?: Record<string, unknown>,
  ): Promise<void> {
    await this.store.audit.record({
      actor: actor.name,
      action,
      ...(topic === undefined ? {} : { topic }),
      ...(agent === undefined ? {} : { agent }),
      ...(details === undefined ? {} : { details }),
    });
  }

  private liveWorkers(): Promise<WorkerRecord[]> {
    return this.store.workers.listLive(this.options.heartbeatTimeoutMs);
  }
}

function registered(record: AgentRecord, live: readonly WorkerRecord[]): RegisteredAgent {
  const names = agentNames(record.topic, record.name);
  return {
    ...record,
    liveConsumers: live.filter((worker) => consumes(worker, record.topic, record.name)).length,
    consumerGroup: names.groupId,
    dlqTopic: names.dlqTopic,
  };
}
