// Long on purpose (about 450 lines): every statement on the tasks table sits next to the rule it must keep — a task
// record never moves back (rankOf, the batch upsert) — so that rule is read, and changed, in one place.
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
    replays: row.replays,
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
 * When the attempt an event reports began: a `processing` event's own time; an end event's time minus its duration,
 * so a record written only from its end (a fast delivery skips `processing`, see `reportProcessingAfterMs`) still
 * has a start. The first known start is kept.
 */
function startedAtOf(event: TaskEvent): Date | null {
  if (event.status === "processing") return event.at;
  if (event.durationMs == null) return null;
  return new Date(event.at.getTime() - Math.round(event.durationMs));
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
      replays: event.replays ?? 0,
      result: status === "completed" ? (event.result ?? null) : null,
      lastError: error,
      correlationId: event.correlationId ?? null,
      tenantId: event.tenantId ?? null,
      createdAt: event.at,
      startedAt: startedAtOf(event),
      finishedAt: ended ? event.at : null,
      durationMs: event.durationMs == null ? null : Math.round(event.durationMs),
      expiresAt: new Date(event.at.getTime() + ttlMs),
    })
    .onConflictDoUpdate({
      target: [tasks.taskId, tasks.agent],
      set: {
        status: sql`excluded.status`,
        attempts: sql`excluded.attempts`,
        replays: sql`excluded.replays`,
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
      // A later replay from the DLQ starts the record over; within one replay the rule is as it was.
      setWhere: or(
        sql`excluded.replays > ${tasks.replays}`,
        and(
          sql`excluded.replays = ${tasks.replays}`,
          notInArray(tasks.status, [...TERMINAL_TASK_STATUSES]),
          sql`(excluded.attempts > ${tasks.attempts} or (excluded.attempts = ${tasks.attempts} and ${rankOf(
            sql`excluded.status`,
          )} > ${rankOf(sql`${tasks.status}`)}))`,
        ),
      ),
    })
    .returning();
  return row === undefined ? undefined : toRecord(row);
}

/** One event of a batch as the batch upsert reads it (`jsonb_to_recordset`): snake_case, in batch order. */
interface BatchRow {
  ord: number;
  task_id: string;
  agent: string;
  topic: string;
  status: string;
  attempts: number;
  replays: number;
  result: unknown;
  last_error: TaskErrorJson | null;
  correlation_id: string | null;
  tenant_id: string | null;
  at: string;
  started_at: string | null;
  duration_ms: number | null;
}

function batchRow(reported: TaskEvent, ord: number): BatchRow {
  const event = storableEvent(reported);
  const status = recordStatusOf(event.status);
  return {
    ord,
    task_id: event.taskId,
    agent: event.agent,
    topic: event.topic,
    status,
    attempts: event.attempt,
    replays: event.replays ?? 0,
    result: status === "completed" ? (event.result ?? null) : null,
    last_error: event.error ? { class: event.error.class, message: event.error.message } : null,
    correlation_id: event.correlationId ?? null,
    tenant_id: event.tenantId ?? null,
    at: event.at.toISOString(),
    started_at: startedAtOf(event)?.toISOString() ?? null,
    duration_ms: event.durationMs == null ? null : Math.round(event.durationMs),
  };
}

/** A `tasks` row as `db.execute` returns it (column names, not drizzle's field names). */
type RawTaskRow = {
  task_id: string;
  agent: string;
  topic: string;
  status: TaskRow["status"];
  attempts: number;
  replays: number;
  result: unknown;
  last_error: TaskErrorJson | null;
  correlation_id: string | null;
  tenant_id: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  updated_at: Date;
  expires_at: Date;
};

function fromRaw(row: RawTaskRow): TaskRecord {
  return toRecord({
    taskId: row.task_id,
    agent: row.agent,
    topic: row.topic,
    status: row.status,
    attempts: row.attempts,
    replays: row.replays,
    result: row.result,
    lastError: row.last_error,
    correlationId: row.correlation_id,
    tenantId: row.tenant_id,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  });
}

/**
 * `applyEvent` for a whole batch in ONE statement (issue 13: one upsert per event capped ingestion at ~200/s).
 * A multi-row upsert may touch a row only once, so the batch is folded per (task, agent) in SQL first, with the
 * same rule as applying its events one by one (see `shouldApply`), against the current row:
 *
 * - an event's progress is `replays * 2^40 + attempts * 4 + rank` (rank < 4), so "later replay, or later attempt,
 *   or same attempt and higher status" is one integer comparison;
 * - an event applies when it beats every earlier event of its key in the batch and the current row, the current
 *   row is not final (or the event is of a later replay), and no earlier applied event of its key and replay was
 *   final;
 * - the applied events fold like successive upserts: the last one sets status, attempts, finished and expiry;
 *   result, error and duration are the last ones given; correlation, tenant and start the first ones kept.
 *
 * The upsert's WHERE re-checks the rule on the locked row, so a concurrent writer (another coordinator replica)
 * can never move a record backwards. Values are made storable first (NUL-safe, as `upsertEvent`).
 */
