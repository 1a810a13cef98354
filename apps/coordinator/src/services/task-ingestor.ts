import {
  COORDINATOR_GROUP,
  RecordConsumer,
  SYSTEM_TOPICS,
  type ConsumedRecord,
  type KafkaConnectionInput,
  type RecordConsumerStatus,
} from "@omnidaemon/bus-kafka";
import { parseTaskEvent, type TaskEvent } from "@omnidaemon/protocol";
import {
  StoreError,
  type CounterDelta,
  type CountersRepository,
  type TaskEvent as StoredTaskEvent,
  type TasksRepository,
} from "@omnidaemon/store-pg";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";

/** The repositories ingestion writes to. */
export interface IngestionStore {
  tasks: Pick<TasksRepository, "applyEvents">;
  counters: Pick<CountersRepository, "apply">;
}

/** Task-event partitions written to Postgres at the same time by one coordinator (pool connections it uses). */
export const INGESTION_PARTITIONS_IN_FLIGHT = 4;
/** Bytes fetched per partition and request: up to several thousand task events per batch and statement. */
export const INGESTION_MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024;

/**
 * Folds the workers' task events (Kafka) into task records and per-agent counters (Postgres). Offsets are committed
 * only after Postgres accepted a batch, so a coordinator restart or a Postgres outage loses nothing; a crash between
 * the write and the commit re-applies a batch (task records are idempotent; counters may count it twice).
 */
export class TaskIngestor {
  readonly name = "task-ingestor";
  private readonly consumer: RecordConsumer;
  private readonly events: Counter<"status">;
  private readonly unstorable: Counter<"what">;

