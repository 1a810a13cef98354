import type {
  AgentDeleted,
  AgentLimitsAnswer,
  AgentsByTopic,
  AgentsDeleted,
  AgentView,
  AuditEntry,
  DesiredStateChange,
} from "../api/agents";
import type { DlqEntry, DlqPurged, DlqReplayResult, DlqSummary, GroupInfo, GroupLag } from "../api/bus";
import type {
  HealthReport,
  HeartbeatAnswer,
  WorkerDeregistered,
  WorkerRegistered,
  WorkerView,
} from "../api/fleet";
import type {
  DlqReplayRequest,
  HeartbeatRequest,
  PublishTaskRequest,
  RegisterAgentRequest,
  RegisterWorkerRequest,
  SetLimitsRequest,
} from "../api/index";
import type { MetricsHistory, MetricsSummary, Published, TaskRecord, TaskView } from "../api/tasks";
import type { TaskStatus } from "../vocabulary";
import { CoordinatorApiError, CoordinatorUnreachableError, networkReason } from "./errors";

/** Where a coordinator listens when nothing says otherwise (its default port, on loopback). */
export const DEFAULT_COORDINATOR_URL = "http://127.0.0.1:8765";
/** The variable that names the coordinator's URL, for every app, the SDK and the CLI. */
export const COORDINATOR_URL_VARIABLE = "OMNIDAEMON_COORDINATOR_URL";
/** The variable that holds the API's bearer token. */
export const API_TOKEN_VARIABLE = "OMNIDAEMON_API_TOKEN";
/** The header naming who asked, recorded in the coordinator's audit log. */
export const ACTOR_HEADER = "x-omnidaemon-actor";

const DEFAULT_TIMEOUT_MS = 30_000;

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Statuses besides 2xx whose JSON body is an answer, not an error (`/health` answers 503 when down). */
  accept?: readonly number[];
  timeoutMs?: number;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

export interface CoordinatorClientOptions {
  /** The coordinator's base URL, e.g. {@link DEFAULT_COORDINATOR_URL}. */
  url: string;
  /** Bearer token (`OMNIDAEMON_API_TOKEN`); omit for a coordinator without one. */
  token?: string;
  /** Who asks, recorded in the audit log (`X-Omnidaemon-Actor`): `sdk`, `cli:alice@laptop`, … */
  actor: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Bound on each request, unless a call says otherwise. @default 30000 */
  timeoutMs?: number;
}

/** `GET /health`: the report (also when the fleet is down: 503), or, without one, what the body said instead. */
export interface HealthAnswer {
  httpStatus: number;
  report: HealthReport | undefined;
  /** Without a report: the API's error message, else "no health report". */
  problem?: string;
}

/**
 * The one client of the coordinator's REST API, used by the SDK, the CLI (and the console): one typed method per
 * route, answers typed by the protocol's response schemas (not re-validated: the coordinator's routes are typed by
 * the same schemas). Errors carry what a caller needs to act: the URL tried, the status and the API's error body.
 */
export class CoordinatorClient {
  readonly url: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: CoordinatorClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  get hasToken(): boolean {
    return this.options.token !== undefined;
  }

  // --- registry ---------------------------------------------------------------------------------------------------

  listAgents(): Promise<AgentsByTopic> {
    return this.get("/agents");
  }

  getAgent(topic: string, name: string): Promise<AgentView> {
    return this.get(agentPath(topic, name));
  }

  registerAgent(definition: RegisterAgentRequest): Promise<AgentView> {
    return this.send("POST", "/agents", { body: definition });
  }

  /** Pauses the agent fleet-wide (`unsubscribe`). */
  pauseAgent(topic: string, name: string): Promise<DesiredStateChange> {
    return this.send("POST", `${agentPath(topic, name)}/unsubscribe`);
  }

  resumeAgent(topic: string, name: string): Promise<DesiredStateChange> {
    return this.send("POST", `${agentPath(topic, name)}/resume`);
  }

  /** The agent's fleet-wide limits: configured, the operator's override, effective. */
  getLimits(topic: string, name: string): Promise<AgentLimitsAnswer> {
    return this.get(`${agentPath(topic, name)}/limits`);
  }

  /** Replaces the operator's override of the agent's limits; every worker applies it within seconds. */
  setLimits(topic: string, name: string, override: SetLimitsRequest): Promise<AgentLimitsAnswer> {
    return this.send("PUT", `${agentPath(topic, name)}/limits`, { body: override });
  }

  /** Removes the operator's override: the agent's configured limits apply again, fleet-wide. */
  clearLimits(topic: string, name: string): Promise<AgentLimitsAnswer> {
    return this.send("DELETE", `${agentPath(topic, name)}/limits`);
  }

  deleteAgent(
    topic: string,
    name: string,
    options: { deleteGroup?: boolean; deleteDlq?: boolean } = {},
  ): Promise<AgentDeleted> {
    return this.send("DELETE", agentPath(topic, name), {
      query: { delete_group: options.deleteGroup === true, delete_dlq: options.deleteDlq === true },
    });
  }

  deleteTopic(topic: string): Promise<AgentsDeleted> {
    return this.send("DELETE", `/topics/${segment(topic)}`);
  }

  /** `storage clear-agents`: deletes every agent of every topic. */
  clearAgents(): Promise<AgentsDeleted> {
    return this.send("DELETE", "/agents", { query: { confirm: true } });
  }

  auditLog(query: { limit?: number | string; topic?: string; agent?: string } = {}): Promise<AuditEntry[]> {
    return this.get("/audit", query);
  }

  // --- tasks ------------------------------------------------------------------------------------------------------

  publishTask(request: PublishTaskRequest): Promise<Published> {
    return this.send("POST", "/tasks", { body: request });
  }

