import {
  BusError,
  COORDINATOR_GROUP,
  SYSTEM_TOPICS,
  createEnvelope,
  parseAgentRuntimeConfig,
  agentNames,
  validateAgentName,
  validateTopic,
  type BusAdmin,
  type DlqManager,
  type KafkaProducer,
  type RecordConsumerStatus,
} from "@omnidaemon/bus-kafka";
import type { Logger } from "pino";
import type { ControlPublisher } from "./control-publisher";
import { computeHealth } from "./health";
import type { MetricsHistory } from "./metrics-history";
import type { AgentRow, ControlPlaneStore, TaskRow } from "./store-port";
import {
  CoordinatorError,
  type Actor,
  type AgentDefinitionInput,
  type AgentMetricsSummary,
  type AgentView,
  type CoordinatorServices,
  type DlqSummaryView,
  type HealthReport,
  type IngestionHealth,
  type MetricsHistoryView,
  type PublishTaskInput,
  type TaskRecordView,
  type WorkerAgentStatus,
  type WorkerRegistration,
  type WorkerView,
} from "./types";

export interface ControlPlaneOptions {
  store: ControlPlaneStore;
  admin: BusAdmin;
  dlq: DlqManager;
  producer: KafkaProducer;
  control: ControlPublisher;
  logger: Logger;
  /** A worker without a heartbeat for this long no longer counts as live. */
  heartbeatTimeoutMs: number;
  /** How often workers are told to heartbeat. */
  heartbeatIntervalMs: number;
  resultTtlMs: number;
  /** Samples of the counters, for `GET /metrics/history`; without one the history is empty. */
  history?: Pick<MetricsHistory, "intervalMs" | "series">;
  /** The task-events consumer, whose state and lag /health reports. */
  ingestion?: { status(): RecordConsumerStatus };
  /** Bound on each health ping, so /health answers even when a dependency hangs. @default 2000 */
  pingTimeoutMs?: number;
  now?: () => Date;
}

/** Turns bus validation errors (which name the field) into the API's 400. */
function asInputError(error: unknown): never {
  if (
    error instanceof BusError &&
    (error.code === "INVALID_NAME" ||
      error.code === "INVALID_CONFIG" ||
      error.code === "INVALID_ENVELOPE" ||
      error.code === "ENVELOPE_TOO_LARGE")
  ) {
    throw new CoordinatorError("invalid_input", error.message, error.field ? { field: error.field } : {}, {
      cause: error,
    });
  }
  throw error;
}

async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The coordinator's behaviour, independent of HTTP: registry and desired state (Postgres first, then the control
 * topic), task publishing and lookup, health from live heartbeats and real pings, bus inspection.
 */
export class ControlPlane implements CoordinatorServices {
  private readonly store: ControlPlaneStore;
  private readonly now: () => Date;
  private readonly knownTopics = new Set<string>();

  constructor(private readonly options: ControlPlaneOptions) {
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
  }

  // --- registry ---------------------------------------------------------------------------------------------------

  async listAgents(): Promise<AgentView[]> {
    const [rows, live] = await Promise.all([this.store.agents.list(), this.liveWorkers()]);
    return rows.filter((row) => row.state !== "deleted").map((row) => this.view(row, live));
  }

  async getAgent(topic: string, name: string): Promise<AgentView> {
    const row = await this.requireAgent(topic, name);
    return this.view(row, await this.liveWorkers());
  }

  async registerAgent(input: AgentDefinitionInput, actor: Actor): Promise<AgentView> {
    try {
      validateTopic(input.topic, "topic");
      validateAgentName(input.name, "name");
      agentNames(input.topic, input.name);
      parseAgentRuntimeConfig(input.config ?? {});
    } catch (error) {
      asInputError(error);
    }
    await this.options.admin.ensureAgentTopics(input.topic, input.name);
    this.knownTopics.add(input.topic);
    const row = await this.store.agents.upsert({
      topic: input.topic,
      name: input.name,
      description: input.description ?? "",
      version: input.version ?? null,
      tags: input.tags ?? [],
      config: input.config ?? {},
    });
    await this.options.control.publish(row, actor.name);
    await this.store.audit.record({
      actor: actor.name,
      action: "register",
      topic: row.topic,
      agent: row.name,
    });
    return this.view(row, await this.liveWorkers());
  }

  pauseAgent(topic: string, name: string, actor: Actor): Promise<AgentView> {
    return this.changeState(topic, name, "paused", "pause", actor);
  }

  resumeAgent(topic: string, name: string, actor: Actor): Promise<AgentView> {
    return this.changeState(topic, name, "active", "resume", actor);
  }

