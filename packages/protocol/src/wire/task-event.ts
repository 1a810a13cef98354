import { z } from "zod";
import { errorSummarySchema, TASK_EVENT_STATUSES } from "../vocabulary";

/**
 * A task status transition, reported by a worker to the coordinator through Kafka (`omnidaemon.task-events`, keyed
 * by task id; docs/control-plane.md). snake_case on the wire, like the envelope.
 */
export const taskEventSchema = z.object({
  task_id: z.string().min(1),
  topic: z.string().min(1),
  agent: z.string().min(1),
  status: z.enum(TASK_EVENT_STATUSES),
  attempt: z.number().int().min(1),
  /**
   * Times the event was replayed from the DLQ; absent means 0. A replay starts the task's record over (attempts
   * count from 1 again), so a dead-lettered task that succeeds when replayed ends `completed`.
   */
  replays: z.number().int().min(0).optional(),
  at: z.string(),
  correlation_id: z.string().nullish(),
  tenant_id: z.string().nullish(),
  worker_id: z.string().nullish(),
  duration_ms: z.number().nonnegative().nullish(),
  result: z.unknown().optional(),
  error: errorSummarySchema.nullish(),
  /** Set on the end of a delivery that ended before its `processing` event was due (so it was never sent). */
  processing_skipped: z.boolean().optional(),
});

export type TaskEvent = z.output<typeof taskEventSchema>;

/** The task event a parsed record holds, or undefined when it is not one (the ingestor skips and logs it). */
export function parseTaskEvent(value: unknown): TaskEvent | undefined {
  const result = taskEventSchema.safeParse(value);
  return result.success ? result.data : undefined;
}
