import { isTerminal, type TaskStatus } from "@omnidaemon/protocol";

// The statuses and their mapping are the protocol's vocabulary, re-exported for this package's own files. What is
// store-specific is below: the order the upsert ranks statuses by, and the rule that never moves a record back.
export {
  isTerminal,
  recordStatusOf,
  TASK_EVENT_STATUSES,
  TASK_STATUSES,
  TERMINAL_TASK_STATUSES,
  type TaskEventStatus,
  type TaskStatus,
} from "@omnidaemon/protocol";

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

/** The part of a record that decides whether an event moves it. */
export interface TaskProgress {
  status: TaskStatus;
  /** Attempt number: 0 for a pending record, 1 for the first delivery, 2 for the first retry, … */
  attempts: number;
  /** Times the event was replayed from the DLQ (absent: 0); attempts count from 1 again after each replay. */
  replays?: number;
}

/**
 * Whether an event (already mapped by {@link recordStatusOf}) moves a record. Records never move backwards:
 *
 * - no record yet: the event creates it;
 * - `completed` and `dead_lettered` are final: later events (duplicates, late `processing`) are ignored;
 * - an event of a later attempt wins (`failed` at 1 → `processing` at 2 is a retry starting);
 * - an event of the same attempt wins only with a higher status (`processing` → `failed` → `dead_lettered`);
 * - an event of an earlier attempt is stale and ignored;
 * - all of the above within one replay: an event of a later replay from the DLQ starts the record over (a
 *   dead-lettered task replayed and then completed ends `completed`), and an event of an earlier replay is stale.
 *
 * The SQL upsert of `TasksRepository.applyEvent` encodes the same rule (its WHERE clause is built from
 * {@link TASK_STATUS_RANK}); an integration test checks the two agree on every combination.
 */
export function shouldApply(current: TaskProgress | undefined, next: TaskProgress): boolean {
  if (current === undefined) return true;
  const replays = { current: current.replays ?? 0, next: next.replays ?? 0 };
  if (replays.next !== replays.current) return replays.next > replays.current;
  if (isTerminal(current.status)) return false;
  if (next.attempts !== current.attempts) return next.attempts > current.attempts;
  return TASK_STATUS_RANK[next.status] > TASK_STATUS_RANK[current.status];
}