  async deleteAgent(
    topic: string,
    name: string,
    options: { deleteGroup: boolean; deleteDlq: boolean },
    actor: Actor,
  ): Promise<{ deleted: boolean; cleanup_pending: boolean }> {
    await this.requireAgent(topic, name);
    const cleanup = options.deleteGroup || options.deleteDlq ? options : null;
    const row = await this.store.agents.setState(topic, name, "deleted", cleanup);
    if (row) await this.options.control.publish(row, actor.name);
    await this.store.audit.record({
      actor: actor.name,
      action: "delete",
      topic,
      agent: name,
      details: { delete_group: options.deleteGroup, delete_dlq: options.deleteDlq },
    });
    return { deleted: true, cleanup_pending: cleanup !== null };
  }

  async deleteTopic(topic: string, actor: Actor): Promise<{ deleted: number }> {
    const agents = (await this.store.agents.list()).filter((a) => a.topic === topic && a.state !== "deleted");
    for (const agent of agents) {
      const row = await this.store.agents.setState(topic, agent.name, "deleted", null);
      if (row) await this.options.control.publish(row, actor.name);
    }
    await this.store.audit.record({
      actor: actor.name,
      action: "delete_topic",
      topic,
      details: { agents: agents.length },
    });
    return { deleted: agents.length };
  }

  async clearAgents(actor: Actor): Promise<{ deleted: number }> {
    const agents = (await this.store.agents.list()).filter((a) => a.state !== "deleted");
    for (const agent of agents) {
      const row = await this.store.agents.setState(agent.topic, agent.name, "deleted", null);
      if (row) await this.options.control.publish(row, actor.name);
    }
    await this.store.audit.record({
      actor: actor.name,
      action: "clear_agents",
      details: { agents: agents.length },
    });
    return { deleted: agents.length };
  }

  auditLog(options: { limit: number; topic?: string; agent?: string }): Promise<unknown[]> {
    return this.store.audit.list(options);
  }

  private async changeState(
    topic: string,
    name: string,
    state: "active" | "paused",
    action: string,
    actor: Actor,
  ): Promise<AgentView> {
    const current = await this.requireAgent(topic, name);
    const row = current.state === state ? current : await this.store.agents.setState(topic, name, state);
    if (!row) throw await this.unknownAgent(topic, name);
    // Published even when unchanged: re-sending the same revision is harmless and heals a lost publish.
    await this.options.control.publish(row, actor.name);
    await this.store.audit.record({ actor: actor.name, action, topic, agent: name });
    return this.view(row, await this.liveWorkers());
  }

  private async requireAgent(topic: string, name: string): Promise<AgentRow> {
    const row = await this.store.agents.get(topic, name);
    if (!row || row.state === "deleted") throw await this.unknownAgent(topic, name);
    return row;
  }