async function upsertBatch(
  db: Db,
  events: readonly TaskEvent[],
  ttlMs: number,
): Promise<(TaskRecord | undefined)[]> {
  const rows = events.map(batchRow);
  const rank = (column: string) => rankOf(sql.raw(column));
  // An event's progress as one integer: replay, then attempt, then status rank (attempts * 4 < 2^33 < 2^40).
  const progress = (table: string) =>
    sql`(${sql.raw(table)}.replays::bigint * 1099511627776 + ${sql.raw(table)}.attempts::bigint * 4 + ${rank(
      `${table}.status`,
    )})`;
  const terminal = sql.raw(TERMINAL_TASK_STATUSES.map((s) => `'${s}'`).join(", "));
  const result = await db.execute<RawTaskRow & { applied_ords: number[] }>(sql`
    with e as (
      select e.*, ${progress("e")} as progress,
             e.status in (${terminal}) as final
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as e(
        ord int, task_id text, agent text, topic text, status text, attempts int, replays int, result jsonb,
        last_error jsonb, correlation_id text, tenant_id text, at timestamptz, started_at timestamptz,
        duration_ms int)
    ),
    ranked as (
      select e.*,
             max(e.progress) over (partition by e.task_id, e.agent order by e.ord
               rows between unbounded preceding and 1 preceding) as best_before,
             coalesce(${progress("cur")}, -1) as current_progress,
             coalesce(cur.status in (${terminal}), false) as current_final,
             coalesce(cur.replays, 0) as current_replays
      from e left join ${tasks} cur on cur.task_id = e.task_id and cur.agent = e.agent
    ),
    beats as (
      select r.*,
             (r.progress > coalesce(r.best_before, -1) and r.progress > r.current_progress
               and (not r.current_final or r.replays > r.current_replays)) as beats
      from ranked r
    ),
    applied as (
      select b.* from (
        select b.*,
               coalesce(bool_or(b.beats and b.final) over (partition by b.task_id, b.agent, b.replays order by b.ord
                 rows between unbounded preceding and 1 preceding), false) as final_before
        from beats b
      ) b
      where b.beats and not b.final_before
    ),
    folded as (
      select task_id, agent,
             (array_agg(topic order by ord))[1] as topic,
             (array_agg(status order by ord desc))[1] as status,
             (array_agg(attempts order by ord desc))[1] as attempts,
             (array_agg(replays order by ord desc))[1] as replays,
             (array_agg(result order by ord desc) filter (where result is not null))[1] as result,
             (array_agg(last_error order by ord desc) filter (where last_error is not null))[1] as last_error,
             (array_agg(correlation_id order by ord) filter (where correlation_id is not null))[1] as correlation_id,
             (array_agg(tenant_id order by ord) filter (where tenant_id is not null))[1] as tenant_id,
             (array_agg(at order by ord))[1] as created_at,
             (array_agg(started_at order by ord) filter (where started_at is not null))[1] as started_at,
             (array_agg(case when status = 'processing' then null else at end order by ord desc))[1] as finished_at,
             (array_agg(duration_ms order by ord desc) filter (where duration_ms is not null))[1] as duration_ms,
             (array_agg(at order by ord desc))[1] as last_at,
             array_agg(ord) as applied_ords
      from applied
      group by task_id, agent
    ),
    upserted as (
      insert into ${tasks} as t (task_id, agent, topic, status, attempts, replays, result, last_error,
        correlation_id, tenant_id, created_at, started_at, finished_at, duration_ms, expires_at)
      select task_id, agent, topic, status, attempts, replays, result, last_error, correlation_id, tenant_id,
             created_at, started_at, finished_at, duration_ms,
             last_at + ${ttlMs}::double precision * interval '1 millisecond'
      from folded
      order by task_id, agent
      on conflict (task_id, agent) do update set
        status = excluded.status,
        attempts = excluded.attempts,
        replays = excluded.replays,
        result = coalesce(excluded.result, t.result),
        last_error = coalesce(excluded.last_error, t.last_error),
        correlation_id = coalesce(t.correlation_id, excluded.correlation_id),
        tenant_id = coalesce(t.tenant_id, excluded.tenant_id),
        started_at = coalesce(t.started_at, excluded.started_at),
        finished_at = excluded.finished_at,
        duration_ms = coalesce(excluded.duration_ms, t.duration_ms),
        updated_at = now(),
        expires_at = excluded.expires_at
      where (t.status not in (${terminal}) or excluded.replays > t.replays)
        and ${progress("excluded")} > ${progress("t")}
      returning t.*
    )
    select u.*, f.applied_ords from upserted u join folded f using (task_id, agent)
  `);
  const byOrd = new Map<number, TaskRecord>();
  for (const row of result.rows) {
    const record = fromRaw(row);
    for (const ord of row.applied_ords) byOrd.set(ord, record);
  }
  return rows.map((row) => byOrd.get(row.ord));
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
    return run(this.access, "applying task events", (db) => upsertBatch(db, events, ttlMs));
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
            options.correlationId === undefined ? undefined : eq(tasks.correlationId, options.correlationId),
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
