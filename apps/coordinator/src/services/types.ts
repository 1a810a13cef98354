/**
 * What the HTTP layer needs from the coordinator's services. Routes validate input (zod), call one of these, and
 * map the result to JSON; services never see HTTP. Field names here are the API's (snake_case), so a route can
 * return a service result as is.
 *
 * Errors: services throw `CoordinatorError` with a closed code; the HTTP layer maps codes to status codes
 * (invalid_input 400, unauthorized 401, not_found 404, conflict 409, unavailable 503).
 */

export const COORDINATOR_ERROR_CODES = ["invalid_input", "not_found", "conflict", "unavailable"] as const;
export type CoordinatorErrorCode = (typeof COORDINATOR_ERROR_CODES)[number];

export class CoordinatorError extends Error {
  override readonly name = "CoordinatorError";
  constructor(
    readonly code: CoordinatorErrorCode,
    message: string,
    readonly details: { field?: string; known?: string[] } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type AgentState = "active" | "paused" | "deleted";

/** An agent as the API shows it. */
export interface AgentView {
  topic: string;
  name: string;
  description: string;
  version: string | null;
  tags: string[];
  config: Record<string, unknown>;
  state: AgentState;
  revision: number;
  registered_at: string;
  updated_at: string;
  /** Live workers whose heartbeat says they consume this agent now. */
  live_consumers: number;
  consumer_group: string;
  dlq_topic: string;
}

export interface AgentDefinitionInput {
  topic: string;
  name: string;
  description?: string;
  version?: string | null;
  tags?: string[];
  config?: Record<string, unknown>;
}

export interface WorkerAgentStatus {
  topic: string;
  name: string;
  /** The worker's consumer for the agent: running, paused (desired state), stopped. */
  status: "running" | "paused" | "stopped";
  member: boolean;
  assigned_partitions: number;
  in_flight: number;
}

export interface WorkerRegistration {
  id: string;
  host: string;
  pid: number;
  version: string;
  agents: WorkerAgentStatus[];
}

export interface WorkerView extends WorkerRegistration {
  started_at: string;
  last_heartbeat: string;
  live: boolean;
}

export type HealthStatus = "running" | "stopped" | "ready" | "degraded" | "down";

export interface HealthReport {
  status: HealthStatus;
  checked_at: string;
  kafka: { ok: boolean; latency_ms?: number; error?: string };
  postgres: { ok: boolean; latency_ms?: number; error?: string };
  agents: Array<{ topic: string; name: string; state: AgentState; live_consumers: number }>;
  workers: Array<{ id: string; host: string; pid: number; started_at: string; last_heartbeat: string }>;
  /** Seconds since the oldest live worker started; null with no live worker. */
  uptime_seconds: number | null;
  registered_agents: number;
  active_consumers: number;
  /** Result ingestion (the task-events consumer): absent where the services run without one (tests). */
  ingestion?: IngestionHealth;
}

export interface IngestionHealth {
  /** The task-events consumer is consuming; false between a crash and its restart (status is then degraded). */
  running: boolean;
  /** Task events not yet folded into Postgres, over every partition; null when Kafka did not answer. */
  lag: number | null;
  /** Times the consumer was rebuilt after kafkajs gave up. */
  restarts: number;
  last_error?: string;
}

export interface TaskRecordView {
  task_id: string;
  topic: string;
  /** Empty string while no agent has picked the task up yet. */
  agent: string;
  status: "pending" | "processing" | "completed" | "failed" | "dead_lettered";
  attempts: number;
  result: unknown;
  last_error: { class: string; message: string } | null;
  correlation_id: string | null;
  tenant_id: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  expires_at: string | null;
}

export interface PublishTaskInput {
  topic: string;
  content: unknown;
  correlation_id?: string | null;
  causation_id?: string | null;
  tenant_id?: string | null;
  source?: string | null;
  webhook?: string | null;
  reply_to?: string | null;
  key?: string;
  id?: string;
}

export interface AgentMetricsSummary {
  topic: string;
  agent: string;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  dead_lettered: number;
  latency_ms: {
    p50: number | null;
    p95: number | null;
    p99: number | null;
    mean: number | null;
    count: number;
  };
}

/** What an agent did during one sampling interval (counter deltas), ending at `at`. */
export interface MetricsHistoryPoint {
  at: string;
  interval_ms: number;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  dead_lettered: number;
}

/** `GET /metrics/history`: the agent's recent intervals, oldest first, from this coordinator's samples. */
export interface MetricsHistoryView {
  topic: string;
  agent: string;
  sample_interval_ms: number;
  points: MetricsHistoryPoint[];
}

/** `GET /bus/dlq/summary`: what an agent's DLQ holds, counted in one read of it. */
export interface DlqSummaryView {
  topic: string;
  agent: string;
  dlq_topic: string;
  /** Dead-lettered records (replay markers not counted). */
  entries: number;
  /** Entries a replay was published for. */
  replayed: number;
  /** Entries per error class, most first (at most 100 classes by name, the rest as "(other)"). */
  error_classes: Array<{ error_class: string; count: number }>;
  /** Entries per reason, most first. */
  reasons: Array<{ reason: string; count: number }>;
  /** Epoch ms when the oldest and the newest entry reached the DLQ; null when it is empty. */
  oldest_at: number | null;
  newest_at: number | null;
}

export interface Actor {
  /** Who asked: from the `X-Omnidaemon-Actor` header (CLI sends user@host), else "api". */
  name: string;
}

export interface CoordinatorServices {
  // registry and desired state
  listAgents(): Promise<AgentView[]>;
  getAgent(topic: string, name: string): Promise<AgentView>;
  registerAgent(input: AgentDefinitionInput, actor: Actor): Promise<AgentView>;
  pauseAgent(topic: string, name: string, actor: Actor): Promise<AgentView>;
  resumeAgent(topic: string, name: string, actor: Actor): Promise<AgentView>;
  deleteAgent(
    topic: string,
    name: string,
    options: { deleteGroup: boolean; deleteDlq: boolean },
    actor: Actor,
  ): Promise<{ deleted: boolean; cleanup_pending: boolean }>;
  deleteTopic(topic: string, actor: Actor): Promise<{ deleted: number }>;
  clearAgents(actor: Actor): Promise<{ deleted: number }>;
  auditLog(options: { limit: number; topic?: string; agent?: string }): Promise<unknown[]>;

  // tasks
  publishTask(input: PublishTaskInput, actor: Actor): Promise<{ task_id: string; topic: string }>;
  getTask(taskId: string): Promise<TaskRecordView[]>;
  listTasks(options: {
    topic?: string;
    status?: string;
    correlationId?: string;
    limit: number;
  }): Promise<TaskRecordView[]>;

  // metrics and health
  metricsSummary(options: { topic?: string }): Promise<AgentMetricsSummary[]>;
  metricsHistory(topic: string, agent: string): Promise<MetricsHistoryView>;
  health(): Promise<HealthReport>;

  // workers
  registerWorker(input: WorkerRegistration): Promise<{ heartbeat_interval_ms: number }>;
  heartbeat(id: string, agents: WorkerAgentStatus[]): Promise<{ known: boolean }>;
  deregisterWorker(id: string): Promise<void>;
  listWorkers(): Promise<WorkerView[]>;

  // bus inspection (through bus-kafka; plain objects out)
  busGroups(options: { stream?: string }): Promise<unknown[]>;
  busLag(topic: string, agent: string): Promise<unknown>;
  dlqList(topic: string, agent: string, options: { limit?: number; filter?: unknown }): Promise<unknown[]>;
  dlqSummary(topic: string, agent: string): Promise<DlqSummaryView>;
  dlqReplay(topic: string, agent: string, options: unknown, actor: Actor): Promise<unknown>;
  dlqPurge(topic: string, agent: string, actor: Actor): Promise<{ deleted: number }>;
}