  private async unknownAgent(topic: string, name: string): Promise<CoordinatorError> {
    const known = (await this.store.agents.list())
      .filter((a) => a.topic === topic && a.state !== "deleted")
      .map((a) => a.name);
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

  private view(row: AgentRow, live: Awaited<ReturnType<ControlPlane["liveWorkers"]>>): AgentView {
    const names = agentNames(row.topic, row.name);
    return {
      topic: row.topic,
      name: row.name,
      description: row.description,
      version: row.version,
      tags: row.tags,
      config: row.config,
      state: row.state,
      revision: row.revision,
      registered_at: row.registeredAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
      live_consumers: live.filter((w) =>
        w.agents.some((a) => a.topic === row.topic && a.name === row.name && a.status === "running"),
      ).length,
      consumer_group: names.groupId,
      dlq_topic: names.dlqTopic,
    };
  }

  // --- tasks ------------------------------------------------------------------------------------------------------

  async publishTask(input: PublishTaskInput, actor: Actor): Promise<{ task_id: string; topic: string }> {
    let envelope;
    try {
      validateTopic(input.topic, "topic");
      envelope = createEnvelope({
        topic: input.topic,
        content: input.content,
        ...(input.id === undefined ? {} : { id: input.id }),
        correlationId: input.correlation_id ?? null,
        causationId: input.causation_id ?? null,
        tenantId: input.tenant_id ?? null,
        source: input.source ?? actor.name,
        webhook: input.webhook ?? null,
        replyTo: input.reply_to ?? null,
      });
    } catch (error) {
      asInputError(error);
    }
    // Publishing before any agent registered must work (events wait for the agent), so the topic is made here.
    if (!this.knownTopics.has(input.topic)) {
      await this.options.admin.ensureTopic(input.topic);
      this.knownTopics.add(input.topic);
    }
    await this.store.tasks.createPending({
      taskId: envelope.id,
      topic: envelope.topic,
      correlationId: envelope.correlation_id ?? null,
      tenantId: envelope.tenant_id ?? null,
      ttlMs: this.options.resultTtlMs,
    });
    try {
      await this.options.producer.publish(envelope, input.key === undefined ? {} : { key: input.key });
    } catch (error) {
      asInputError(error);
    }
    return { task_id: envelope.id, topic: envelope.topic };
  }

  async getTask(taskId: string): Promise<TaskRecordView[]> {
    const rows = await this.store.tasks.get(taskId);
    if (rows.length === 0)
      throw new CoordinatorError("not_found", `no task "${taskId}" (unknown, or its result expired)`);
    return rows.map(taskView);
  }

  async listTasks(options: {
    topic?: string;
    status?: string;
    correlationId?: string;
    limit: number;
  }): Promise<TaskRecordView[]> {
    return (await this.store.tasks.list(options)).map(taskView);
  }

  async metricsSummary(options: { topic?: string }): Promise<AgentMetricsSummary[]> {
    return (await this.store.counters.summary(options)).map((c) => ({
      topic: c.topic,
      agent: c.agent,
      received: c.received,
      succeeded: c.succeeded,
      failed: c.failed,
      retried: c.retried,
      dead_lettered: c.deadLettered,
      latency_ms: c.latency,
    }));
  }

  async metricsHistory(topic: string, agent: string): Promise<MetricsHistoryView> {
    await this.requireAgent(topic, agent);
    const { history } = this.options;
    return {
      topic,
      agent,
      sample_interval_ms: history?.intervalMs ?? 0,
      points: history?.series(topic, agent) ?? [],
    };
  }

  // --- health -----------------------------------------------------------------------------------------------------

  async health(): Promise<HealthReport> {
    const timeout = this.options.pingTimeoutMs ?? 2000;
    const [kafka, postgres] = await Promise.all([
      bounded(this.options.admin.ping(timeout), timeout + 200, "Kafka").then(
        (result) => ({ ok: true, latencyMs: result.latencyMs }),
        (error: unknown) => ({ ok: false, error: (error as Error).message }),
      ),
      bounded(this.store.ping(), timeout, "Postgres").then(
        (result) => ({ ok: true, latencyMs: result.latencyMs }),
        (error: unknown) => ({ ok: false, error: (error as Error).message }),
      ),
    ]);
    let agents: AgentRow[] = [];
    let live: Awaited<ReturnType<ControlPlane["liveWorkers"]>> = [];
    if (postgres.ok) {
      try {
        [agents, live] = await Promise.all([this.store.agents.list(), this.liveWorkers()]);
      } catch (error) {
        postgres.ok = false;
        (postgres as { error?: string }).error = (error as Error).message;
      }
    }
    return computeHealth({
      now: this.now(),
      kafka,
      postgres,
      agents: agents.filter((a) => a.state !== "deleted"),
      liveWorkers: live,
      ...(this.options.ingestion === undefined
        ? {}
        : { ingestion: await this.ingestionHealth(this.options.ingestion, kafka.ok, timeout) }),
    });
  }

  private async ingestionHealth(
    ingestion: { status(): RecordConsumerStatus },
    kafkaOk: boolean,
    timeoutMs: number,
  ): Promise<IngestionHealth> {
    const status = ingestion.status();
    const lag = kafkaOk
      ? await bounded(
          this.options.admin.groupLag(COORDINATOR_GROUP, [SYSTEM_TOPICS.taskEvents]),
          timeoutMs,
          "Kafka",
        ).then(
          (result) => result.total,
          () => null,
        )
      : null;
    return {
      running: status.running,
      lag,
      restarts: status.restarts,
      ...(status.lastError === undefined ? {} : { last_error: status.lastError }),
    };
  }

  // --- workers ----------------------------------------------------------------------------------------------------

  async registerWorker(input: WorkerRegistration): Promise<{ heartbeat_interval_ms: number }> {
    await this.store.workers.register(input);
    this.options.logger.info(
      { workerId: input.id, host: input.host, agents: input.agents.length },
      "worker registered",
    );
    return { heartbeat_interval_ms: this.options.heartbeatIntervalMs };
  }

  async heartbeat(id: string, agents: WorkerAgentStatus[]): Promise<{ known: boolean }> {
    return { known: await this.store.workers.heartbeat(id, agents) };
  }

  async deregisterWorker(id: string): Promise<void> {
    await this.store.workers.deregister(id);
    this.options.logger.info({ workerId: id }, "worker deregistered");
  }

  async listWorkers(): Promise<WorkerView[]> {
    const cutoff = this.now().getTime() - this.options.heartbeatTimeoutMs;
    return (await this.store.workers.list()).map((w) => ({
      id: w.id,
      host: w.host,
      pid: w.pid,
      version: w.version,
      agents: w.agents,
      started_at: w.startedAt.toISOString(),
      last_heartbeat: w.lastHeartbeat.toISOString(),
      live: w.stoppedAt === null && w.lastHeartbeat.getTime() >= cutoff,
    }));
  }

  private liveWorkers(): Promise<
    Array<{
      id: string;
      host: string;
      pid: number;
      startedAt: Date;
      lastHeartbeat: Date;
      agents: WorkerAgentStatus[];
    }>
  > {
    return this.store.workers.listLive(this.options.heartbeatTimeoutMs);
  }

  // --- bus inspection -------------------------------------------------------------------------------------------

  async busGroups(options: { stream?: string }): Promise<unknown[]> {
    const groups = await this.options.admin.listGroups();
    const prefix = `omnidaemon.${options.stream}.`;
    const selected = options.stream
      ? groups.filter((g) => g.groupId.startsWith(prefix) && !g.groupId.slice(prefix.length).includes("."))
      : groups;
    return snakeKeys(selected) as unknown[];
  }

  async busLag(topic: string, agent: string): Promise<unknown> {
    await this.requireAgent(topic, agent);
    const names = agentNames(topic, agent);
    return snakeKeys(await this.options.admin.groupLag(names.groupId, [names.topic, names.retryTopic]));
  }

  async dlqList(
    topic: string,
    agent: string,
    options: { limit?: number; filter?: unknown },
  ): Promise<unknown[]> {
    await this.requireAgent(topic, agent);
    try {
      return snakeKeys(
        await this.options.dlq.list(topic, agent, options as Parameters<DlqManager["list"]>[2]),
      ) as unknown[];
    } catch (error) {
      return asInputError(error);
    }
  }

  async dlqSummary(topic: string, agent: string): Promise<DlqSummaryView> {
    await this.requireAgent(topic, agent);
    const summary = await this.options.dlq.summary(topic, agent);
    return {
      topic,
      agent,
      dlq_topic: agentNames(topic, agent).dlqTopic,
      entries: summary.entries,
      replayed: summary.replayed,
      error_classes: summary.errorClasses.map(({ errorClass, count }) => ({
        error_class: errorClass,
        count,
      })),
      reasons: summary.reasons,
      oldest_at: summary.oldestAt,
      newest_at: summary.newestAt,
    };
  }

  async dlqReplay(topic: string, agent: string, options: unknown, actor: Actor): Promise<unknown> {
    await this.requireAgent(topic, agent);
    let result;
    try {
      result = await this.options.dlq.replay(topic, agent, options as Parameters<DlqManager["replay"]>[2]);
    } catch (error) {
      if (error instanceof BusError && error.code === "REPLAY_REFUSED") {
        throw new CoordinatorError("invalid_input", error.message, error.field ? { field: error.field } : {});
      }
      return asInputError(error);
    }
    if (!result.dryRun) {
      await this.store.audit.record({
        actor: actor.name,
        action: "dlq_replay",
        topic,
        agent,
        details: { replayed: result.replayedCount, skipped: result.skippedCount },
      });
    }
    return snakeKeys(result);
  }

  async dlqPurge(topic: string, agent: string, actor: Actor): Promise<{ deleted: number }> {
    await this.requireAgent(topic, agent);
    const result = await this.options.dlq.purge(topic, agent);
    await this.store.audit.record({ actor: actor.name, action: "dlq_purge", topic, agent, details: result });
    return result;
  }
}

/** Keys whose values are wire data (a DLQ entry's envelope and record headers): passed on exactly as they travelled. */
const WIRE_DATA_KEYS = new Set(["envelope", "headers"]);

/**
 * The API speaks snake_case; bus-kafka returns camelCase objects. Keys of plain objects are converted, at any
 * depth, except inside wire data: an envelope is snake_case already and its `content` is the user's JSON, whose
 * keys are not ours to rename; header names are the records'.
 */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  // A plain object of any realm: its prototype is an Object.prototype (whose own prototype is null), or null.
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== null && Object.getPrototypeOf(proto) !== null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      WIRE_DATA_KEYS.has(key) ? child : snakeKeys(child),
    ]),
  );
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function taskView(row: TaskRow): TaskRecordView {
  return {
    task_id: row.taskId,
    topic: row.topic,
    agent: row.agent,
    status: row.status,
    attempts: row.attempts,
    result: row.result ?? null,
    last_error: row.lastError,
    correlation_id: row.correlationId,
    tenant_id: row.tenantId,
    created_at: row.createdAt.toISOString(),
    started_at: iso(row.startedAt),
    finished_at: iso(row.finishedAt),
    duration_ms: row.durationMs,
    expires_at: iso(row.expiresAt),
  };
}
