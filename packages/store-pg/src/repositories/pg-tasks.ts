import { and, asc, desc, eq, lte, ne, notExists, notInArray, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { StoreError } from "../errors";
import { toStorableJson, toStorableText } from "../storable-json";
import { tasks, type TaskErrorJson } from "../schema";
import {
  recordStatusOf,
  TASK_EVENT_STATUSES,
  TASK_STATUS_RANK,
  TASK_STATUSES,
  TERMINAL_TASK_STATUSES,
} from "../task-status";
import { listLimit, requireCount, requireMs, requireText, run, type Db, type DbAccess } from "./context";
import type { NewPendingTask, TaskEvent, TaskListOptions, TaskRecord, TasksRepository } from "./tasks";

/** `tasks.agent` of the placeholder record. */
const UNCLAIMED = "";

type TaskRow = typeof tasks.$inferSelect;

function toRecord(row: TaskRow): TaskRecord {
  return {
    taskId: row.taskId,
    agent: row.agent === UNCLAIMED ? null : row.agent,
    topic: row.topic,
    status: row.status,
    attempts: row.attempts,
    result: row.result ?? null,
    lastError: row.lastError ?? null,
    correlationId: row.correlationId,
    tenantId: row.tenantId,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    durationMs: row.durationMs,
    updatedAt: row.updatedAt,
    expiresAt: row.expiresAt,
  };
}

/** `TASK_STATUS_RANK` as a SQL expression, so the upsert's rule and `shouldApply` share one table. */
function rankOf(status: SQL): SQL {
  const cases = Object.entries(TASK_STATUS_RANK).map(
    ([name, rank]) => sql`when ${name} then ${sql.raw(String(rank))}`,
  );
  return sql`(case ${status} ${sql.join(cases, sql` `)} end)`;
}

function validateEvent(event: TaskEvent): void {
  requireText("taskId", event.taskId);
  requireText("topic", event.topic);
  requireText("agent", event.agent);
  if (!TASK_EVENT_STATUSES.includes(event.status)) {
    throw new StoreError(
      "INVALID_INPUT",
      `status must be one of ${TASK_EVENT_STATUSES.join(", ")}, got ${String(event.status)}`,
      { field: "status" },
    );
  }
  requireCount("attempt", event.attempt, { min: 1 });
  if (!(event.at instanceof Date) || Number.isNaN(event.at.getTime())) {
    throw new StoreError("INVALID_INPUT", "at must be a valid Date", { field: "at" });
  }
  if (event.durationMs !== undefined && event.durationMs !== null) requireMs("durationMs", event.durationMs);
  const error = event.error;
  if (error !== undefined && error !== null) {
    if (typeof error.class !== "string" || typeof error.message !== "string") {
      throw new StoreError("INVALID_INPUT", "error must be { class: string, message: string }", {
        field: "error",
      });
    }
  }
}

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

function storableEvent(event: TaskEvent): TaskEvent {
  const nullableText = (value: string | null | undefined) =>
    value === undefined || value === null ? value : toStorableText(value);
  return {
    ...event,
    taskId: toStorableText(event.taskId),
    topic: toStorableText(event.topic),
    agent: toStorableText(event.agent),
    correlationId: nullableText(event.correlationId),
    tenantId: nullableText(event.tenantId),
    ...(event.result === undefined ? {} : { result: toStorableJson(event.result) }),
    error:
      event.error === undefined || event.error === null
        ? event.error
        : { class: toStorableText(event.error.class), message: toStorableText(event.error.message) },
  };
}

/**
 * The upsert behind `applyEvent`: one statement, so its rule is checked on the locked current row. What a worker
 * reported is stored in a form Postgres can hold (U+0000 and lone surrogates become U+FFFD): a result is data to
 * keep, and a refused row would stop the ingestion of every later event.
 */
async function upsertEvent(db: Db | Tx, reported: TaskEvent, ttlMs: number): Promise<TaskRecord | undefined> {
  const event = storableEvent(reported);
  const status = recordStatusOf(event.status);
  const ended = status !== "processing";
  const error: TaskErrorJson | null = event.error
    ? { class: event.error.class, message: event.error.message }
    : null;
  const [row] = await db
    .insert(tasks)
    .values({
      taskId: event.taskId,
      agent: event.agent,
      topic: event.topic,
      status,
      attempts: event.attempt,
      result: status === "completed" ? (event.result ?? null) : null,
      lastError: error,
      correlationId: event.correlationId ?? null,
      tenantId: event.tenantId ?? null,
      createdAt: event.at,
      startedAt: status === "processing" ? event.at : null,
      finishedAt: ended ? event.at : null,
      durationMs: event.durationMs == null ? null : Math.round(event.durationMs),
      expiresAt: new Date(event.at.getTime() + ttlMs),
    })
    .onConflictDoUpdate({
      target: [tasks.taskId, tasks.agent],
      set: {
        status: sql`excluded.status`,
        attempts: sql`excluded.attempts`,
        result: sql`coalesce(excluded.result, ${tasks.result})`,
        lastError: sql`coalesce(excluded.last_error, ${tasks.lastError})`,
        correlationId: sql`coalesce(${tasks.correlationId}, excluded.correlation_id)`,
        tenantId: sql`coalesce(${tasks.tenantId}, excluded.tenant_id)`,
        startedAt: sql`coalesce(${tasks.startedAt}, excluded.started_at)`,
        // A retry starting clears the previous attempt's end.
        finishedAt: sql`excluded.finished_at`,
        durationMs: sql`coalesce(excluded.duration_ms, ${tasks.durationMs})`,
        updatedAt: sql`now()`,
        expiresAt: sql`excluded.expires_at`,
      },
      // shouldApply() in SQL: evaluated on the locked current row, so concurrent events cannot interleave.
      setWhere: and(
        notInArray(tasks.status, [...TERMINAL_TASK_STATUSES]),
        sql`(excluded.attempts > ${tasks.attempts} or (excluded.attempts = ${tasks.attempts} and ${rankOf(
          sql`excluded.status`,
        )} > ${rankOf(sql`${tasks.status}`)}))`,
      ),
    })
    .returning();
  return row === undefined ? undefined : toRecord(row);
}

export class PgTasksRepository implements TasksRepository {
  constructor(
    private readonly access: DbAccess,
    private readonly defaultTtlMs: number,
  ) {}

  async createPending(task: NewPendingTask): Promise<boolean> {
    requireText("taskId", task.taskId);
    requireText("topic", task.topic);
    if (task.agent !== undefined) requireText("agent", task.agent);
    const ttlMs = requireMs("ttlMs", task.ttlMs ?? this.defaultTtlMs);
    return run(this.access, "writing a pending task", async (db) => {
      const rows = await db
        .insert(tasks)
        .values({
          taskId: task.taskId,
          agent: task.agent ?? UNCLAIMED,
          topic: task.topic,
          status: "pending",
          attempts: 0,
          correlationId: task.correlationId ?? null,
          tenantId: task.tenantId ?? null,
          expiresAt: sql`now() + ${ttlMs}::double precision * interval '1 millisecond'`,
        })
        .onConflictDoNothing()
        .returning({ taskId: tasks.taskId });
      return rows.length > 0;
    });
  }

  async applyEvent(event: TaskEvent, options: { ttlMs?: number } = {}): Promise<TaskRecord | undefined> {
    validateEvent(event);
    const ttlMs = requireMs("ttlMs", options.ttlMs ?? this.defaultTtlMs);
    return run(this.access, "applying a task event", (db) => upsertEvent(db, event, ttlMs));
  }

  async applyEvents(
    events: readonly TaskEvent[],
    options: { ttlMs?: number } = {},
  ): Promise<(TaskRecord | undefined)[]> {
    if (!Array.isArray(events))
      throw new StoreError("INVALID_INPUT", "events must be an array", { field: "events" });
    events.forEach(validateEvent);
    const ttlMs = requireMs("ttlMs", options.ttlMs ?? this.defaultTtlMs);
    if (events.length === 0) return [];
    return run(this.access, "applying task events", (db) =>
      db.transaction(async (tx) => {
        const records: (TaskRecord | undefined)[] = [];
        // One statement per event, in order: a multi-row upsert cannot touch one record twice.
        for (const event of events) records.push(await upsertEvent(tx, event, ttlMs));
        return records;
      }),
    );
  }

  async get(taskId: string): Promise<TaskRecord[]> {
    requireText("taskId", taskId);
    return run(this.access, "reading a task", async (db) => {
      const rows = await db.select().from(tasks).where(eq(tasks.taskId, taskId)).orderBy(asc(tasks.agent));
      const claimed = rows.filter((row) => row.agent !== UNCLAIMED);
      return (claimed.length > 0 ? claimed : rows).map(toRecord);
    });
  }

  async list(options: TaskListOptions = {}): Promise<TaskRecord[]> {
    const limit = listLimit(options.limit);
    if (options.status !== undefined && !TASK_STATUSES.includes(options.status)) {
      throw new StoreError(
        "INVALID_INPUT",
        `status must be one of ${TASK_STATUSES.join(", ")}, got ${String(options.status)}`,
        { field: "status" },
      );
    }
    return run(this.access, "listing tasks", async (db) => {
      const claimed = alias(tasks, "claimed");
      const rows = await db
        .select()
        .from(tasks)
        .where(
          and(
            options.topic === undefined ? undefined : eq(tasks.topic, options.topic),
            options.status === undefined ? undefined : eq(tasks.status, options.status),
            or(
              ne(tasks.agent, UNCLAIMED),
              notExists(
                db
                  .select({ one: sql`1` })
                  .from(claimed)
                  .where(and(eq(claimed.taskId, tasks.taskId), ne(claimed.agent, UNCLAIMED))),
              ),
            ),
          ),
        )
        .orderBy(desc(tasks.createdAt), asc(tasks.taskId), asc(tasks.agent))
        .limit(limit);
      return rows.map(toRecord);
    });
  }

  async deleteExpired(now: Date = new Date()): Promise<number> {
    return run(this.access, "deleting expired tasks", async (db) => {
      const result = await db.delete(tasks).where(lte(tasks.expiresAt, now));
      return result.rowCount ?? 0;
    });
  }
}
