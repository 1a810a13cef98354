// Ingestion: how many task results per second the coordinator folds into Postgres, measured through the real
// coordinator process (`node apps/coordinator/dist/main.js`, so `npm run build` first), with one replica and with
// two sharing the task-events group. Each trial: the coordinators start on a fresh Postgres schema and join the
// group. Catch-up: `events` completed task events (one per task, as a fast delivery reports it) are put on
// omnidaemon.task-events before the coordinators start; results/s = results ÷ (first result in Postgres → every
// result in Postgres). Live: another `events` produced while they run; "after last" = last produce → all stored.
// Baseline in the same run: the old write path — one upsert per event (`applyEvent`) — against the same Postgres,
// beside the batch statement (`applyEvents`, batches of 1,000), both from this process.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SYSTEM_TOPICS, taskEventRecord, type KafkaClientName } from "@omnidaemon/bus-kafka";
import { type TaskEvent } from "@omnidaemon/protocol";
import { PgStore } from "@omnidaemon/store-pg";
import { Kafka, logLevel } from "kafkajs";
import { Client } from "pg";
import { clientEnv } from "../lib/clients";
import type { BenchContext } from "../lib/context";
import { spread, type Row } from "../lib/report";
import type { ScenarioOutcome } from "./common";
import { raceDeadline, sleep } from "@omnidaemon/lifecycle";

export interface IngestionOptions {
  events: number;
  rounds: number;
  /** The Kafka client of the coordinator processes. */
  client: KafkaClientName;
}

const ROOT = join(__dirname, "..", "..");
const COORDINATOR = join(ROOT, "apps", "coordinator", "dist", "main.js");
const TARGET_RESULTS_PER_S = 10_000;
const STORE_EVENTS = 4000;

function databaseUrl(): string {
  const url = process.env.OMNIDAEMON_DATABASE_URL;
  if (!url)
    throw new Error("ingestion: OMNIDAEMON_DATABASE_URL is unset (start the stack or source .stack/env)");
  return url;
}

function completed(run: string, i: number): TaskEvent {
  return {
    task_id: `${run}-${i}`,
    topic: "bench.ingestion",
    agent: "bench-agent",
    status: "completed",
    attempt: 1,
    at: new Date().toISOString(),
    correlation_id: `${run}-${i}`,
    tenant_id: null,
    worker_id: "bench",
    duration_ms: 1,
    result: { ok: true, n: i, text: "x".repeat(64) },
    processing_skipped: true,
  };
}

async function count(client: Client, schema: string): Promise<number> {
  try {
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from "${schema}".tasks`);
    return rows[0]?.n ?? 0;
  } catch {
    return 0; // the schema is not migrated yet
  }
}

async function waitHealthy(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`coordinator on :${port} exited with ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`coordinator on :${port} not healthy within 60 s`);
}

