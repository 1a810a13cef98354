// The tasks repository against the real Postgres: pending records at publish time, folding task events (never
// backwards, late and duplicate events ignored, retries), batches, listing, and TTL expiry.
import { recordStatusOf, TASK_EVENT_STATUSES, type TaskStatus } from "@omnidaemon/protocol";
import { shouldApply, type PgStore, type TaskEvent, type TaskProgress, type TaskRecord } from "../src";
import { dropSchema, uniqueName, withPostgres } from "@omnidaemon/testkit";
import { newSchema, startStore } from "./support";

const schema = newSchema("tasks");
let store: PgStore;

beforeAll(async () => {
  store = await startStore(schema);
});

afterAll(async () => {
  await store?.stop();
  await dropSchema(schema);
});

const HOUR = 60 * 60 * 1000;
let clock = Date.now() - HOUR;
/** Strictly increasing event times, an hour back so every record is far from expiring. */
const tick = () => new Date((clock += 10));

/** "failed@2", or "processing@1r1" once replayed from the DLQ. */
function progressLabel(p: { status: string; attempts: number; replays?: number }): string {
  return `${p.status}@${p.attempts}${p.replays ? `r${p.replays}` : ""}`;
}

function event(taskId: string, overrides: Partial<TaskEvent> = {}): TaskEvent {
  return {
    taskId,
    topic: "file.uploaded",
    agent: "file-processor",
    status: "processing",
    attempt: 1,
    at: tick(),
    correlationId: "corr-1",
    tenantId: "tenant-1",
    workerId: "worker-1",
    ...overrides,
  };
}

