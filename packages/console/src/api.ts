/*
 * The console's one door to the coordinator: every request the console makes is a method here, with the response
 * typed as the coordinator's REST API answers it (docs/control-plane.md, /openapi.json). The types mirror
 * apps/coordinator/src/http/responses.ts and the bus routes field for field; once @omnidaemon/protocol lands they are
 * imported from there instead of written here. No page calls fetch() itself.
 */

export type AgentState = "active" | "paused" | "deleted";
export type HealthStatus = "running" | "stopped" | "ready" | "degraded" | "down";
export type TaskStatus = "pending" | "processing" | "completed" | "failed" | "dead_lettered";

/** `GET /agents/{topic}/{name}`, and the elements of `GET /agents`. */
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
  /** Live workers consuming this agent now. */
  live_consumers: number;
  consumer_group: string;
  dlq_topic: string;
}

/** `GET /agents`: agents by topic, as in the reference system. */
export type AgentsByTopic = Record<string, AgentView[]>;

export interface Probe {
  ok: boolean;
  latency_ms?: number;
  error?: string;
}

/** `GET /health`. */
export interface HealthReport {
  status: HealthStatus;
  checked_at: string;
  kafka: Probe;
  postgres: Probe;
  agents: Array<{ topic: string; name: string; state: AgentState; live_consumers: number }>;
  workers: Array<{ id: string; host: string; pid: number; started_at: string; last_heartbeat: string }>;
  uptime_seconds: number | null;
  registered_agents: number;
  active_consumers: number;
  ingestion?: { running: boolean; lag: number | null; restarts: number; last_error?: string };
}

export interface WorkerAgentStatus {
  topic: string;
  name: string;
  status: "running" | "paused" | "stopped";
  member: boolean;
  assigned_partitions: number;
  in_flight: number;
}

/** Elements of `GET /v1/workers`. */
export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  version: string;
  agents: WorkerAgentStatus[];
  started_at: string;
  last_heartbeat: string;
  live: boolean;
}

/** `POST /agents/{topic}/{name}/unsubscribe` and `…/resume`. */
export interface DesiredStateChange {
  status: "unsubscribed" | "resumed";
  topic: string;
  agent: string;
  message: string;
  state: AgentState;
  revision: number;
}

/** `DELETE /agents/{topic}/{name}`. */
export interface AgentDeleted {
  status: "deleted";
  topic: string;
  agent: string;
  deleted: boolean;
  cleanup_pending: boolean;
  cleanup: {
    storage_deleted: boolean;
    consumer_group_deleted: boolean;
    dlq_deleted: boolean;
    delete_group: boolean;
    delete_dlq: boolean;
  };
}

/** Elements of `GET /metrics/summary`: lifetime counters and latency percentiles. */
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

/** One point of `GET /metrics/history`: what happened during the interval that ended at `at`. */
export interface MetricsHistoryPoint {
  at: string;
  interval_ms: number;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  dead_lettered: number;
}

/** `GET /metrics/history?topic=&agent=`. */
export interface MetricsHistory {
  topic: string;
  agent: string;
  sample_interval_ms: number;
  points: MetricsHistoryPoint[];
}

/** `GET /bus/lag?topic=&agent=`: the agent's group on its topic and its retry topic. */
export interface GroupLag {
  group_id: string;
  partitions: Array<{
    topic: string;
    partition: number;
    /** Next offset the group will read; null before its first commit on the partition. */
    committed: string | null;
    high: string;
    lag: number;
  }>;
  total: number;
}

/** The event envelope, as it travels on Kafka. */
export interface Envelope {
  id: string;
  topic: string;
  content: unknown;
  correlation_id?: string | null;
  causation_id?: string | null;
  tenant_id?: string | null;
  source?: string | null;
  webhook?: string | null;
  reply_to?: string | null;
  created_at: number;
  delivery_attempts: number;
}

/** Elements of `GET /bus/dlq`: a dead-lettered record and its provenance. Times are epoch milliseconds. */
export interface DlqEntry {
  partition: number;
  offset: string;
  key: string | null;
  task_id?: string;
  envelope?: Envelope;
  raw_value: string | null;
  value_bytes: number;
  reason?: string;
  error_class?: string;
  error_message?: string;
  error_stack?: string;
  attempts?: number;
  source_topic?: string;
  source_partition?: number;
  source_offset?: string;
  agent?: string;
  consumer_group?: string;
  first_failure_at?: number;
  last_failure_at?: number;
  dead_lettered_at: number;
  replay_of?: string;
  replayed: boolean;
  headers: Record<string, string>;
}

/** `GET /bus/dlq/summary?topic=&agent=`. */
export interface DlqSummary {
  topic: string;
  agent: string;
  dlq_topic: string;
  /** Dead-lettered records (replay markers not counted). */
  entries: number;
  /** Entries a replay was published for. */
  replayed: number;
  /** Entries per error class, most first; past 100 classes the rest count as "(other)". */
  error_classes: Array<{ error_class: string; count: number }>;
  reasons: Array<{ reason: string; count: number }>;
  /** Epoch ms the oldest / newest entry reached the DLQ; null when it is empty. */
  oldest_at: number | null;
  newest_at: number | null;
}

/** What `GET /bus/dlq` and a replay's `filter` select on. */
export interface DlqFilter {
  error_class?: string;
  reason?: string;
}

/** Which entries a replay takes: exactly one selector. */
export type ReplaySelector =
  | { all: true }
  | { ids: string[] }
  | { offsets: Array<{ partition: number; offset: string }> }
  | { filter: DlqFilter };

