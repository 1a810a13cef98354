import type {
  DlqEntry,
  DlqFilter,
  DlqReplayOptions,
  DlqReplayResult,
  GroupInfo,
  GroupLag,
} from "@omnidaemon/bus-kafka";
import type { HealthReport, LimitsOverride, WorkerAgentStatus } from "@omnidaemon/protocol";
import type {
  AuditEntry,
  CounterSummary,
  TaskListOptions,
  TaskRecord,
  WorkerRegistration,
} from "@omnidaemon/store-pg";
import {
  CoordinatorError,
  type Actor,
  type AgentDefinitionInput,
  type AgentDlqSummary,
  type BusService,
  type CoordinatorServices,
  type CounterHistory,
  type FleetService,
  type PublishTaskInput,
  type RegisteredAgent,
  type RegistryService,
  type TaskService,
  type WorkerState,
} from "../../services/types";

type FakeMethod = keyof RegistryService | keyof TaskService | keyof FleetService | keyof BusService;

/** One call the HTTP layer made, with its arguments as received. */
export interface FakeCall {
  method: FakeMethod;
  args: unknown[];
}

const AT = new Date("2026-01-01T00:00:00.000Z");

/**
 * An in-memory stand-in for every coordinator service, for the HTTP layer's unit tests: enough behaviour to answer
 * like the real ones (not found with the known names, upserts, per-agent task records), in the services' own
 * records (camelCase, Dates) so the HTTP edge's conversion runs, and a log of every call so tests can check what
 * the routes passed on. The real services are tested against Postgres and Kafka elsewhere.
 */
export class FakeServices implements RegistryService, TaskService, FleetService, BusService {
  readonly calls: FakeCall[] = [];
  readonly agents = new Map<string, RegisteredAgent>();
  readonly tasks: TaskRecord[] = [];
  readonly workers = new Map<string, WorkerState>();
  healthReport: HealthReport = {
    status: "ready",
    checked_at: AT.toISOString(),
    kafka: { ok: true, latency_ms: 1 },
    postgres: { ok: true, latency_ms: 1 },
    agents: [],
    workers: [],
    uptime_seconds: null,
    registered_agents: 0,
    active_consumers: 0,
  };
  private revision = 0;
  private taskCount = 0;
  private readonly failures = new Map<FakeMethod, unknown>();

  /** The same object as each service, as the HTTP layer takes them. */
  asServices(): CoordinatorServices {
    return { registry: this, tasks: this, fleet: this, bus: this };
  }

  /** The next call of `method` throws `error`. */
  failNext(method: FakeMethod, error: unknown): void {
    this.failures.set(method, error);
  }

