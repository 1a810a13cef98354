import { z } from "zod";
import type { OutgoingRecord } from "./producer";
import { SYSTEM_TOPICS } from "./naming";

export const TASK_EVENT_STATUSES = [
  "processing",
  "completed",
  "failed",
  "retrying",
  "dead_lettered",
] as const;
export type TaskEventStatus = (typeof TASK_EVENT_STATUSES)[number];

/** A task status transition, reported by a worker to the coordinator through Kafka (docs/control-plane.md). */
export const taskEventSchema = z.object({
  task_id: z.string().min(1),
  topic: z.string().min(1),
  agent: z.string().min(1),
  status: z.enum(TASK_EVENT_STATUSES),
  attempt: z.number().int().min(1),
  at: z.string(),
  correlation_id: z.string().nullish(),
  tenant_id: z.string().nullish(),
  worker_id: z.string().nullish(),
  duration_ms: z.number().nonnegative().nullish(),
  result: z.unknown().optional(),
  error: z.object({ class: z.string(), message: z.string() }).nullish(),
  /** Set on the end of a delivery that ended before its `processing` event was due (so it was never sent). */
  processing_skipped: z.boolean().optional(),
});

export type TaskEvent = z.output<typeof taskEventSchema>;

export function taskEventRecord(event: TaskEvent): OutgoingRecord {
  return {
    topic: SYSTEM_TOPICS.taskEvents,
    key: event.task_id,
    value: Buffer.from(JSON.stringify(event)),
  };
}

export function parseTaskEvent(value: unknown): TaskEvent | undefined {
  const result = taskEventSchema.safeParse(value);
  return result.success ? result.data : undefined;
}
