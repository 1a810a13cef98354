import { z } from "zod";
import { errorSummarySchema, TASK_STATUSES } from "../vocabulary";
import { isoTime, limitQuery, nameFields, shortText, type DomainRules } from "./fields";

/*
 * Tasks: publishing, task records (one per task and agent), and the per-agent counters they feed.
 */

/** One task record: the task as one agent handled it. */
export const taskRecordSchema = z.object({
  task_id: z.string(),
  topic: z.string(),
  agent: z.string().meta({ description: "Empty while no agent has picked the task up" }),
  status: z.enum(TASK_STATUSES),
  attempts: z
    .number()
    .int()
    .meta({ description: "Attempts since the last replay from the DLQ (0 while pending)" }),
  // A default, so a client reads the answer of a coordinator older than the field.
  replays: z
    .number()
    .int()
    .default(0)
    .meta({ description: "Times the task was replayed from the DLQ (0: never)" }),
  result: z.unknown(),
  last_error: errorSummarySchema.nullable(),
  correlation_id: z.string().nullable(),
  tenant_id: z.string().nullable(),
  created_at: isoTime,
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
  duration_ms: z.number().nullable(),
  expires_at: isoTime.nullable(),
});
export type TaskRecord = z.output<typeof taskRecordSchema>;

/** `GET /tasks/{id}`: the task's records, one per agent (fan-out). */
export const taskSchema = z.object({ task_id: z.string(), records: z.array(taskRecordSchema) });
export type TaskView = z.output<typeof taskSchema>;

/** `POST /tasks` and `POST /publish-tasks`. */
export const publishedSchema = z.object({
  task_id: z.string(),
  topic: z.string(),
  status: z.literal("published"),
});
export type Published = z.output<typeof publishedSchema>;

/** `GET /metrics/summary`: lifetime counters and latency percentiles of one agent. */
export const metricsSummarySchema = z.object({
  topic: z.string(),
  agent: z.string(),
  received: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  retried: z.number(),
  dead_lettered: z.number(),
  latency_ms: z.object({
    p50: z.number().nullable(),
    p95: z.number().nullable(),
    p99: z.number().nullable(),
    mean: z.number().nullable(),
    count: z.number(),
  }),
});
export type MetricsSummary = z.output<typeof metricsSummarySchema>;

/** What an agent did during one sampling interval (the increase of its counters), ending at `at`. */
export const metricsHistoryPointSchema = z.object({
  at: isoTime.meta({ description: "End of the interval" }),
  interval_ms: z.number().int(),
  received: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  retried: z.number(),
  dead_lettered: z.number(),
});
export type MetricsHistoryPoint = z.output<typeof metricsHistoryPointSchema>;

/** `GET /metrics/history`: the agent's recent intervals, oldest first, from the answering coordinator's samples. */
export const metricsHistorySchema = z.object({
  topic: z.string(),
  agent: z.string(),
  sample_interval_ms: z
    .number()
    .int()
    .meta({ description: "How often this coordinator samples the counters" }),
  points: z
    .array(metricsHistoryPointSchema)
    .meta({ description: "Counter increases per interval, oldest first (the last 15 minutes by default)" }),
});
export type MetricsHistory = z.output<typeof metricsHistorySchema>;

// The pattern is what /openapi.json states; it is narrower than a WHATWG URL (a host name ending in a letter, a
// port below 10000, plain path characters), so every URL it matches parses.
const WEBHOOK_PATTERN =
  /^https?:\/\/(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?::[1-9][0-9]{0,3})?(?:\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$/;

/** The task requests under `rules` (see {@link DomainRules}). */
export function taskRequests(rules: DomainRules) {
  const { topic, agentName } = nameFields(rules);
  // Same bounds as the bus envelope (wire/envelope.ts), so bad input fails at the API with a 400.
  const optionalText = shortText(1024).nullish();
  const webhook = z
    .url({ protocol: /^https?$/, error: "expected an http(s) URL" })
    .max(2048)
    .regex(WEBHOOK_PATTERN, "expected an http(s) URL with a host name")
    .nullish();
  const replyTo = topic().nullish();
  const content = z.unknown().meta({ description: "Any JSON value" });

  /**
   * A publish request, in either shape:
   * - ours: `{ topic, content, correlation_id?, tenant_id?, source?, webhook?, reply_to?, key?, id? }`;
   * - the reference system's `EventEnvelope`: `{ topic, payload: { content, webhook?, reply_to? }, id?,
   *   correlation_id?, causation_id?, tenant_id?, source?, created_at?, delivery_attempts? }`.
   * As in the reference system, `created_at` and `delivery_attempts` are accepted and reset by the publisher.
   */
  const publishTaskBody = z
    .object({
      topic: topic(),
      content: content.optional(),
      payload: z
        .object({ content, webhook, reply_to: replyTo })
        .optional()
        .meta({ description: "The reference system's shape: { content, webhook?, reply_to? }" }),
      id: shortText(256).optional().meta({ description: "Task id; a UUID by default" }),
      correlation_id: optionalText,
      causation_id: optionalText,
      tenant_id: optionalText,
      source: optionalText,
      webhook,
      reply_to: replyTo,
      key: shortText(1024)
        .optional()
        .meta({ description: "Kafka key; the correlation id, else the task id" }),
      created_at: z
        .number()
        .nonnegative()
        .optional()
        .meta({ description: "Ignored (reference compatibility)" }),
      delivery_attempts: z.number().int().min(1).optional().meta({ description: "Ignored" }),
    })
    // The superRefine below, stated for /openapi.json: content or payload (exactly one), and webhook / reply_to
    // not both at the top level and inside payload.
    .meta({
      oneOf: [{ required: ["content"] }, { required: ["payload"] }],
      allOf: (["webhook", "reply_to"] as const).map((key) => ({
        not: {
          required: [key, "payload"],
          properties: {
            [key]: { type: "string" },
            payload: { required: [key], properties: { [key]: { type: "string" } } },
          },
        },
      })),
    })
    .superRefine((body, ctx) => {
      const { payload } = body;
      if (payload === undefined) {
        if (body.content === undefined) {
          ctx.addIssue({ code: "custom", path: ["content"], message: "is required (or payload.content)" });
        }
        return;
      }
      if (body.content !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["content"],
          message: "give content or payload.content, not both",
        });
      }
      if (payload.content === undefined) {
        ctx.addIssue({ code: "custom", path: ["payload", "content"], message: "is required" });
      }
      for (const key of ["webhook", "reply_to"] as const) {
        if (payload[key] != null && body[key] != null) {
          ctx.addIssue({ code: "custom", path: [key], message: `give ${key} or payload.${key}, not both` });
        }
      }
    });

  return {
    publishTaskBody,
    taskParams: z.object({ id: shortText(256) }),
    listTasksQuery: z.object({
      topic: topic().optional(),
      status: z.enum(TASK_STATUSES).optional(),
      correlation_id: shortText(1024)
        .optional()
        .meta({ description: "Only the records of tasks with this correlation id" }),
      limit: limitQuery(100, 1000),
    }),
    metricsSummaryQuery: z.object({ topic: topic().optional() }),
    metricsHistoryQuery: z.object({ topic: topic(), agent: agentName() }),
  };
}
