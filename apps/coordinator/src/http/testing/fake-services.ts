import {
  CoordinatorError,
  type Actor,
  type AgentDefinitionInput,
  type AgentMetricsSummary,
  type AgentView,
  type CoordinatorServices,
  type DlqSummaryView,
  type HealthReport,
  type MetricsHistoryView,
  type PublishTaskInput,
  type TaskRecordView,
  type WorkerAgentStatus,
  type WorkerRegistration,
  type WorkerView,
} from "../../services/types";

/** One call the HTTP layer made, with its arguments as received. */
export interface FakeCall {
  method: keyof CoordinatorServices;
  args: unknown[];
}

const AT = "2026-01-01T00:00:00.000Z";

/**
 * An in-memory stand-in for the coordinator's services, for the HTTP layer's unit tests: enough behaviour to
 * answer like the real ones (not found with the known names, upserts, per-agent task records), and a log of
 * every call so tests can check what the routes passed on. The real services are tested against Postgres and
 * Kafka elsewhere.
 */
export class FakeServices implements CoordinatorServices {
  readonly calls: FakeCall[] = [];
  readonly agents = new Map<string, AgentView>();
  readonly tasks: TaskRecordView[] = [];
  readonly workers = new Map<string, WorkerView>();
  healthReport: HealthReport = {
    status: "ready",
    checked_at: AT,
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
  private readonly failures = new Map<keyof CoordinatorServices, unknown>();

  /** The next call of `method` throws `error`. */
  failNext(method: keyof CoordinatorServices, error: unknown): void {
    this.failures.set(method, error);
  }

  /** Calls of one method, newest last. */
  callsOf(method: keyof CoordinatorServices): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  private record(method: keyof CoordinatorServices, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure !== undefined) {
      this.failures.delete(method);
      throw failure;
    }
  }