  constructor(
    connection: KafkaConnectionInput,
    private readonly store: IngestionStore,
    private readonly resultTtlMs: number,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.events = new Counter({
      name: "omnidaemon_coordinator_task_events_total",
      help: "Task events folded into Postgres, by status.",
      labelNames: ["status"],
      registers: [registry],
    });
    this.unstorable = new Counter({
      name: "omnidaemon_coordinator_task_events_unstorable_total",
      help: "Task events Postgres refused even in safe form: stored as an error on the task (what=result), or dropped (what=event, counters).",
      labelNames: ["what"],
      registers: [registry],
    });
    this.consumer = new RecordConsumer({
      connection,
      topic: SYSTEM_TOPICS.taskEvents,
      groupId: COORDINATOR_GROUP,
      logger,
      handle: (records) => this.handle(records),
      // Issue 13: each fetched batch becomes ONE upsert, so bigger batches mean fewer round trips, and several
      // partitions in flight keep Postgres busy while the next fetch runs (each partition stays in order).
      partitionsConsumedConcurrently: INGESTION_PARTITIONS_IN_FLIGHT,
      maxBytesPerPartition: INGESTION_MAX_BYTES_PER_PARTITION,
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  /** Whether the task-events consumer is consuming, for /health. */
  status(): RecordConsumerStatus {
    return this.consumer.status();
  }

  private async handle(records: ConsumedRecord[]): Promise<void> {
    const events: TaskEvent[] = [];
    for (const record of records) {
      const event = parseTaskEvent(record.value);
      if (event) events.push(event);
      else
        this.logger.warn(
          { offset: record.offset, partition: record.partition },
          "skipping an invalid task event",
        );
    }
    if (events.length === 0) return;
    await applyBatch(this.store, events, this.resultTtlMs, (what, error, event) => {
      this.unstorable.inc({ what });
      this.logger.error(
        { err: error, what, task_id: event?.task_id, topic: event?.topic, agent: event?.agent },
        "Postgres refused a task event even in safe form",
      );
    });
    for (const event of events) this.events.inc({ status: event.status });
  }
}

/**
 * A refusal that is about the data, not about Postgres being reachable: running it again fails the same way, so
 * retrying would stop the ingestion of every later event (issue 10). Outages (and anything unexpected) are thrown,
 * and the batch is retried until Postgres takes it.
 */
function isRefusedData(error: unknown): boolean {
  return error instanceof StoreError && (error.code === "QUERY_FAILED" || error.code === "INVALID_INPUT");
}

/** The class recorded on a task whose result Postgres refused even in safe form. */
export const RESULT_NOT_STORED = "ResultNotStored";

/**
 * Writes one batch of task events and their counters. The store keeps what it cannot hold verbatim in a safe form;
 * if Postgres still refuses the batch, each event is written alone, and an event refused alone is recorded as an
 * error on its task (no result) rather than blocking the partition. Counters refused as data are reported and
 * skipped. Outages are thrown, so nothing is committed and the batch comes back.
 */
export async function applyBatch(
  store: IngestionStore,
  events: TaskEvent[],
  ttlMs: number,
  report: (what: "result" | "event" | "counters", error: unknown, event?: TaskEvent) => void,
): Promise<void> {
  try {
    await store.tasks.applyEvents(events.map(toInput), { ttlMs });
  } catch (error) {
    if (!isRefusedData(error)) throw error;
    for (const event of events) {
      try {
        await store.tasks.applyEvents([toInput(event)], { ttlMs });
      } catch (alone) {
        if (!isRefusedData(alone)) throw alone;
        try {
          const message = `the coordinator could not store what the worker reported: ${(alone as Error).message}`;
          await store.tasks.applyEvents(
            [{ ...toInput(event), result: undefined, error: { class: RESULT_NOT_STORED, message } }],
            { ttlMs },
          );
          report("result", alone, event);
        } catch (fallback) {
          if (!isRefusedData(fallback)) throw fallback;
          report("event", fallback, event);
        }
      }
    }
  }
  for (const [key, delta] of countersOf(events)) {
    const [topic, agent] = key.split("\u0000") as [string, string];
    try {
      await store.counters.apply(topic, agent, delta);
    } catch (error) {
      if (!isRefusedData(error)) throw error;
      report("counters", error);
    }
  }
}

/** The wire event (snake_case) as the tasks repository takes it: the one conversion on the way in. */
function toInput(event: TaskEvent): StoredTaskEvent {
  return {
    taskId: event.task_id,
    topic: event.topic,
    agent: event.agent,
    status: event.status,
    attempt: event.attempt,
    ...(event.replays === undefined ? {} : { replays: event.replays }),
    at: new Date(event.at),
    correlationId: event.correlation_id ?? null,
    tenantId: event.tenant_id ?? null,
    durationMs: event.duration_ms ?? null,
    ...(event.result === undefined ? {} : { result: event.result }),
    error: event.error ?? null,
  };
}

/** Lifetime counters: received = first deliveries; each completed event also adds its latency. */
export function countersOf(events: TaskEvent[]): Map<string, CounterDelta> {
  // The latencies are collected in place (a batch holds thousands of events).
  const deltas = new Map<string, CounterDelta & { latenciesMs?: number[] }>();
  for (const event of events) {
    const key = `${event.topic}\u0000${event.agent}`;
    const delta = deltas.get(key) ?? {};
    // A fast delivery reports only its end (processing_skipped): that end then stands for its receipt.
    if (event.attempt === 1 && (event.status === "processing" || event.processing_skipped === true))
      delta.received = (delta.received ?? 0) + 1;
    switch (event.status) {
      case "processing":
        break;
      case "completed":
        delta.succeeded = (delta.succeeded ?? 0) + 1;
        if (event.duration_ms != null) (delta.latenciesMs ??= []).push(event.duration_ms);
        break;
      case "failed":
        delta.failed = (delta.failed ?? 0) + 1;
        break;
      case "retrying":
        delta.retried = (delta.retried ?? 0) + 1;
        break;
      case "dead_lettered":
        delta.deadLettered = (delta.deadLettered ?? 0) + 1;
        break;
    }
    deltas.set(key, delta);
  }
  return deltas;
}
