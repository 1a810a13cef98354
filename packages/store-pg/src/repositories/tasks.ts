import type { ErrorSummary } from "@omnidaemon/protocol";
import type { TaskEventStatus, TaskStatus } from "../task-status";

/** What a task event on `omnidaemon.task-events` carries (camelCase; the wire format is snake_case). */
export interface TaskEvent {
  taskId: string;
  topic: string;
  agent: string;
  /** `retrying` means attempt `attempt` failed and another is scheduled. */
  status: TaskEventStatus;
  /** 1 for the first delivery, 2 for the first retry, … (from 1 again after each replay) */
  attempt: number;
  /** Times the event was replayed from the DLQ; absent means 0. */
  replays?: number;
  /** When it happened, on the worker's clock. */
  at: Date;
  correlationId?: string | null;
  tenantId?: string | null;
  /** Accepted for convenience, not stored: the tasks table has no worker column. */
  workerId?: string | null;
  /** Duration of the attempt that just ended. */
  durationMs?: number | null;
  /** The callback's result (JSON), with `completed`. */
  result?: unknown;
  error?: TaskError | null;
}

/** An error as the task event reports it: the protocol's summary. */
export type TaskError = ErrorSummary;

export interface TaskRecord {
  taskId: string;
  /** The agent this record is about; `null` for the placeholder written at publish time (see `createPending`). */
  agent: string | null;
  topic: string;
  status: TaskStatus;
  /** Attempts made so far: 0 while pending (since the last replay, once replayed). */
  attempts: number;
  /** Times the task was replayed from the DLQ (0: never). */
  replays: number;
  /** The callback's result once completed; `null` before. */
  result: unknown;
  /** The last error reported, kept after a later attempt succeeds. */
  lastError: TaskError | null;
  correlationId: string | null;
  tenantId: string | null;
  createdAt: Date;
  /** When the first attempt started. */
  startedAt: Date | null;
  /** When the last attempt ended (cleared when a retry starts). */
  finishedAt: Date | null;
  /** Duration of the last attempt that ended. */
  durationMs: number | null;
  updatedAt: Date;
  /** The sweeper (`deleteExpired`) removes the record after this. */
  expiresAt: Date;
}

export interface NewPendingTask {
  taskId: string;
  topic: string;
  /** The agent, when the publisher targets one; omit for "whichever agents the topic has". */
  agent?: string;
  correlationId?: string | null;
  tenantId?: string | null;
  /** How long the record lives if no agent ever reports. @default the store's `resultTtlMs` */
  ttlMs?: number;
}

export interface TaskListOptions {
  topic?: string;
  status?: TaskStatus;
  /** Only the records of tasks with this correlation id. */
  correlationId?: string;
  /** 1…1000. @default 100 */
  limit?: number;
}

export interface TasksRepository {
  /**
   * Writes the `pending` record of a published task. Without `agent` this is a placeholder (agent `null`) that
   * stands for the task until the first agent reports; `get` and `list` then show the agents' records instead.
   * Does nothing when the record exists (a retried publish, or events that overtook it). True when written.
   */
  createPending(task: NewPendingTask): Promise<boolean>;
  /**
   * Folds one task event into the record of (task, agent), creating it if needed, in one atomic statement.
   * The record never moves backwards (see `shouldApply`): `completed` and `dead_lettered` are final, a later
   * attempt wins, within one attempt only a higher status wins, and an earlier attempt's event is ignored.
   * Each applied event sets `expiresAt = at + ttlMs`, which for the final event is `finishedAt + ttl`.
   * Returns the record after the event, or undefined when the event was ignored (duplicate, late or stale).
   */
  applyEvent(event: TaskEvent, options?: { ttlMs?: number }): Promise<TaskRecord | undefined>;
  /**
   * `applyEvent` for a batch, in order, as ONE statement: all of them or none (so a consumer commits its offsets
   * only after the whole batch is in). The final records are exactly those applying the events one by one gives.
   * One result per event: the record after the whole batch when the event was applied, undefined when ignored.
   */
  applyEvents(
    events: readonly TaskEvent[],
    options?: { ttlMs?: number },
  ): Promise<(TaskRecord | undefined)[]>;
  /** The records of one task (one per agent) ordered by agent; the placeholder only while no agent reported. */
  get(taskId: string): Promise<TaskRecord[]>;
  /** Recent records, newest first, placeholders only for tasks no agent reported on yet. */
  list(options?: TaskListOptions): Promise<TaskRecord[]>;
  /** Deletes records whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpired(now?: Date): Promise<number>;
}