  private find(topic: string, name: string): AgentView {
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

  private setState(agent: AgentView, state: AgentView["state"]): AgentView {
    const updated = { ...agent, state, revision: ++this.revision };
    this.agents.set(`${agent.topic}/${agent.name}`, updated);
    return updated;
  }

  async listAgents(): Promise<AgentView[]> {
    this.record("listAgents");
    return [...this.agents.values()].filter((agent) => agent.state !== "deleted");
  }

  async getAgent(topic: string, name: string): Promise<AgentView> {
    this.record("getAgent", topic, name);
    return this.find(topic, name);
  }

  async registerAgent(input: AgentDefinitionInput, actor: Actor): Promise<AgentView> {
    this.record("registerAgent", input, actor);
    const existing = this.agents.get(`${input.topic}/${input.name}`);
    const agent: AgentView = {
      topic: input.topic,
      name: input.name,
      description: input.description ?? "",
      version: input.version ?? null,
      tags: input.tags ?? [],
      config: input.config ?? {},
      state: existing?.state === "paused" ? "paused" : "active",
      revision: ++this.revision,
      registered_at: existing?.registered_at ?? AT,
      updated_at: AT,
      live_consumers: 0,
      consumer_group: `omnidaemon.${input.topic}.${input.name}`,
      dlq_topic: `omnidaemon.dlq.${input.topic}.${input.name}`,
    };
    this.agents.set(`${input.topic}/${input.name}`, agent);
    return agent;
  }

  async pauseAgent(topic: string, name: string, actor: Actor): Promise<AgentView> {
    this.record("pauseAgent", topic, name, actor);
    return this.setState(this.find(topic, name), "paused");
  }

  async resumeAgent(topic: string, name: string, actor: Actor): Promise<AgentView> {
    this.record("resumeAgent", topic, name, actor);
    return this.setState(this.find(topic, name), "active");
  }

  async deleteAgent(
    topic: string,
    name: string,
    options: { deleteGroup: boolean; deleteDlq: boolean },
    actor: Actor,
  ): Promise<{ deleted: boolean; cleanup_pending: boolean }> {
    this.record("deleteAgent", topic, name, options, actor);
    this.setState(this.find(topic, name), "deleted");
    return { deleted: true, cleanup_pending: options.deleteGroup || options.deleteDlq };
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

  async auditLog(options: { limit: number; topic?: string; agent?: string }): Promise<unknown[]> {
    this.record("auditLog", options);
    return this.calls
      .filter((call) => ["registerAgent", "pauseAgent", "resumeAgent", "deleteAgent"].includes(call.method))
      .slice(-options.limit)
      .map((call) => ({ action: call.method }));
  }

  async publishTask(input: PublishTaskInput, actor: Actor): Promise<{ task_id: string; topic: string }> {
    this.record("publishTask", input, actor);
    const taskId = input.id ?? `task-${++this.taskCount}`;
    this.tasks.push({
      task_id: taskId,
      topic: input.topic,
      agent: "",
      status: "pending",
      attempts: 0,
      result: null,
      last_error: null,
      correlation_id: input.correlation_id ?? null,
      tenant_id: input.tenant_id ?? null,
      created_at: AT,
      started_at: null,
      finished_at: null,
      duration_ms: null,
      expires_at: null,
    });
    return { task_id: taskId, topic: input.topic };
  }

  async getTask(taskId: string): Promise<TaskRecordView[]> {
    this.record("getTask", taskId);
    return this.tasks.filter((task) => task.task_id === taskId);
  }

  async listTasks(options: {
    topic?: string;
    status?: string;
    correlationId?: string;
    limit: number;
  }): Promise<TaskRecordView[]> {
    this.record("listTasks", options);
    return this.tasks
      .filter((task) => options.topic === undefined || task.topic === options.topic)
      .filter((task) => options.status === undefined || task.status === options.status)
      .filter((task) => options.correlationId === undefined || task.correlation_id === options.correlationId)
      .slice(0, options.limit);
  }

  async metricsSummary(options: { topic?: string }): Promise<AgentMetricsSummary[]> {
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
        dead_lettered: 0,
        latency_ms: { p50: null, p95: null, p99: null, mean: null, count: 0 },
      }));
  }

  async health(): Promise<HealthReport> {
    this.record("health");
    return this.healthReport;
  }

  async registerWorker(input: WorkerRegistration): Promise<{ heartbeat_interval_ms: number }> {
    this.record("registerWorker", input);
    this.workers.set(input.id, { ...input, started_at: AT, last_heartbeat: AT, live: true });
    return { heartbeat_interval_ms: 5000 };
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

  async listWorkers(): Promise<WorkerView[]> {
    this.record("listWorkers");
    return [...this.workers.values()];
  }

  async busGroups(options: { stream?: string }): Promise<unknown[]> {
    this.record("busGroups", options);
    return [{ group_id: "omnidaemon.t.a", members: [] }];
  }

  async busLag(topic: string, agent: string): Promise<unknown> {
    this.record("busLag", topic, agent);
    this.find(topic, agent);
    return { topic, agent, total: 0, partitions: [] };
  }

  async dlqList(
    topic: string,
    agent: string,
    options: { limit?: number; filter?: unknown },
  ): Promise<unknown[]> {
    this.record("dlqList", topic, agent, options);
    return [];
  }

  async metricsHistory(topic: string, agent: string): Promise<MetricsHistoryView> {
    this.record("metricsHistory", topic, agent);
    this.find(topic, agent);
    return {
      topic,
      agent,
      sample_interval_ms: 10_000,
      points: [
        {
          at: "2026-01-01T00:00:10.000Z",
          interval_ms: 10_000,
          received: 5,
          succeeded: 4,
          failed: 1,
          retried: 1,
          dead_lettered: 0,
        },
      ],
    };
  }

  async dlqSummary(topic: string, agent: string): Promise<DlqSummaryView> {
    this.record("dlqSummary", topic, agent);
    this.find(topic, agent);
    return {
      topic,
      agent,
      dlq_topic: `omnidaemon.dlq.${topic}.${agent}`,
      entries: 3,
      replayed: 1,
      error_classes: [{ error_class: "TypeError", count: 3 }],
      reasons: [{ reason: "retries_exhausted", count: 3 }],
      oldest_at: 1_700_000_000_000,
      newest_at: 1_700_000_060_000,
    };
  }

  async dlqReplay(topic: string, agent: string, options: unknown, actor: Actor): Promise<unknown> {
    this.record("dlqReplay", topic, agent, options, actor);
    return { dry_run: true, replayed: [], skipped: [], not_found: [] };
  }

  async dlqPurge(topic: string, agent: string, actor: Actor): Promise<{ deleted: number }> {
    this.record("dlqPurge", topic, agent, actor);
    return { deleted: 3 };
  }
}