  /** Calls of one method, newest last. */
  callsOf(method: FakeMethod): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  private record(method: FakeMethod, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure !== undefined) {
      this.failures.delete(method);
      throw failure;
    }
  }

  private find(topic: string, name: string): RegisteredAgent {
    const agent = this.agents.get(`${topic}/${name}`);
    if (agent === undefined || agent.state === "deleted") {
      const known = [...this.agents.values()]
        .filter((candidate) => candidate.topic === topic && candidate.state !== "deleted")
        .map((candidate) => candidate.name)
        .sort();
      throw new CoordinatorError("not_found", `agent "${name}" is not registered on topic "${topic}"`, {
        field: "name",
        known,
      });
    }
    return agent;
  }

  private setState(agent: RegisteredAgent, state: RegisteredAgent["state"]): RegisteredAgent {
    const updated = { ...agent, state, revision: ++this.revision };
    this.agents.set(`${agent.topic}/${agent.name}`, updated);
    return updated;
  }

  // --- registry ---------------------------------------------------------------------------------------------------

  async listAgents(): Promise<RegisteredAgent[]> {
    this.record("listAgents");
    return [...this.agents.values()].filter((agent) => agent.state !== "deleted");
  }

  async getAgent(topic: string, name: string): Promise<RegisteredAgent> {
    this.record("getAgent", topic, name);
    return this.find(topic, name);
  }

  async registerAgent(input: AgentDefinitionInput, actor: Actor): Promise<RegisteredAgent> {
    this.record("registerAgent", input, actor);
    const existing = this.agents.get(`${input.topic}/${input.name}`);
    const agent: RegisteredAgent = {
      topic: input.topic,
      name: input.name,
      description: input.description ?? "",
      version: input.version ?? null,
      tags: input.tags ?? [],
      config: input.config ?? {},
      state: existing?.state === "paused" ? "paused" : "active",
      revision: ++this.revision,
      cleanup: null,
      limits: existing?.state === "deleted" ? null : (existing?.limits ?? null),
      registeredAt: existing?.registeredAt ?? AT,
      updatedAt: AT,
      deletedAt: null,
      liveConsumers: 0,
      consumerGroup: `omnidaemon.${input.topic}.${input.name}`,
      dlqTopic: `omnidaemon.dlq.${input.topic}.${input.name}`,
    };
    this.agents.set(`${input.topic}/${input.name}`, agent);
    return agent;
  }

  async pauseAgent(topic: string, name: string, actor: Actor): Promise<RegisteredAgent> {
    this.record("pauseAgent", topic, name, actor);
    return this.setState(this.find(topic, name), "paused");
  }

  async resumeAgent(topic: string, name: string, actor: Actor): Promise<RegisteredAgent> {
    this.record("resumeAgent", topic, name, actor);
    return this.setState(this.find(topic, name), "active");
  }

  async setLimits(
    topic: string,
    name: string,
    override: LimitsOverride | null,
    actor: Actor,
  ): Promise<RegisteredAgent> {
    this.record("setLimits", topic, name, override, actor);
    const updated = { ...this.find(topic, name), limits: override, revision: ++this.revision };
    this.agents.set(`${topic}/${name}`, updated);
    return updated;
  }

  async deleteAgent(
    topic: string,
    name: string,
    options: { deleteGroup: boolean; deleteDlq: boolean },
    actor: Actor,
  ): Promise<{ deleted: boolean; cleanupPending: boolean }> {
    this.record("deleteAgent", topic, name, options, actor);
    this.setState(this.find(topic, name), "deleted");
    return { deleted: true, cleanupPending: options.deleteGroup || options.deleteDlq };
  }

  async deleteTopic(topic: string, actor: Actor): Promise<{ deleted: number }> {
    this.record("deleteTopic", topic, actor);
    const agents = [...this.agents.values()].filter((a) => a.topic === topic && a.state !== "deleted");
    for (const agent of agents) this.setState(agent, "deleted");
    return { deleted: agents.length };
  }

  async clearAgents(actor: Actor): Promise<{ deleted: number }> {
    this.record("clearAgents", actor);
    const agents = [...this.agents.values()].filter((agent) => agent.state !== "deleted");
    for (const agent of agents) this.setState(agent, "deleted");
    return { deleted: agents.length };
  }

  async auditLog(options: { limit: number; topic?: string; agent?: string }): Promise<AuditEntry[]> {
    this.record("auditLog", options);
    const actions = {
      registerAgent: "register",
      pauseAgent: "pause",
      resumeAgent: "resume",
      deleteAgent: "delete",
    };
    return this.calls
      .filter((call) => call.method in actions)
      .slice(-options.limit)
      .map((call, i) => ({
        id: i + 1,
        at: AT,
        actor: "api",
        action: actions[call.method as keyof typeof actions] as AuditEntry["action"],
        topic: null,
        agent: null,
        details: null,
      }));
  }

  // --- tasks ------------------------------------------------------------------------------------------------------

  async publishTask(input: PublishTaskInput, actor: Actor): Promise<{ taskId: string; topic: string }> {
    this.record("publishTask", input, actor);
    const taskId = input.id ?? `task-${++this.taskCount}`;
    this.tasks.push({
      taskId,
      topic: input.topic,
      agent: null,
      status: "pending",
      attempts: 0,
      replays: 0,
      result: null,
      lastError: null,
      correlationId: input.correlationId ?? null,
      tenantId: input.tenantId ?? null,
      createdAt: AT,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      updatedAt: AT,
      expiresAt: AT,
    });
    return { taskId, topic: input.topic };
  }

  async getTask(taskId: string): Promise<TaskRecord[]> {
    this.record("getTask", taskId);
    return this.tasks.filter((task) => task.taskId === taskId);
  }

  async listTasks(options: TaskListOptions & { limit: number }): Promise<TaskRecord[]> {
    this.record("listTasks", options);
    return this.tasks
      .filter((task) => options.topic === undefined || task.topic === options.topic)
      .filter((task) => options.status === undefined || task.status === options.status)
      .filter((task) => options.correlationId === undefined || task.correlationId === options.correlationId)
      .slice(0, options.limit);
  }

  async metricsSummary(options: { topic?: string }): Promise<CounterSummary[]> {
    this.record("metricsSummary", options);
    return [...this.agents.values()]
      .filter((agent) => options.topic === undefined || agent.topic === options.topic)
      .map((agent) => ({
        topic: agent.topic,
        agent: agent.name,
        received: 0,
        succeeded: 0,
        failed: 0,
        retried: 0,
        deadLettered: 0,
        latency: { p50Ms: null, p95Ms: null, p99Ms: null, meanMs: null, count: 0, sumMs: 0 },
      }));
  }

  async metricsHistory(topic: string, agent: string): Promise<CounterHistory> {
    this.record("metricsHistory", topic, agent);
    this.find(topic, agent);
    return {
      topic,
      agent,
      sampleIntervalMs: 10_000,
      points: [
        {
          at: new Date(AT.getTime() + 10_000),
          intervalMs: 10_000,
          received: 5,
          succeeded: 4,
          failed: 1,
          retried: 1,
          deadLettered: 0,
        },
      ],
    };
  }

  // --- fleet health -----------------------------------------------------------------------------------------------

  async health(): Promise<HealthReport> {
    this.record("health");
    return this.healthReport;
  }

  async registerWorker(input: WorkerRegistration): Promise<{ heartbeatIntervalMs: number }> {
    this.record("registerWorker", input);
    this.workers.set(input.id, {
      id: input.id,
      host: input.host,
      pid: input.pid,
      version: input.version,
      agents: [...input.agents],
      startedAt: AT,
      lastHeartbeat: AT,
      stoppedAt: null,
      live: true,
    });
    return { heartbeatIntervalMs: 5000 };
  }

  async heartbeat(id: string, agents: WorkerAgentStatus[]): Promise<{ known: boolean }> {
    this.record("heartbeat", id, agents);
    const worker = this.workers.get(id);
    if (worker === undefined) return { known: false };
    this.workers.set(id, { ...worker, agents });
    return { known: true };
  }

  async deregisterWorker(id: string): Promise<void> {
    this.record("deregisterWorker", id);
    this.workers.delete(id);
  }

  async listWorkers(): Promise<WorkerState[]> {
    this.record("listWorkers");
    return [...this.workers.values()];
  }

  // --- bus inspection ---------------------------------------------------------------------------------------------

  async busGroups(options: { stream?: string }): Promise<GroupInfo[]> {
    this.record("busGroups", options);
    return [{ groupId: "omnidaemon.t.a", state: "Empty", members: [] }];
  }

  async busLag(topic: string, agent: string): Promise<GroupLag> {
    this.record("busLag", topic, agent);
    this.find(topic, agent);
    return { groupId: `omnidaemon.${topic}.${agent}`, total: 0, partitions: [] };
  }

  async dlqList(
    topic: string,
    agent: string,
    options: { limit: number; filter?: DlqFilter },
  ): Promise<DlqEntry[]> {
    this.record("dlqList", topic, agent, options);
    return [];
  }

  async dlqSummary(topic: string, agent: string): Promise<AgentDlqSummary> {
    this.record("dlqSummary", topic, agent);
    this.find(topic, agent);
    return {
      topic,
      agent,
      dlqTopic: `omnidaemon.dlq.${topic}.${agent}`,
      entries: 3,
      replayed: 1,
      errorClasses: [{ errorClass: "TypeError", count: 3 }],
      reasons: [{ reason: "retries_exhausted", count: 3 }],
      oldestAt: 1_700_000_000_000,
      newestAt: 1_700_000_060_000,
    };
  }

  async dlqReplay(
    topic: string,
    agent: string,
    options: DlqReplayOptions,
    actor: Actor,
  ): Promise<DlqReplayResult> {
    this.record("dlqReplay", topic, agent, options, actor);
    return {
      dryRun: true,
      replayed: [],
      skipped: [],
      notFound: [],
      replayedCount: 0,
      skippedCount: 0,
      truncated: false,
    };
  }

  async dlqPurge(topic: string, agent: string, actor: Actor): Promise<{ deleted: number }> {
    this.record("dlqPurge", topic, agent, actor);
    return { deleted: 3 };
  }
}
