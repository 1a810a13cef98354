import { sql } from "drizzle-orm";
import type { ErrorSummary, TaskStatus } from "@omnidaemon/protocol";
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** `tasks.last_error`, as the task event carries it. */
export type TaskErrorJson = ErrorSummary;

export const tasks = pgTable(
  "tasks",
  {
    taskId: text("task_id").notNull(),
    // '' is the placeholder record `POST /tasks` writes before any agent reported (see TasksRepository).
    agent: text("agent").notNull(),
    topic: text("topic").notNull(),
    status: text("status").$type<TaskStatus>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    // Times the task's event was replayed from the DLQ: each replay starts the record over (see shouldApply).
    replays: integer("replays").notNull().default(0),
    result: jsonb("result"),
    lastError: jsonb("last_error").$type<TaskErrorJson>(),
    correlationId: text("correlation_id"),
    tenantId: text("tenant_id"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    durationMs: integer("duration_ms"),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    primaryKey({ name: "tasks_pkey", columns: [t.taskId, t.agent] }),
    // The values of TASK_STATUSES (protocol); a unit test checks the committed migration lists exactly those.
    check(
      "tasks_status_check",
      sql`${t.status} in ('pending', 'processing', 'completed', 'failed', 'dead_lettered')`,
    ),
    index("tasks_expires_at_idx").on(t.expiresAt),
    index("tasks_topic_created_at_idx").on(t.topic, t.createdAt),
    index("tasks_created_at_idx").on(t.createdAt),
    // Looking a conversation up by its correlation id (GET /tasks?correlation_id=, the console's task search).
    index("tasks_correlation_id_idx").on(t.correlationId),
  ],
);
