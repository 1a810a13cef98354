import type {
  DlqEntry,
  DlqFilter,
  DlqReplayOptions,
  DlqReplayResult,
  DlqSummary,
  GroupInfo,
  GroupLag,
} from "@omnidaemon/bus-kafka";
import type { HealthReport, LimitsOverride, ParsedRequestOf, WorkerAgentStatus } from "@omnidaemon/protocol";
import type {
  AgentRecord,
  AuditEntry,
  CounterSummary,
  TaskListOptions,
  TaskRecord,
  WorkerRecord,
  WorkerRegistration,
} from "@omnidaemon/store-pg";

/*
 * The coordinator's services, by concern, as the HTTP layer sees them. Routes validate input with the protocol's
 * schemas, call one service, and turn its answer into the protocol's response (http/views.ts): services speak the
 * domain (store-pg's records, bus-kafka's objects, camelCase), the API speaks snake_case, and the one conversion
 * happens at the HTTP edge. Services never see HTTP.
 *
 * Errors: services throw `CoordinatorError` with a closed code; the HTTP layer maps codes to status codes
 * (invalid_input 400, not_found 404, conflict 409, unavailable 503).
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

export interface Actor {
  /** Who asked: from the `X-Omnidaemon-Actor` header (CLI sends user@host), else "api". */
  name: string;
}

/** A registered agent with what the registry derives for it. */
export interface RegisteredAgent extends AgentRecord {
  /** Live workers whose heartbeat says they consume this agent now. */
  liveConsumers: number;
  consumerGroup: string;
  dlqTopic: string;
}

/** An agent definition as `POST /agents` validated it. */
export type AgentDefinitionInput = ParsedRequestOf<"registerAgentBody">;

/** Registry and desired state (routes/agents.ts). */
export interface RegistryService {
  listAgents(): Promise<RegisteredAgent[]>;
  getAgent(topic: string, name: string): Promise<RegisteredAgent>;
  registerAgent(input: AgentDefinitionInput, actor: Actor): Promise<RegisteredAgent>;
  pauseAgent(topic: string, name: string, actor: Actor): Promise<RegisteredAgent>;
  resumeAgent(topic: string, name: string, actor: Actor): Promise<RegisteredAgent>;
  /** Replaces the operator's limits override (null: removes it); every worker applies it from the control topic. */
  setLimits(
    topic: string,
    name: string,
    override: LimitsOverride | null,
    actor: Actor,
  ): Promise<RegisteredAgent>;
  deleteAgent(
    topic: string,
    name: string,
    options: { deleteGroup: boolean; deleteDlq: boolean },
    actor: Actor,
  ): Promise<{ deleted: boolean; cleanupPending: boolean }>;
  deleteTopic(topic: string, actor: Actor): Promise<{ deleted: number }>;
  clearAgents(actor: Actor): Promise<{ deleted: number }>;
  auditLog(options: { limit: number; topic?: string; agent?: string }): Promise<AuditEntry[]>;
}

/** What publishing an event takes, after either request shape was read (routes/tasks.ts). */
export interface PublishTaskInput {
  topic: string;
  content: unknown;
  id?: string;
  key?: string;
  correlationId?: string;
  causationId?: string;
  tenantId?: string;
  source?: string;
  webhook?: string;
  replyTo?: string;
}

/** What an agent's counters rose by during one sampling interval, ending at `at`. */
export interface CounterInterval {
  at: Date;
  intervalMs: number;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  deadLettered: number;
}

/** An agent's recent counter deltas, oldest first, as this coordinator sampled them every `sampleIntervalMs`. */
export interface CounterHistory {
  topic: string;
  agent: string;
  sampleIntervalMs: number;
  points: CounterInterval[];
}

/** Tasks: publishing, records and the counters they feed (routes/tasks.ts). */
export interface TaskService {
  publishTask(input: PublishTaskInput, actor: Actor): Promise<{ taskId: string; topic: string }>;
  getTask(taskId: string): Promise<TaskRecord[]>;
  /** Newest first; the route always states a limit. */
  listTasks(options: TaskListOptions & { limit: number }): Promise<TaskRecord[]>;
  metricsSummary(options: { topic?: string }): Promise<CounterSummary[]>;
  /** The agent's recent throughput and failures (404 for an agent that is not registered). */
  metricsHistory(topic: string, agent: string): Promise<CounterHistory>;
}

/** A worker row and whether its heartbeat is live. */
export interface WorkerState extends WorkerRecord {
  live: boolean;
}

/** Fleet health: the workers' protocol and the health computed from it (routes/fleet.ts). */
export interface FleetService {
  /** The fleet's health report: a computed view with no stored record behind it, so in the API's shape. */
  health(): Promise<HealthReport>;
  registerWorker(input: WorkerRegistration): Promise<{ heartbeatIntervalMs: number }>;
  heartbeat(id: string, agents: WorkerAgentStatus[]): Promise<{ known: boolean }>;
  deregisterWorker(id: string): Promise<void>;
  listWorkers(): Promise<WorkerState[]>;
}

/** What an agent's DLQ holds (bus-kafka's count), and which agent and DLQ topic it is. */
export interface AgentDlqSummary extends DlqSummary {
  topic: string;
  agent: string;
  dlqTopic: string;
}

/** Bus inspection through bus-kafka: groups, lag, the dead-letter queues (routes/bus.ts). */
export interface BusService {
  busGroups(options: { stream?: string }): Promise<GroupInfo[]>;
  busLag(topic: string, agent: string): Promise<GroupLag>;
  dlqList(topic: string, agent: string, options: { limit: number; filter?: DlqFilter }): Promise<DlqEntry[]>;
  dlqSummary(topic: string, agent: string): Promise<AgentDlqSummary>;
  dlqReplay(topic: string, agent: string, options: DlqReplayOptions, actor: Actor): Promise<DlqReplayResult>;
  dlqPurge(topic: string, agent: string, actor: Actor): Promise<{ deleted: number }>;
}

/** Every service the HTTP layer serves, by concern. */
export interface CoordinatorServices {
  registry: RegistryService;
  tasks: TaskService;
  fleet: FleetService;
  bus: BusService;
}