function startCoordinator(schema: string, port: number, client: KafkaClientName): ChildProcess {
  return spawn(process.execPath, [COORDINATOR], {
    cwd: ROOT,
    env: {
      ...process.env,
      OMNIDAEMON_DATABASE_SCHEMA: schema,
      OMNIDAEMON_API_PORT: String(port),
      OMNIDAEMON_LOG_LEVEL: "warn",
      ...clientEnv(client),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

async function stopCoordinator(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await raceDeadline(exited, 30_000);
  if (child.exitCode === null) child.kill("SIGKILL");
}

interface CoordinatorTrial {
  replicas: number;
  events: number;
  /** Catch-up: results ÷ (first result in Postgres → every result), the topic pre-filled while they were down. */
  resultsPerS: number;
  /** Live: a second burst produced while they run: last produce → every result in Postgres. */
  afterLastProducedMs: number;
  liveProduceMs: number;
}

async function produce(kafka: Kafka, run: string, events: number): Promise<number> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const started = performance.now();
    const chunk = 2000;
    const inFlight: Promise<unknown>[] = [];
    for (let from = 0; from < events; from += chunk) {
      const messages = [];
      for (let i = from; i < Math.min(events, from + chunk); i++) {
        const record = taskEventRecord(completed(run, i));
        messages.push({ key: record.key, value: record.value });
      }
      inFlight.push(producer.send({ topic: SYSTEM_TOPICS.taskEvents, acks: -1, messages }));
      if (inFlight.length >= 4) await inFlight.shift();
    }
    await Promise.all(inFlight);
    return performance.now() - started;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

async function waitStored(
  admin: Client,
  schema: string,
  events: number,
  what: string,
): Promise<{ firstAt: number; firstCount: number; doneAt: number }> {
  const deadline = Date.now() + 600_000;
  let firstAt = Number.NaN;
  let firstCount = 0;
  for (;;) {
    const n = await count(admin, schema);
    const now = performance.now();
    if (n > 0 && Number.isNaN(firstAt)) {
      firstAt = now;
      firstCount = n;
    }
    if (n >= events) return { firstAt, firstCount, doneAt: now };
    if (Date.now() > deadline)
      throw new Error(`ingestion: ${what}: ${n} of ${events} results stored after 600 s`);
    await sleep(50);
  }
}

async function coordinatorTrial(
  ctx: BenchContext,
  admin: Client,
  replicas: number,
  events: number,
  round: number,
  client: KafkaClientName,
): Promise<CoordinatorTrial> {
  const schema = `bench_ingest_${Date.now()}_${replicas}_${round}`;
  const children: ChildProcess[] = [];
  const kafka = new Kafka({
    brokers: ctx.brokers,
    clientId: "omnidaemon-bench-ingest",
    logLevel: logLevel.NOTHING,
  });
  try {
    // Catch-up: the backlog is on the topic before any coordinator runs (the group resumes after it).
    await produce(kafka, `${schema}-backlog`, events);
    for (let i = 0; i < replicas; i++) {
      const port = 18_900 + i;
      const child = startCoordinator(schema, port, client);
      children.push(child);
      if (i === 0) await waitHealthy(port, child);
    }
    const backlog = await waitStored(admin, schema, events, `${replicas} coordinator(s), backlog`);
    const resultsPerS = (events - backlog.firstCount) / ((backlog.doneAt - backlog.firstAt) / 1000);
    // Live: a burst while they run, until every result is in Postgres.
    const liveProduceMs = await produce(kafka, `${schema}-live`, events);
    const producedAt = performance.now();
    const live = await waitStored(admin, schema, 2 * events, `${replicas} coordinator(s), live`);
    const result = {
      replicas,
      events,
      resultsPerS,
      afterLastProducedMs: live.doneAt - producedAt,
      liveProduceMs,
    };
    console.log(
      `  ${replicas} coordinator(s) #${round}: catch-up ${Math.round(resultsPerS).toLocaleString("en-US")} results/s;` +
        ` live burst produced in ${(liveProduceMs / 1000).toFixed(2)} s, all stored ${(result.afterLastProducedMs / 1000).toFixed(2)} s after the last`,
    );
    return result;
  } finally {
    await Promise.all(children.map(stopCoordinator));
    await admin.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
  }
}

/** The old per-event write path against the new batch statement, from this process, same Postgres. */
async function storeTrial(admin: Client, round: number): Promise<{ perEvent: number; batch: number }> {
  const schema = `bench_ingest_store_${Date.now()}_${round}`;
  const store = new PgStore({ databaseUrl: databaseUrl(), schema });
  await store.start();
  try {
    const toInput = (event: TaskEvent) => ({
      taskId: event.task_id,
      topic: event.topic,
      agent: event.agent,
      status: event.status,
      attempt: event.attempt,
      at: new Date(event.at),
      durationMs: event.duration_ms ?? null,
      result: event.result,
    });
    const one = Array.from({ length: STORE_EVENTS }, (_, i) => toInput(completed(`one-${round}`, i)));
    let started = performance.now();
    for (const event of one) await store.tasks.applyEvent(event);
    const perEvent = STORE_EVENTS / ((performance.now() - started) / 1000);
    const batch = Array.from({ length: STORE_EVENTS }, (_, i) => toInput(completed(`batch-${round}`, i)));
    started = performance.now();
    for (let from = 0; from < batch.length; from += 1000)
      await store.tasks.applyEvents(batch.slice(from, from + 1000));
    const batched = STORE_EVENTS / ((performance.now() - started) / 1000);
    console.log(
      `  store #${round}: one upsert per event ${Math.round(perEvent).toLocaleString("en-US")}/s, one statement per 1,000 ${Math.round(batched).toLocaleString("en-US")}/s`,
    );
    return { perEvent, batch: batched };
  } finally {
    await store.stop();
    await admin.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
  }
}

export async function runIngestion(ctx: BenchContext, options: IngestionOptions): Promise<ScenarioOutcome> {
  if (!existsSync(COORDINATOR))
    throw new Error(`ingestion: ${COORDINATOR} is missing: run \`npm run build\` first`);
  const admin = new Client({ connectionString: databaseUrl() });
  await admin.connect();
  const store: Array<{ perEvent: number; batch: number }> = [];
  const one: CoordinatorTrial[] = [];
  const two: CoordinatorTrial[] = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      store.push(await storeTrial(admin, round));
      one.push(await coordinatorTrial(ctx, admin, 1, options.events, round, options.client));
      two.push(await coordinatorTrial(ctx, admin, 2, options.events, round, options.client));
    }
  } finally {
    await admin.end();
  }
  const perEvent = spread(store.map((s) => s.perEvent));
  const ratios = (trials: CoordinatorTrial[]) =>
    spread(trials.map((t, i) => t.resultsPerS / (store[i]?.perEvent ?? Number.NaN)));
  const rows: Row[] = [
    {
      scenario: "Ingestion, 1 coordinator (results/s)",
      driver: options.client,
      measured: spread(one.map((t) => t.resultsPerS)),
      baseline: { ideal: TARGET_RESULTS_PER_S, label: "target" },
      ratio: spread(one.map((t) => t.resultsPerS / TARGET_RESULTS_PER_S)),
      target: 1,
      unit: "results/s",
      note: `all stored ${(spread(one.map((t) => t.afterLastProducedMs)).median / 1000).toFixed(2)} s after the last event`,
    },
    {
      scenario: "Ingestion, 2 coordinators (results/s)",
      driver: options.client,
      measured: spread(two.map((t) => t.resultsPerS)),
      baseline: spread(one.map((t) => t.resultsPerS)),
      ratio: spread(two.map((t, i) => t.resultsPerS / (one[i]?.resultsPerS ?? Number.NaN))),
      target: undefined,
      unit: "results/s",
      note: `ratio to 1 coordinator; all stored ${(spread(two.map((t) => t.afterLastProducedMs)).median / 1000).toFixed(2)} s after the last event`,
    },
    {
      scenario: "Ingestion, 1 coordinator vs old per-event upsert",
      driver: options.client,
      measured: spread(one.map((t) => t.resultsPerS)),
      baseline: perEvent,
      ratio: ratios(one),
      target: undefined,
      unit: "results/s",
      note: "baseline: one upsert per event from the bench process (the write path before issue 13)",
    },
    {
      scenario: "Store: one statement per 1,000 vs one per event",
      measured: spread(store.map((s) => s.batch)),
      baseline: perEvent,
      ratio: spread(store.map((s) => s.batch / s.perEvent)),
      target: undefined,
      unit: "events/s",
    },
  ];
  return {
    id: "INGESTION",
    rows,
    details: { events: options.events, client: options.client, store, one, two },
  };
}