  getTask(taskId: string): Promise<TaskView> {
    return this.get(`/tasks/${segment(taskId)}`);
  }

  listTasks(
    query: { topic?: string; status?: TaskStatus; correlation_id?: string; limit?: number | string } = {},
  ): Promise<TaskRecord[]> {
    return this.get("/tasks", query);
  }

  metricsSummary(query: { topic?: string } = {}): Promise<MetricsSummary[]> {
    return this.get("/metrics/summary", query);
  }

  /** The agent's recent throughput and failures per interval, as the answering coordinator sampled them. */
  metricsHistory(query: { topic: string; agent: string }): Promise<MetricsHistory> {
    return this.get("/metrics/history", query);
  }

  // --- fleet health -----------------------------------------------------------------------------------------------

  /** The fleet's health; a down fleet answers 503 with its report, which is an answer here, not an error. */
  async health(): Promise<HealthAnswer> {
    const { status, body } = await this.request<unknown>("GET", "/health", { accept: [503] });
    if (isHealthReport(body)) return { httpStatus: status, report: body };
    // A 503 that is not a health report: the coordinator is shutting down.
    const problem = (body as { error?: { message?: string } } | null)?.error?.message ?? "no health report";
    return { httpStatus: status, report: undefined, problem };
  }

  /**
   * The fleet's health report, also when the fleet is down (503 with its report). A 503 without one (the coordinator
   * is shutting down) is an error like any other: a {@link CoordinatorApiError} with the API's message.
   */
  async healthReport(): Promise<HealthReport> {
    const answer = await this.health();
    if (answer.report !== undefined) return answer.report;
    throw new CoordinatorApiError(
      answer.problem ?? "no health report",
      this.url,
      "GET",
      "/health",
      answer.httpStatus,
    );
  }

  registerWorker(registration: RegisterWorkerRequest): Promise<WorkerRegistered> {
    return this.send("POST", "/v1/workers", { body: registration });
  }

  heartbeat(workerId: string, heartbeat: HeartbeatRequest): Promise<HeartbeatAnswer> {
    return this.send("PUT", `/v1/workers/${segment(workerId)}/heartbeat`, { body: heartbeat });
  }

  deregisterWorker(workerId: string, options: { timeoutMs?: number } = {}): Promise<WorkerDeregistered> {
    return this.send("DELETE", `/v1/workers/${segment(workerId)}`, options);
  }

  listWorkers(): Promise<WorkerView[]> {
    return this.get("/v1/workers");
  }

  // --- bus inspection ---------------------------------------------------------------------------------------------

  busGroups(query: { stream?: string } = {}): Promise<GroupInfo[]> {
    return this.get("/bus/groups", query);
  }

  busLag(query: { topic: string; agent: string }): Promise<GroupLag> {
    return this.get("/bus/lag", query);
  }

  dlqList(query: {
    topic: string;
    agent: string;
    limit?: number | string;
    error_class?: string;
    reason?: string;
  }): Promise<DlqEntry[]> {
    return this.get("/bus/dlq", query);
  }

  dlqSummary(query: { topic: string; agent: string }): Promise<DlqSummary> {
    return this.get("/bus/dlq/summary", query);
  }

  dlqReplay(request: DlqReplayRequest, options: { timeoutMs?: number } = {}): Promise<DlqReplayResult> {
    return this.send("POST", "/bus/dlq/replay", { ...options, body: request });
  }

  dlqPurge(
    request: { topic: string; agent: string },
    options: { timeoutMs?: number } = {},
  ): Promise<DlqPurged> {
    return this.send("POST", "/bus/dlq/purge", { ...options, body: request });
  }

  // --- HTTP -------------------------------------------------------------------------------------------------------

  private async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.request<T>("GET", path, { query })).body;
  }

  private async send<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, path, options)).body;
  }

  /** One request: JSON in and out, the token and the actor header. Typed by the caller; the methods above say it. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const target = `${this.url}${path}${queryString(options.query)}`;
    const headers: Record<string, string> = {
      [ACTOR_HEADER]: this.options.actor,
      accept: "application/json",
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(target, {
        method,
        headers,
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new CoordinatorUnreachableError(
        this.url,
        method,
        path,
        networkReason(error, timeoutMs),
        undefined,
        {
          cause: error,
        },
      );
    }
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      const reason = `it answered ${method} ${path} with ${response.status} and a body that is not JSON`;
      throw new CoordinatorUnreachableError(
        this.url,
        method,
        path,
        reason,
        `${this.url} is not the coordinator: ${reason}`,
      );
    }
    if (response.ok || options.accept?.includes(response.status))
      return { status: response.status, body: body as T };
    const error = (
      body as { error?: { code?: unknown; message?: unknown; field?: unknown; known?: unknown } } | null
    )?.error;
    const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
    throw new CoordinatorApiError(
      message,
      this.url,
      method,
      path,
      response.status,
      {
        ...(typeof error?.code === "string" && { code: error.code }),
        ...(typeof error?.field === "string" && { field: error.field }),
        ...(Array.isArray(error?.known) && { known: error.known.map(String) }),
      },
      body,
    );
  }
}

/** What the CLI always accepted as a report: a status word and a list of agents. */
function isHealthReport(body: unknown): body is HealthReport {
  const report = body as Partial<HealthReport> | null;
  return typeof report?.status === "string" && Array.isArray(report.agents);
}

export function queryString(query: Query | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** Path segment, encoded: topics and names are validated by the API, not here. */
function segment(value: string): string {
  return encodeURIComponent(value);
}

function agentPath(topic: string, name: string): string {
  return `/agents/${segment(topic)}/${segment(name)}`;
}
