import { BusError, taskEventRecord, type EngineObserver, type Publisher } from "@omnidaemon/bus-kafka";
import {
  failureStatusOf,
  type Envelope,
  type ErrorSummary,
  type FailureOutcome,
  type TaskEvent,
} from "@omnidaemon/protocol";
import { sleep } from "@omnidaemon/lifecycle";
import type { Logger } from "pino";

export interface TaskEventReporterOptions {
  /** First pause before a failed report is sent again; doubles up to 5 s. @default 200 */
  retryDelayMs?: number;
  /** Most reports waiting to be sent again at once; beyond that new failures are dropped (and logged). @default 10000 */
  maxRetrying?: number;
  /** What each agent reports (its `results` and `reportProcessingAfterMs` config). @default every event, at once */
  policyOf?: (topic: string, agent: string) => TaskReportPolicy | undefined;
}

/** The part of an agent's config that decides which of its task events are reported. */
export interface TaskReportPolicy {
  results: "all" | "failures" | "none";
  reportProcessingAfterMs: number;
}

const REPORT_ALL: TaskReportPolicy = { results: "all", reportProcessingAfterMs: 0 };

/**
 * Reports task status transitions to the coordinator through the task-events topic (not HTTP), so they reach
 * Postgres even when the coordinator is down when they happen. Fire and forget: the producer batches them, and a
 * report never blocks or fails a delivery. A report whose publish failed is sent again (broker restart, failed
 * batch) until the producer stops; one the broker refuses for good because its result is too large goes again
 * without the result, so the status still arrives.
 */
export class TaskEventReporter implements EngineObserver {
  private readonly retryDelayMs: number;
  private readonly maxRetrying: number;
  private readonly policies: TaskEventReporterOptions["policyOf"];
  private retrying = 0;
  /** `processing` reports not yet due, by delivery: sent when the timer fires, dropped when the delivery ends first. */
  private readonly dueProcessing = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly publisher: Publisher,
    private readonly workerId: string,
    private readonly logger: Logger,
    options: TaskEventReporterOptions = {},
  ) {
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.maxRetrying = options.maxRetrying ?? 10_000;
    this.policies = options.policyOf;
  }

  onStarted(event: { envelope: Envelope; attempt: number; replays?: number; agent: string }): void {
    const policy = this.policyOf(event.envelope.topic, event.agent);
    if (policy.results !== "all") return;
    if (policy.reportProcessingAfterMs <= 0) {
      this.report(event.envelope, event.agent, "processing", event.attempt, replayed(event));
      return;
    }
    const key = deliveryKey(event.envelope, event.agent, event.attempt);
    const timer = setTimeout(() => {
      this.dueProcessing.delete(key);
      this.report(event.envelope, event.agent, "processing", event.attempt, replayed(event));
    }, policy.reportProcessingAfterMs);
    timer.unref();
    clearTimeout(this.dueProcessing.get(key));
    this.dueProcessing.set(key, timer);
  }

  /** Ends a delivery's pending `processing` report; true when it was still pending (so it is never sent). */
  private skipProcessing(envelope: Envelope, agent: string, attempt: number): boolean {
    const key = deliveryKey(envelope, agent, attempt);
    const timer = this.dueProcessing.get(key);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.dueProcessing.delete(key);
    return true;
  }

  private policyOf(topic: string, agent: string): TaskReportPolicy {
    return this.policies?.(topic, agent) ?? REPORT_ALL;
  }

  onSucceeded(event: {
    envelope: Envelope;
    attempt: number;
    replays?: number;
    agent: string;
    durationMs: number;
    result: unknown;
  }): void {
    const skipped = this.skipProcessing(event.envelope, event.agent, event.attempt);
    if (this.policyOf(event.envelope.topic, event.agent).results !== "all") return;
    this.report(event.envelope, event.agent, "completed", event.attempt, {
      ...replayed(event),
      duration_ms: Math.round(event.durationMs * 1000) / 1000,
      result: event.result,
      ...(skipped ? { processing_skipped: true } : {}),
    });
  }

  onFailed(event: {
    envelope: Envelope;
    attempt: number;
    replays?: number;
    agent: string;
    durationMs: number;
    summary: ErrorSummary;
    outcome: FailureOutcome;
  }): void {
    // The failure policy's summary: the one the webhook and the DLQ report too.
    const error = event.summary;
    const status = failureStatusOf(event.outcome);
    const skipped = this.skipProcessing(event.envelope, event.agent, event.attempt);
    if (this.policyOf(event.envelope.topic, event.agent).results === "none") return;
    this.report(event.envelope, event.agent, status, event.attempt, {
      ...replayed(event),
      duration_ms: Math.round(event.durationMs * 1000) / 1000,
      error,
      ...(skipped ? { processing_skipped: true } : {}),
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
    void this.deliver(event);
  }

  private async deliver(event: TaskEvent): Promise<void> {
    let current = event;
    let retrying = false;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.publisher.send(taskEventRecord(current));
          return;
        } catch (error) {
          const retriable = error instanceof BusError ? error.retriable : true;
          const fields = { err: error, taskId: event.task_id, status: event.status };
          if (!retriable && current.result !== undefined && isCode(error, "PUBLISH_REJECTED")) {
            this.logger.warn(fields, "task event refused by the broker; reporting it without the result");
            const { result: _result, ...withoutResult } = current;
            current = withoutResult;
            continue;
          }
          if (!retriable) {
            this.logger.warn(fields, "task event not reported");
            return;
          }
          if (!retrying) {
            if (this.retrying >= this.maxRetrying) {
              this.logger.warn(fields, "task event not reported: too many reports waiting to be retried");
              return;
            }
            retrying = true;
            this.retrying++;
          }
          // Never keeps the process alive on its own.
          await sleep(Math.min(this.retryDelayMs * 2 ** (attempt - 1), 5000), { unref: true });
        }
      }
    } finally {
      if (retrying) this.retrying--;
    }
  }
}

function deliveryKey(envelope: Envelope, agent: string, attempt: number): string {
  return `${envelope.topic}\u0000${agent}\u0000${envelope.id}\u0000${attempt}`;
}

function isCode(error: unknown, code: BusError["code"]): boolean {
  return error instanceof BusError && error.code === code;
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

/** The event's replay count for its task event: only when replayed (absent means 0 on the wire). */
function replayed(event: { replays?: number }): Partial<TaskEvent> {
  return event.replays !== undefined && event.replays > 0 ? { replays: event.replays } : {};
}
