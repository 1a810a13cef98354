/** Status of a task record (one per task and agent). */
export const TASK_STATUSES = ["pending", "processing", "completed", "failed", "dead_lettered"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** `status` of a task event on `omnidaemon.task-events`. */
export const TASK_EVENT_STATUSES = [
  "processing",
  "completed",
  "failed",
  "retrying",
  "dead_lettered",
] as const;
export type TaskEventStatus = (typeof TASK_EVENT_STATUSES)[number];

/** Statuses a record never leaves. */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ["completed", "dead_lettered"];

/**
 * Order of statuses within one attempt. `failed` sits below the terminal statuses because a failed attempt may
 * still end in the DLQ (or, after a retry, in success).
 */
export const TASK_STATUS_RANK: Readonly<Record<TaskStatus, number>> = {
  pending: 0,
  processing: 1,
  failed: 2,
  completed: 3,
  dead_lettered: 3,
};

/**
 * The record status an event stands for. `retrying` ("attempt N failed, N + 1 is scheduled") is a failed attempt
 * as far as the record goes; the retry shows up when its `processing` event arrives with attempt N + 1.
 */
export function recordStatusOf(eventStatus: TaskEventStatus): TaskStatus {
  return eventStatus === "retrying" ? "failed" : eventStatus;
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.includes(status);
}

/** The part of a record that decides whether an event moves it. */
export interface TaskProgress {
  status: TaskStatus;
  /** Attempt number: 0 for a pending record, 1 for the first delivery, 2 for the first retry, … */
  attempts: number;
}

/**
 * Whether an event (already mapped by {@link recordStatusOf}) moves a record. Records never move backwards:
 *
 * - no record yet: the event creates it;
 * - `completed` and `dead_lettered` are final: later events (duplicates, late `processing`) are ignored;
 * - an event of a later attempt wins (`failed` at 1 → `processing` at 2 is a retry starting);
 * - an event of the same attempt wins only with a higher status (`processing` → `failed` → `dead_lettered`);
 * - an event of an earlier attempt is stale and ignored.
 *
 * The SQL upsert of `TasksRepository.applyEvent` encodes the same rule (its WHERE clause is built from
 * {@link TASK_STATUS_RANK}); an integration test checks the two agree on every combination.
 */
export function shouldApply(current: TaskProgress | undefined, next: TaskProgress): boolean {
  if (current === undefined) return true;
  if (isTerminal(current.status)) return false;
  if (next.attempts !== current.attempts) return next.attempts > current.attempts;
  return TASK_STATUS_RANK[next.status] > TASK_STATUS_RANK[current.status];
}
