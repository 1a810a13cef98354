import {
  COORDINATOR_GROUP,
  RecordConsumer,
  SYSTEM_TOPICS,
  parseTaskEvent,
  type ConsumedRecord,
  type KafkaConnectionInput,
  type TaskEvent,
} from "@omnidaemon/bus-kafka";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import type { ControlPlaneStore, CounterDelta, TaskEventInput } from "./store-port";

/**
 * Folds the workers' task events (Kafka) into task records and per-agent counters (Postgres). Offsets are committed
 * only after Postgres accepted a batch, so a coordinator restart or a Postgres outage loses nothing; a crash between
 * the write and the commit re-applies a batch (task records are idempotent; counters may count it twice).
 */
export class TaskIngestor {
  readonly name = "task-ingestor";
  private readonly consumer: RecordConsumer;
  private readonly events: Counter<"status">;

  constructor(
    connection: KafkaConnectionInput,
    private readonly store: ControlPlaneStore,
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
    this.consumer = new RecordConsumer({
      connection,
      topic: SYSTEM_TOPICS.taskEvents,
      groupId: COORDINATOR_GROUP,
      logger,
      handle: (records) => this.handle(records),
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
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
    await this.store.tasks.applyEvents(events.map(toInput), this.resultTtlMs);
    for (const [key, delta] of countersOf(events)) {
      const [topic, agent] = key.split("\u0000") as [string, string];
      await this.store.counters.apply(topic, agent, delta);
    }
    for (const event of events) this.events.inc({ status: event.status });
  }
}

function toInput(event: TaskEvent): TaskEventInput {
  return {
    taskId: event.task_id,
    topic: event.topic,
    agent: event.agent,
    status: event.status,
    attempt: event.attempt,
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
  const deltas = new Map<string, CounterDelta>();
  for (const event of events) {
    const key = `${event.topic}\u0000${event.agent}`;
    const delta = deltas.get(key) ?? {};
    switch (event.status) {
      case "processing":
        if (event.attempt === 1) delta.received = (delta.received ?? 0) + 1;
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
