import {
  taskEventRecord,
  type EngineObserver,
  type Envelope,
  type Publisher,
  type TaskEvent,
} from "@omnidaemon/bus-kafka";
import type { Logger } from "pino";

/**
 * Reports task status transitions to the coordinator through the task-events topic (not HTTP), so they reach
 * Postgres even when the coordinator is down when they happen. Fire and forget: the producer batches them, and a
 * lost report never blocks or fails a delivery.
 */
export class TaskEventReporter implements EngineObserver {
  constructor(
    private readonly publisher: Publisher,
    private readonly workerId: string,
    private readonly logger: Logger,
  ) {}

  onStarted(event: { envelope: Envelope; attempt: number; agent: string }): void {
    this.report(event.envelope, event.agent, "processing", event.attempt, {});
  }

  onSucceeded(event: {
    envelope: Envelope;
    attempt: number;
    agent: string;
    durationMs: number;
    result: unknown;
  }): void {
    this.report(event.envelope, event.agent, "completed", event.attempt, {
      duration_ms: Math.round(event.durationMs * 1000) / 1000,
      result: event.result,
    });
  }

  onFailed(event: {
    envelope: Envelope;
    attempt: number;
    agent: string;
    durationMs: number;
    error: unknown;
    outcome: "retry" | "dead_letter" | "dropped";
  }): void {
    const error =
      event.error instanceof Error
        ? { class: event.error.name, message: event.error.message.slice(0, 4096) }
        : { class: typeof event.error, message: String(event.error).slice(0, 4096) };
    const status =
      event.outcome === "retry" ? "retrying" : event.outcome === "dead_letter" ? "dead_lettered" : "failed";
    this.report(event.envelope, event.agent, status, event.attempt, {
      duration_ms: Math.round(event.durationMs * 1000) / 1000,
      error,
    });
  }

  private report(
    envelope: Envelope,
    agent: string,
    status: TaskEvent["status"],
    attempt: number,
    extra: Partial<TaskEvent>,
  ): void {
    const event: TaskEvent = {
      task_id: envelope.id,
      topic: envelope.topic,
      agent,
      status,
      attempt,
      at: new Date().toISOString(),
      correlation_id: envelope.correlation_id ?? null,
      tenant_id: envelope.tenant_id ?? null,
      worker_id: this.workerId,
      ...extra,
    };
    this.publisher.send(taskEventRecord(event)).catch((error: unknown) => {
      this.logger.warn({ err: error, taskId: envelope.id, status }, "task event not reported");
    });
  }
}

/** Fans one engine's reports out to several observers (metrics, task events, webhooks). */
export function combineObservers(observers: EngineObserver[]): EngineObserver {
  const hooks = [
    "onReceived",
    "onStarted",
    "onSucceeded",
    "onFailed",
    "onDeadLettered",
    "onInFlight",
    "onLag",
    "onRebalance",
    "onCommitted",
    "onCallbackAbandoned",
  ] as const;
  const combined: EngineObserver = {};
  for (const hook of hooks) {
    const targets = observers.filter((o) => typeof o[hook] === "function");
    if (targets.length === 0) continue;
    (combined as Record<string, unknown>)[hook] = (event: never) => {
      // One observer failing (say, metrics) must not keep the others (task events) from seeing the event.
      for (const target of targets) {
        try {
          (target[hook] as (e: never) => void).call(target, event);
        } catch {
          // The engine logs observer failures; here we only keep going.
        }
      }
    };
  }
  return combined;
}
