import type { AgentState, WorkerAgentStatus } from "./types";

/**
 * What the coordinator's services need from Postgres. `apps/coordinator/src/store-adapter.ts` implements it over
 * `@omnidaemon/store-pg`; keeping the port here lets the services read as the domain, not as SQL.
 */
export interface AgentRow {
  topic: string;
  name: string;
  description: string;
  version: string | null;
  tags: string[];
  config: Record<string, unknown>;
  state: AgentState;
  revision: number;
  cleanup: { deleteGroup: boolean; deleteDlq: boolean } | null;
  registeredAt: Date;
  updatedAt: Date;
}

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  version: string;
  agents: WorkerAgentStatus[];
  startedAt: Date;
  lastHeartbeat: Date;
}

export interface TaskRow {
  taskId: string;
  topic: string;
  agent: string;
  status: "pending" | "processing" | "completed" | "failed" | "dead_lettered";
  attempts: number;
  result: unknown;
  lastError: { class: string; message: string } | null;
  correlationId: string | null;
  tenantId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  expiresAt: Date | null;
}

export interface CounterDelta {
  received?: number;
  succeeded?: number;
  failed?: number;
  retried?: number;
  deadLettered?: number;
  /** Handler durations of completed events, one entry each. */
  latenciesMs?: number[];
}

export interface CounterSummary {
  topic: string;
  agent: string;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  deadLettered: number;
  latency: { p50: number | null; p95: number | null; p99: number | null; mean: number | null; count: number };
}

export interface TaskEventInput {
  taskId: string;
  topic: string;
  agent: string;
  status: "processing" | "completed" | "failed" | "retrying" | "dead_lettered";
  attempt: number;
  at: Date;
  correlationId: string | null;
  tenantId: string | null;
  durationMs: number | null;
  result?: unknown;
  error: { class: string; message: string } | null;
}

export interface ControlPlaneStore {
  ping(): Promise<{ latencyMs: number }>;
  agents: {
    upsert(def: {
      topic: string;
      name: string;
      description: string;
      version: string | null;
      tags: string[];
      config: Record<string, unknown>;
    }): Promise<AgentRow>;
    get(topic: string, name: string): Promise<AgentRow | undefined>;
    list(): Promise<AgentRow[]>;
    setState(
      topic: string,
      name: string,
      state: AgentState,
      cleanup?: { deleteGroup: boolean; deleteDlq: boolean } | null,
    ): Promise<AgentRow | undefined>;
    listPendingCleanups(): Promise<AgentRow[]>;
    completeCleanup(topic: string, name: string): Promise<void>;
  };
  workers: {
    register(worker: Omit<WorkerRow, "startedAt" | "lastHeartbeat">): Promise<void>;
    heartbeat(id: string, agents: WorkerAgentStatus[]): Promise<boolean>;
    deregister(id: string): Promise<void>;
    listLive(withinMs: number): Promise<WorkerRow[]>;
    list(): Promise<Array<WorkerRow & { stoppedAt: Date | null }>>;
    /** Deletes workers deregistered, or silent, for longer than `olderThanMs`; how many. */
    purgeStopped(olderThanMs: number): Promise<number>;
  };
  tasks: {
    createPending(task: {
      taskId: string;
      topic: string;
      correlationId: string | null;
      tenantId: string | null;
      ttlMs: number;
    }): Promise<void>;
    applyEvents(events: TaskEventInput[], ttlMs: number): Promise<void>;
    get(taskId: string): Promise<TaskRow[]>;
    list(options: {
      topic?: string;
      status?: string;
      correlationId?: string;
      limit: number;
    }): Promise<TaskRow[]>;
    deleteExpired(now: Date): Promise<number>;
  };
  counters: {
    apply(topic: string, agent: string, delta: CounterDelta): Promise<void>;
    summary(options: { topic?: string }): Promise<CounterSummary[]>;
  };
  audit: {
    record(entry: {
      actor: string;
      action: string;
      topic?: string;
      agent?: string;
      details?: Record<string, unknown>;
    }): Promise<void>;
    list(options: { limit: number; topic?: string; agent?: string }): Promise<unknown[]>;
  };
}