describe("tasks repository", () => {
  it("shows a published task as pending until an agent reports, then the agent's record", async () => {
    const taskId = uniqueName("task");
    expect(
      await store.tasks.createPending({ taskId, topic: "file.uploaded", correlationId: "c", tenantId: "t" }),
    ).toBe(true);
    // Publishing twice (a client retry) changes nothing.
    expect(await store.tasks.createPending({ taskId, topic: "file.uploaded" })).toBe(false);

    const pending = await store.tasks.get(taskId);
    expect(pending).toEqual([
      expect.objectContaining({
        taskId,
        agent: null,
        status: "pending",
        attempts: 0,
        correlationId: "c",
        tenantId: "t",
        result: null,
        startedAt: null,
      }),
    ]);
    const ttl = pending[0]!.expiresAt.getTime() - pending[0]!.createdAt.getTime();
    expect(ttl).toBeGreaterThan(24 * HOUR - 5000);
    expect(ttl).toBeLessThanOrEqual(24 * HOUR + 5000);

    await store.tasks.applyEvent(event(taskId));
    expect(await store.tasks.get(taskId)).toEqual([
      expect.objectContaining({ agent: "file-processor", status: "processing", attempts: 1 }),
    ]);
  });

  it("folds a successful run: processing → completed with result, timings and expiry from finishedAt", async () => {
    const taskId = uniqueName("task");
    const started = await store.tasks.applyEvent(event(taskId));
    expect(started).toMatchObject({ status: "processing", attempts: 1, finishedAt: null });
    const doneAt = tick();
    const done = await store.tasks.applyEvent(
      event(taskId, { status: "completed", at: doneAt, durationMs: 12.4, result: { pages: 3 } }),
      { ttlMs: 60_000 },
    );
    expect(done).toMatchObject({
      status: "completed",
      attempts: 1,
      result: { pages: 3 },
      durationMs: 12,
      finishedAt: doneAt,
      startedAt: started!.startedAt,
      correlationId: "corr-1",
      tenantId: "tenant-1",
    });
    expect(done!.expiresAt.getTime()).toBe(doneAt.getTime() + 60_000);
  });

  it("never moves a record backwards: a late processing after completed is ignored", async () => {
    const taskId = uniqueName("task");
    await store.tasks.applyEvent(event(taskId));
    await store.tasks.applyEvent(event(taskId, { status: "completed", result: "ok" }));
    expect(await store.tasks.applyEvent(event(taskId, { status: "processing" }))).toBeUndefined();
    expect(await store.tasks.applyEvent(event(taskId, { status: "failed", attempt: 2 }))).toBeUndefined();
    expect(await store.tasks.get(taskId)).toEqual([
      expect.objectContaining({ status: "completed", attempts: 1, result: "ok" }),
    ]);
  });

  it("follows retries: failed at 1, processing at 2, completed at 2, keeping the last error", async () => {
    const taskId = uniqueName("task");
    const error = { class: "TimeoutError", message: "LLM call timed out" };
    await store.tasks.applyEvent(event(taskId));
    expect(
      await store.tasks.applyEvent(event(taskId, { status: "failed", error, durationMs: 50 })),
    ).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: error,
    });
    // The retry notice adds nothing new to a record already failed at that attempt.
    expect(await store.tasks.applyEvent(event(taskId, { status: "retrying", error }))).toBeUndefined();
    const retry = await store.tasks.applyEvent(event(taskId, { attempt: 2 }));
    expect(retry).toMatchObject({ status: "processing", attempts: 2, finishedAt: null, lastError: error });
    // A stale event of attempt 1 arriving now changes nothing.
    expect(await store.tasks.applyEvent(event(taskId, { status: "failed", attempt: 1 }))).toBeUndefined();
    expect(
      await store.tasks.applyEvent(event(taskId, { status: "completed", attempt: 2, result: 42 })),
    ).toMatchObject({ status: "completed", attempts: 2, result: 42, lastError: error });
  });

  it("ends in dead_lettered after the last failed attempt, and stays there", async () => {
    const taskId = uniqueName("task");
    await store.tasks.applyEvent(event(taskId, { attempt: 4 }));
    await store.tasks.applyEvent(event(taskId, { status: "failed", attempt: 4 }));
    expect(
      await store.tasks.applyEvent(
        event(taskId, { status: "dead_lettered", attempt: 4, error: { class: "Error", message: "x" } }),
      ),
    ).toMatchObject({ status: "dead_lettered", attempts: 4 });
    expect(await store.tasks.applyEvent(event(taskId, { status: "processing", attempt: 5 }))).toBeUndefined();
  });

  it("keeps one record per agent when a task fans out", async () => {
    const taskId = uniqueName("task");
    await store.tasks.createPending({ taskId, topic: "file.uploaded" });
    await store.tasks.applyEvent(event(taskId, { agent: "ocr" }));
    await store.tasks.applyEvent(event(taskId, { agent: "indexer", status: "completed" }));
    const records = await store.tasks.get(taskId);
    expect(records.map((r) => [r.agent, r.status])).toEqual([
      ["indexer", "completed"],
      ["ocr", "processing"],
    ]);
  });

  it("agrees with shouldApply() on every combination of record and event", async () => {
    const currents: Array<TaskProgress | undefined> = [
      undefined,
      { status: "pending", attempts: 0 },
      { status: "processing", attempts: 1 },
      { status: "failed", attempts: 1 },
      { status: "completed", attempts: 1 },
      { status: "dead_lettered", attempts: 1 },
      { status: "processing", attempts: 2 },
      { status: "failed", attempts: 2 },
      // Replayed from the DLQ: a later replay starts the record over, an earlier one is stale.
      { status: "dead_lettered", attempts: 3 },
      { status: "processing", attempts: 1, replays: 1 },
      { status: "completed", attempts: 1, replays: 1 },
      { status: "dead_lettered", attempts: 2, replays: 1 },
    ];
    const cases: Array<{ taskId: string; current: TaskProgress | undefined; next: TaskEvent }> = [];
    const matrixRun = uniqueName("matrix");
    for (const current of currents) {
      for (const status of TASK_EVENT_STATUSES) {
        for (const attempt of [1, 2, 3]) {
          for (const replays of [0, 1, 2]) {
            const next = event("", { status, attempt, ...(replays > 0 ? { replays } : {}) });
            // One unique prefix and a counter: hundreds of uniqueName() calls in a millisecond can collide.
            cases.push({ taskId: `${matrixRun}_${cases.length}`, current, next });
          }
        }
      }
    }
    // Seed the current records directly.
    await withPostgres(async (client) => {
      for (const { taskId, current } of cases) {
        if (current === undefined) continue;
        await client.query(
          `insert into "${schema}".tasks (task_id, agent, topic, status, attempts, replays, expires_at)
           values ($1, 'file-processor', 'file.uploaded', $2, $3, $4, now() + interval '1 hour')`,
          [taskId, current.status, current.attempts, current.replays ?? 0],
        );
      }
    });
    for (const { taskId, current, next } of cases) {
      const applied = await store.tasks.applyEvent({ ...next, taskId });
      const nextProgress = {
        status: recordStatusOf(next.status),
        attempts: next.attempt,
        replays: next.replays ?? 0,
      };
      const expected = shouldApply(current, nextProgress);
      const label = `${current ? progressLabel(current) : "none"} + ${progressLabel({ ...next, attempts: next.attempt })}`;
      expect({ label, applied: applied !== undefined }).toEqual({ label, applied: expected });
      const [stored] = await store.tasks.get(taskId);
      const want: { status: TaskStatus; attempts: number; replays: number } = expected
        ? nextProgress
        : { status: current!.status, attempts: current!.attempts, replays: current!.replays ?? 0 };
      expect({ label, status: stored?.status, attempts: stored?.attempts, replays: stored?.replays }).toEqual(
        {
          label,
          ...want,
        },
      );
    }
  });

  it("applies a batch in order, reporting the record after the batch per applied event, and none of it when one event is invalid", async () => {
    const taskId = uniqueName("task");
    const results = await store.tasks.applyEvents([
      event(taskId),
      event(taskId, { status: "completed", result: 1 }),
      event(taskId, { status: "processing" }),
    ]);
    expect(results.map((r) => r?.status)).toEqual(["completed", "completed", undefined]);

    const other = uniqueName("task");
    await expect(store.tasks.applyEvents([event(other), event(other, { attempt: 0 })])).rejects.toMatchObject(
      { code: "INVALID_INPUT", field: "attempt" },
    );
    expect(await store.tasks.get(other)).toEqual([]);
  });

  it("gives a record written only from its end (processing skipped) a start: its end minus its duration", async () => {
    const one = uniqueName("fast");
    const batched = uniqueName("fast");
    const at = tick();
    await store.tasks.applyEvent(event(one, { status: "completed", at, durationMs: 40, result: 1 }));
    await store.tasks.applyEvents([event(batched, { status: "completed", at, durationMs: 40, result: 1 })]);
    for (const taskId of [one, batched]) {
      const [record] = await store.tasks.get(taskId);
      expect(record).toMatchObject({ status: "completed", durationMs: 40, finishedAt: at });
      expect(record?.startedAt?.getTime()).toBe(at.getTime() - 40);
    }
  });

  it("writes a whole batch with one statement (every row carries the same command id)", async () => {
    const ids = [uniqueName("one"), uniqueName("one"), uniqueName("one")];
    await store.tasks.applyEvents([
      event(ids[0]!),
      event(ids[1]!),
      event(ids[0]!, { status: "completed", result: 1 }),
      event(ids[2]!, { status: "failed", error: { class: "E", message: "m" } }),
    ]);
    // cmin is the number of the statement, within its transaction, that wrote the row version.
    const commands = await withPostgres(async (client) => {
      const { rows } = await client.query<{ cmin: string }>(
        `select cmin::text from "${schema}".tasks where task_id = any($1) order by task_id`,
        [ids],
      );
      return rows.map((row) => row.cmin);
    });
    expect(commands).toEqual(["0", "0", "0"]);
  });

  it("folds a batch exactly as applying its events one by one, for every current record and pair of events", async () => {
    const currents: Array<TaskProgress | undefined> = [
      undefined,
      { status: "pending", attempts: 0 },
      { status: "processing", attempts: 1 },
      { status: "failed", attempts: 1 },
      { status: "completed", attempts: 1 },
      { status: "processing", attempts: 2 },
      { status: "dead_lettered", attempts: 2 },
      { status: "processing", attempts: 1, replays: 1 },
    ];
    const nexts: TaskEvent[] = [];
    for (const status of TASK_EVENT_STATUSES) {
      for (const attempt of [1, 2]) {
        nexts.push(
          event("", {
            status,
            attempt,
            durationMs: status === "processing" ? null : 10 * attempt,
            ...(status === "completed" ? { result: { attempt } } : {}),
            ...(status === "failed" || status === "retrying"
              ? { error: { class: "E", message: `at ${attempt}` } }
              : {}),
          }),
        );
      }
    }
    // Events of the first replay from the DLQ.
    nexts.push(
      event("", { status: "processing", attempt: 1, replays: 1, durationMs: null }),
      event("", { status: "completed", attempt: 1, replays: 1, durationMs: 7, result: { replayed: true } }),
      event("", {
        status: "dead_lettered",
        attempt: 1,
        replays: 1,
        durationMs: 7,
        error: { class: "E", message: "again" },
      }),
    );
    const pairRun = uniqueName("pairs");
    const cases: Array<{
      one: string;
      batch: string;
      current: TaskProgress | undefined;
      pair: [TaskEvent, TaskEvent];
    }> = [];
    for (const current of currents)
      for (const first of nexts)
        for (const second of nexts)
          cases.push({
            one: `${pairRun}_seq_${cases.length}`,
            batch: `${pairRun}_bat_${cases.length}`,
            current,
            pair: [first, second],
          });
    await withPostgres(async (client) => {
      for (const { one, batch, current } of cases) {
        if (current === undefined) continue;
        await client.query(
          `insert into "${schema}".tasks (task_id, agent, topic, status, attempts, replays, correlation_id,
             expires_at)
           values ($1, 'file-processor', 'file.uploaded', $3, $4, $5, 'seeded', now() + interval '1 hour'),
                  ($2, 'file-processor', 'file.uploaded', $3, $4, $5, 'seeded', now() + interval '1 hour')`,
          [one, batch, current.status, current.attempts, current.replays ?? 0],
        );
      }
    });
    for (const { one, pair } of cases) {
      for (const e of pair) await store.tasks.applyEvent({ ...e, taskId: one });
    }
    // The whole matrix as one batch, pairs interleaved with each other.
    const firsts = cases.map(({ batch, pair }) => ({ ...pair[0], taskId: batch }));
    const seconds = cases.map(({ batch, pair }) => ({ ...pair[1], taskId: batch }));
    await store.tasks.applyEvents([...firsts, ...seconds]);
    const view = (r: TaskRecord | undefined) =>
      r && {
        status: r.status,
        attempts: r.attempts,
        replays: r.replays,
        result: r.result,
        lastError: r.lastError,
        correlationId: r.correlationId,
        createdAt: r.createdAt.getTime(),
        startedAt: r.startedAt?.getTime() ?? null,
        finishedAt: r.finishedAt?.getTime() ?? null,
        durationMs: r.durationMs,
        expiresAt: r.expiresAt.getTime(),
      };
    for (const { one, batch, current, pair } of cases) {
      const label = `${current ? progressLabel(current) : "none"} + ${pair
        .map((e) => progressLabel({ ...e, attempts: e.attempt }))
        .join(" + ")}`;
      const [sequential] = await store.tasks.get(one);
      const [batched] = await store.tasks.get(batch);
      const seeded = current !== undefined;
      const expected = view(sequential);
      const got = view(batched);
      // A seeded record's createdAt is the seeding time, different for the two twins.
      if (seeded && expected && got) got.createdAt = expected.createdAt;
      expect({ label, record: got }).toEqual({ label, record: expected });
    }
  });

  it("lists recent records newest first, by topic and status, hiding placeholders of claimed tasks", async () => {
    const topic = uniqueName("list.topic");
    const [t1, t2, t3] = [uniqueName("a"), uniqueName("b"), uniqueName("c")];
    await store.tasks.createPending({ taskId: t1, topic });
    await store.tasks.applyEvent(event(t1, { topic, status: "completed", at: new Date() }));
    await store.tasks.createPending({ taskId: t2, topic });
    await store.tasks.applyEvent(event(t3, { topic, status: "failed", at: new Date(Date.now() + 1000) }));

    const all = await store.tasks.list({ topic });
    expect(all.map((r) => [r.taskId, r.agent, r.status])).toEqual([
      [t3, "file-processor", "failed"],
      [t2, null, "pending"],
      [t1, "file-processor", "completed"],
    ]);
    expect((await store.tasks.list({ topic, status: "pending" })).map((r) => r.taskId)).toEqual([t2]);
    expect((await store.tasks.list({ topic, limit: 1 })).map((r) => r.taskId)).toEqual([t3]);
    await expect(store.tasks.list({ limit: 0 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      field: "limit",
    });
  });

  it("lists the records of one correlation id, every agent's and the placeholder of a task no agent claimed", async () => {
    const topic = uniqueName("corr.topic");
    const correlationId = uniqueName("conversation");
    const [t1, t2, other] = [uniqueName("a"), uniqueName("b"), uniqueName("c")];
    await store.tasks.createPending({ taskId: t1, topic, correlationId });
    await store.tasks.applyEvent(event(t1, { topic, correlationId, agent: "x", status: "completed" }));
    await store.tasks.applyEvent(event(t1, { topic, correlationId, agent: "y", status: "processing" }));
    await store.tasks.createPending({ taskId: t2, topic, correlationId });
    await store.tasks.createPending({ taskId: other, topic, correlationId: uniqueName("another") });

    const records = await store.tasks.list({ correlationId });
    expect(records.map((r) => [r.taskId, r.agent]).sort()).toEqual(
      [
        [t1, "x"],
        [t1, "y"],
        [t2, null],
      ].sort(),
    );
    expect(records.every((r) => r.correlationId === correlationId)).toBe(true);
    expect(await store.tasks.list({ correlationId: uniqueName("nobody") })).toEqual([]);
  });

  it("finds a correlation id through its index, not by reading the whole table", async () => {
    const plan = await withPostgres(async (client) => {
      await client.query(`set search_path to "${schema}"`);
      await client.query("set enable_seqscan = off");
      const { rows } = await client.query("explain select * from tasks where correlation_id = 'c'");
      return rows.map((row: { "QUERY PLAN": string }) => row["QUERY PLAN"]).join("\n");
    });
    expect(plan).toContain("tasks_correlation_id_idx");
  });

  it("deletes expired records and only those", async () => {
    const topic = uniqueName("ttl.topic");
    const now = new Date();
    const expired = uniqueName("expired");
    const fresh = uniqueName("fresh");
    const stillPending = uniqueName("pending");
    await store.tasks.applyEvent(
      event(expired, { topic, status: "completed", at: new Date(now.getTime() - 2000) }),
      { ttlMs: 1000 },
    );
    await store.tasks.applyEvent(event(fresh, { topic, status: "completed", at: now }), { ttlMs: 60_000 });
    await store.tasks.createPending({ taskId: stillPending, topic, ttlMs: 60_000 });

    expect(await store.tasks.deleteExpired(now)).toBeGreaterThanOrEqual(1);
    expect(await store.tasks.get(expired)).toEqual([]);
    expect(await store.tasks.get(fresh)).toHaveLength(1);
    expect(await store.tasks.get(stillPending)).toHaveLength(1);

    // An hour later everything of this test has expired.
    const later = new Date(now.getTime() + HOUR);
    await store.tasks.deleteExpired(later);
    expect(await store.tasks.list({ topic })).toEqual([]);
  });
});
