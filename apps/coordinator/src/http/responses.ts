import { z } from "zod";
import type {
  AgentMetricsSummary,
  AgentView,
  DlqSummaryView,
  HealthReport,
  MetricsHistoryView,
  TaskRecordView,
  WorkerView,
} from "../services/types";

/*
 * Response shapes, for the OpenAPI document only (responses are not validated at run time). Each is pinned to the
 * service type it documents, so a field added to or renamed in services/types.ts fails the typecheck here.
 */

const isoTime = z.string().meta({ description: "ISO 8601 time" });
const agentState = z.enum(["active", "paused", "deleted"]);

export const agentViewSchema = z.object({
  topic: z.string(),
  name: z.string(),
  description: z.string(),
  version: z.string().nullable(),
  tags: z.array(z.string()),
  config: z.record(z.string(), z.unknown()),
  state: agentState,
  revision: z.number().int(),
  registered_at: isoTime,
  updated_at: isoTime,
  live_consumers: z.number().int().meta({ description: "Live workers consuming this agent now" }),
  consumer_group: z.string(),
  dlq_topic: z.string(),
});

export const agentsByTopicSchema = z
  .record(z.string(), z.array(agentViewSchema))
  .meta({ description: "Agents by topic, as in the reference system: { topic: [agent, …] }" });

export const desiredStateChangeSchema = z.object({
  status: z.enum(["unsubscribed", "resumed"]),
  topic: z.string(),
  agent: z.string(),
  message: z.string(),
  state: agentState,
  revision: z.number().int(),
});

export const agentDeletedSchema = z.object({
  status: z.literal("deleted"),
  topic: z.string(),
  agent: z.string(),
  deleted: z.boolean(),
  cleanup_pending: z.boolean(),
  cleanup: z.object({
    storage_deleted: z.boolean(),
    consumer_group_deleted: z.boolean(),
    dlq_deleted: z.boolean(),
    delete_group: z.boolean(),
    delete_dlq: z.boolean(),
  }),
});

export const agentsDeletedSchema = z.object({
  status: z.enum(["deleted", "cleared"]),
  topic: z.string().optional(),
  agents_deleted: z.number().int(),
});

const taskStatus = z.enum(["pending", "processing", "completed", "failed", "dead_lettered"]);

export const taskRecordSchema = z.object({
  task_id: z.string(),
  topic: z.string(),
  agent: z.string().meta({ description: "Empty while no agent has picked the task up" }),
  status: taskStatus,
  attempts: z.number().int(),
  result: z.unknown(),
  last_error: z.object({ class: z.string(), message: z.string() }).nullable(),
  correlation_id: z.string().nullable(),
  tenant_id: z.string().nullable(),
  created_at: isoTime,
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
  duration_ms: z.number().nullable(),
  expires_at: isoTime.nullable(),
});

export const taskSchema = z.object({ task_id: z.string(), records: z.array(taskRecordSchema) });

export const publishedSchema = z.object({
  task_id: z.string(),
  topic: z.string(),
  status: z.literal("published"),
});

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

const probe = z.object({ ok: z.boolean(), latency_ms: z.number().optional(), error: z.string().optional() });

export const healthReportSchema = z.object({
  status: z.enum(["running", "stopped", "ready", "degraded", "down"]),
  checked_at: isoTime,
  kafka: probe,
  postgres: probe,
  agents: z.array(
    z.object({ topic: z.string(), name: z.string(), state: agentState, live_consumers: z.number().int() }),
  ),
  workers: z.array(
    z.object({
      id: z.string(),
      host: z.string(),
      pid: z.number().int(),
      started_at: isoTime,
      last_heartbeat: isoTime,
    }),
  ),
  uptime_seconds: z.number().nullable(),
  registered_agents: z.number().int(),
  active_consumers: z.number().int(),
  ingestion: z
    .object({
      running: z.boolean(),
      lag: z.number().int().nullable(),
      restarts: z.number().int(),
      last_error: z.string().optional(),
    })
    .optional(),
});

export const workerAgentStatusSchema = z.object({
  topic: z.string(),
  name: z.string(),
  status: z.enum(["running", "paused", "stopped"]),
  member: z.boolean(),
  assigned_partitions: z.number().int(),
  in_flight: z.number().int(),
});

export const workerViewSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  version: z.string(),
  agents: z.array(workerAgentStatusSchema),
  started_at: isoTime,
  last_heartbeat: isoTime,
  live: z.boolean(),
});

export const metricsHistorySchema = z.object({
  topic: z.string(),
  agent: z.string(),
  sample_interval_ms: z
    .number()
    .int()
    .meta({ description: "How often this coordinator samples the counters" }),
  points: z
    .array(
      z.object({
        at: isoTime.meta({ description: "End of the interval" }),
        interval_ms: z.number().int(),
        received: z.number(),
        succeeded: z.number(),
        failed: z.number(),
        retried: z.number(),
        dead_lettered: z.number(),
      }),
    )
    .meta({ description: "Counter increases per interval, oldest first (the last 15 minutes by default)" }),
});

export const dlqSummarySchema = z.object({
  topic: z.string(),
  agent: z.string(),
  dlq_topic: z.string(),
  entries: z.number().int().meta({ description: "Dead-lettered records (replay markers not counted)" }),
  replayed: z.number().int().meta({ description: "Entries a replay was published for" }),
  error_classes: z.array(z.object({ error_class: z.string(), count: z.number().int() })).meta({
    description: 'Entries per error class, most first; past 100 classes the rest count as "(other)"',
  }),
  reasons: z.array(z.object({ reason: z.string(), count: z.number().int() })),
  oldest_at: z.number().nullable().meta({ description: "Epoch ms the oldest entry reached the DLQ" }),
  newest_at: z.number().nullable().meta({ description: "Epoch ms the newest entry reached the DLQ" }),
});

// Compile-time pins: the schema's output must be the service type.
type Pin<Schema extends z.ZodType, T> = [z.output<Schema>] extends [T]
  ? [T] extends [z.output<Schema>]
    ? true
    : never
  : never;
const _pinned: [
  Pin<typeof agentViewSchema, AgentView>,
  Pin<typeof taskRecordSchema, TaskRecordView>,
  Pin<typeof metricsSummarySchema, AgentMetricsSummary>,
  Pin<typeof healthReportSchema, HealthReport>,
  Pin<typeof workerViewSchema, WorkerView>,
  Pin<typeof dlqSummarySchema, DlqSummaryView>,
  Pin<typeof metricsHistorySchema, MetricsHistoryView>,
] = [true, true, true, true, true, true, true];