/** `POST /bus/dlq/replay`. */
export interface DlqReplayResult {
  dry_run: boolean;
  replayed: DlqEntry[];
  skipped: Array<{ entry: DlqEntry; reason: string }>;
  not_found: string[];
  replayed_count: number;
  skipped_count: number;
  truncated: boolean;
}

/** A task's record for one agent (fan-out gives one per agent). */
export interface TaskRecord {
  task_id: string;
  topic: string;
  /** Empty while no agent has picked the task up. */
  agent: string;
  status: TaskStatus;
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

/** `GET /tasks/{id}`. */
export interface Task {
  task_id: string;
  records: TaskRecord[];
}

/** Elements of `GET /audit`, newest first. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  topic: string | null;
  agent: string | null;
  details: Record<string, unknown> | null;
}

/** The API's error body: `{ error: { code, message, field?, known? } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string; known?: string[] };
}

/** A request the coordinator refused or could not answer; `status` 0 when it was not reached at all. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Who the audit log records for the console's changes (the CLI sends `cli:<user>@<host>`). */
export const CONSOLE_ACTOR = "console";

type Query = Record<string, string | number | boolean | undefined>;

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

const segment = encodeURIComponent;

/**
 * The coordinator's REST API as the console uses it. `token` is the bearer token (absent: the coordinator runs
 * without one, on loopback). Relative URLs: the console is served by the coordinator it talks to.
 */
export class CoordinatorApi {
  constructor(
    private readonly token: string | undefined,
    private readonly base = "",
  ) {}

  /** `alsoOk`: error statuses whose body is still the answer (GET /health is 503 with its report when down). */
  private async request<T>(method: string, path: string, body?: unknown, alsoOk: number[] = []): Promise<T> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "x-omnidaemon-actor": CONSOLE_ACTOR,
    };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (error) {
      throw new ApiError(0, "unreachable", `the coordinator did not answer: ${(error as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const answered =
      alsoOk.includes(response.status) &&
      typeof parsed === "object" &&
      parsed !== null &&
      !("error" in parsed);
    if (!response.ok && !answered) {
      const error = (parsed as Partial<ApiErrorBody> | undefined)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? "http_error",
        error?.message ?? `${method} ${path} answered ${response.status}`,
        error?.field,
      );
    }
    return parsed as T;
  }

  // --- fleet -------------------------------------------------------------------------------------------------------

  health(): Promise<HealthReport> {
    return this.request("GET", "/health", undefined, [503]);
  }

  workers(): Promise<WorkerView[]> {
    return this.request("GET", "/v1/workers");
  }

  // --- agents ------------------------------------------------------------------------------------------------------

  agents(): Promise<AgentsByTopic> {
    return this.request("GET", "/agents");
  }

  agent(topic: string, name: string): Promise<AgentView> {
    return this.request("GET", `/agents/${segment(topic)}/${segment(name)}`);
  }

  pause(topic: string, name: string): Promise<DesiredStateChange> {
    return this.request("POST", `/agents/${segment(topic)}/${segment(name)}/unsubscribe`);
  }

  resume(topic: string, name: string): Promise<DesiredStateChange> {
    return this.request("POST", `/agents/${segment(topic)}/${segment(name)}/resume`);
  }

  deleteAgent(
    topic: string,
    name: string,
    options: { deleteGroup: boolean; deleteDlq: boolean },
  ): Promise<AgentDeleted> {
    return this.request(
      "DELETE",
      `/agents/${segment(topic)}/${segment(name)}${queryString({
        delete_group: options.deleteGroup,
        delete_dlq: options.deleteDlq,
      })}`,
    );
  }

  lag(topic: string, agent: string): Promise<GroupLag> {
    return this.request("GET", `/bus/lag${queryString({ topic, agent })}`);
  }

  metricsSummary(topic?: string): Promise<AgentMetricsSummary[]> {
    return this.request("GET", `/metrics/summary${queryString({ topic })}`);
  }

  metricsHistory(topic: string, agent: string): Promise<MetricsHistory> {
    return this.request("GET", `/metrics/history${queryString({ topic, agent })}`);
  }

  // --- dead-letter queue ---------------------------------------------------------------------------------------------

  dlq(topic: string, agent: string, options: DlqFilter & { limit?: number } = {}): Promise<DlqEntry[]> {
    return this.request("GET", `/bus/dlq${queryString({ topic, agent, ...options })}`);
  }

  dlqSummary(topic: string, agent: string): Promise<DlqSummary> {
    return this.request("GET", `/bus/dlq/summary${queryString({ topic, agent })}`);
  }

  replay(
    topic: string,
    agent: string,
    selector: ReplaySelector,
    options: { dryRun: boolean; force?: boolean },
  ): Promise<DlqReplayResult> {
    return this.request("POST", "/bus/dlq/replay", {
      topic,
      agent,
      ...selector,
      dry_run: options.dryRun,
      ...(options.force === true && { force: true }),
    });
  }

  purge(topic: string, agent: string): Promise<{ deleted: number }> {
    return this.request("POST", "/bus/dlq/purge", { topic, agent });
  }

  // --- tasks and audit -------------------------------------------------------------------------------------------------

  task(id: string): Promise<Task> {
    return this.request("GET", `/tasks/${segment(id)}`);
  }

  tasks(query: {
    topic?: string;
    status?: TaskStatus;
    correlation_id?: string;
    limit?: number;
  }): Promise<TaskRecord[]> {
    return this.request("GET", `/tasks${queryString(query)}`);
  }

  audit(query: { topic?: string; agent?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    return this.request("GET", `/audit${queryString(query)}`);
  }
}
