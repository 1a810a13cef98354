import type { DeadLetterReason, EngineObserver } from "@omnidaemon/bus-kafka";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Handler durations from 1 ms (a pure transform) to 10 min (a slow LLM chain, twice the default reclaim). */
export const HANDLER_DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
] as const;

export type WebhookDeliveryOutcome = "delivered" | "failed" | "refused";

export interface WorkerMetricsOptions {
  /** Where every series is registered; the caller owns it (no default registry). */
  registry: Registry;
  /** Epoch ms the worker started, for `omnidaemon_worker_uptime_seconds`. @default the construction time */
  startedAt?: number;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

/** Where the DLQ depth gauge reads at scrape time: the SDK's DLQ manager. */
export interface DlqDepthSource {
  depths(): Array<{ topic: string; agent: string; depth: number }>;
}

type Labels<K extends string> = Record<K, string>;
const AGENT = ["topic", "agent"] as const;

/**
 * The worker's Prometheus series (product spec §8), fed by the engine through {@link EngineObserver} and by the
 * worker for what the engine cannot see (lag of paused agents, webhooks).
 *
 * Counting rules, so a known run gives known numbers:
 * - `events_received_total` counts new events only (records from the main topic); a retry re-read from the retry
 *   topic is counted by `events_retried_total` when its predecessor failed, not again here. Once the run has
 *   settled: received = succeeded + failed{dead_letter} + failed{dropped} + dead_lettered{invalid_record}.
 * - `events_failed_total` counts failed attempts, by what happens next (`outcome`).
 * - `handler_duration_seconds` observes every finished attempt, successful or not.
 */
export class WorkerMetrics implements EngineObserver {
  private readonly received: Counter<"topic" | "agent">;
  private readonly succeeded: Counter<"topic" | "agent">;
  private readonly failed: Counter<"topic" | "agent" | "outcome">;
  private readonly retried: Counter<"topic" | "agent">;
  private readonly deadLettered: Counter<"topic" | "agent" | "reason">;
  private readonly duration: Histogram<"topic" | "agent">;
  private readonly inFlight: Gauge<"topic" | "agent">;
  private readonly lag: Gauge<"topic" | "agent" | "partition">;
  private readonly rebalances: Counter<"topic" | "agent">;
  private readonly committed: Counter<"topic" | "agent">;
  private readonly webhooks: Counter<"topic" | "agent" | "outcome">;
  private readonly callbacksAbandoned: Counter<"topic" | "agent">;
  private dlqDepths: DlqDepthSource | undefined;
  /** Partitions with a lag series, per agent, so a rebalance can drop the ones this worker no longer holds. */
  private readonly lagPartitions = new Map<
    string,
    { topic: string; agent: string; partitions: Set<number> }
  >();

  constructor(options: WorkerMetricsOptions) {
    const registers = [options.registry];
    const now = options.now ?? Date.now;
    const startedAt = options.startedAt ?? now();

    this.received = new Counter({
      name: "omnidaemon_events_received_total",
      help: "New events taken from an agent's topic (retries not included).",
      labelNames: AGENT,
      registers,
    });
    this.succeeded = new Counter({
      name: "omnidaemon_events_succeeded_total",
      help: "Deliveries whose callback returned a JSON result.",
      labelNames: AGENT,
      registers,
    });
    this.failed = new Counter({
      name: "omnidaemon_events_failed_total",
      help: "Failed delivery attempts, by what happens next: retry, dead_letter or dropped (DLQ disabled).",
      labelNames: [...AGENT, "outcome"],
      registers,
    });
    this.retried = new Counter({
      name: "omnidaemon_events_retried_total",
      help: "Failed attempts scheduled for another attempt.",
      labelNames: AGENT,
      registers,
    });
    this.deadLettered = new Counter({
      name: "omnidaemon_events_dead_lettered_total",
      help: "Events written to the agent's dead-letter topic, by reason.",
      labelNames: [...AGENT, "reason"],
      registers,
    });
    this.duration = new Histogram({
      name: "omnidaemon_handler_duration_seconds",
      help: "Duration of one callback attempt, successful or not.",
      labelNames: AGENT,
      buckets: [...HANDLER_DURATION_BUCKETS],
      registers,
    });
    this.inFlight = new Gauge({
      name: "omnidaemon_events_in_flight",
      help: "Callbacks running now in this worker.",
      labelNames: AGENT,
      registers,
    });
    this.lag = new Gauge({
      name: "omnidaemon_consumer_lag",
      help: "Records of the agent's topic not yet committed by its group, per partition (reported while paused too).",
      labelNames: [...AGENT, "partition"],
      registers,
    });
    this.rebalances = new Counter({
      name: "omnidaemon_rebalances_total",
      help: "Partition assignments received by this worker's consumers.",
      labelNames: AGENT,
      registers,
    });
    this.committed = new Counter({
      name: "omnidaemon_offsets_committed_total",
      help: "Partition offsets committed (one per partition per commit).",
      labelNames: AGENT,
      registers,
    });
    new Gauge({
      name: "omnidaemon_worker_uptime_seconds",
      help: "Seconds since this worker started.",
      registers,
      collect() {
        this.set(Math.max(0, (now() - startedAt) / 1000));
      },
    });
    this.callbacksAbandoned = new Counter({
      name: "omnidaemon_callbacks_abandoned_total",
      help: "Aborted callbacks that ignored their signal past the abort grace; their key and slot were released anyway.",
      labelNames: AGENT,
      registers,
    });
    const dlqDepths = (): DlqDepthSource | undefined => this.dlqDepths;
    new Gauge({
      name: "omnidaemon_dlq_depth",
      help: "Records in the agent's dead-letter topic (entries and replay markers, as a purge counts them); read every 30 s, raised at once by this worker's own dead letters.",
      labelNames: AGENT,
      registers,
      collect() {
        this.reset();
        for (const { topic, agent, depth } of dlqDepths()?.depths() ?? [])
          this.set(labels(topic, agent), depth);
      },
    });
    this.webhooks = new Counter({
      name: "omnidaemon_webhook_deliveries_total",
      help: "Webhook deliveries by final outcome: delivered (2xx), failed, or refused (unsafe destination).",
      labelNames: [...AGENT, "outcome"],
      registers,
    });
  }

  onReceived(event: { agent: string; topic: string; retry: boolean }): void {
    if (!event.retry) this.received.inc(labels(event.topic, event.agent));
  }

  onSucceeded(event: { envelope: { topic: string }; agent: string; durationMs: number }): void {
    const at = labels(event.envelope.topic, event.agent);
    this.succeeded.inc(at);
    this.duration.observe(at, event.durationMs / 1000);
  }

  onFailed(event: {
    envelope: { topic: string };
    agent: string;
    durationMs: number;
    outcome: "retry" | "dead_letter" | "dropped";
  }): void {
    const at = labels(event.envelope.topic, event.agent);
    this.failed.inc({ ...at, outcome: event.outcome });
    if (event.outcome === "retry") this.retried.inc(at);
    this.duration.observe(at, event.durationMs / 1000);
  }

  onDeadLettered(event: { agent: string; topic: string; reason: DeadLetterReason }): void {
    this.deadLettered.inc({ ...labels(event.topic, event.agent), reason: event.reason });
  }

  onInFlight(event: { agent: string; topic: string; inFlight: number }): void {
    this.inFlight.set(labels(event.topic, event.agent), event.inFlight);
  }

  onLag(event: { agent: string; topic: string; partition: number; lag: number }): void {
    this.setLag(event.topic, event.agent, event.partition, event.lag);
  }

  /**
   * A new assignment: the lag series of partitions this worker held before would freeze at their last value and
   * be summed with the new owner's, so they are dropped; partitions still held report again on their next fetch.
   */
  onRebalance(event: { agent: string; topic: string }): void {
    this.rebalances.inc(labels(event.topic, event.agent));
    this.clearLag(event.topic, event.agent);
  }

  onCommitted(event: { agent: string; topic: string; partitions: number }): void {
    this.committed.inc(labels(event.topic, event.agent), event.partitions);
  }

  onCallbackAbandoned(event: { agent: string; topic: string }): void {
    this.callbacksAbandoned.inc(labels(event.topic, event.agent));
  }

  /**
   * Lag from outside the engine: for a paused agent the consumer is not running, so the worker computes the
   * group's lag with the admin client and feeds it here. Every worker carrying the agent may report the same
   * partition; aggregate with `max by (topic, agent, partition)`, not `sum`.
   */
  setLag(topic: string, agent: string, partition: number, lag: number): void {
    const key = `${topic}\u0000${agent}`;
    let entry = this.lagPartitions.get(key);
    if (!entry) {
      entry = { topic, agent, partitions: new Set() };
      this.lagPartitions.set(key, entry);
    }
    entry.partitions.add(partition);
    this.lag.set({ ...labels(topic, agent), partition: String(partition) }, lag);
  }

  /** Removes every lag series of one agent (it was deleted, or its partitions moved). */
  clearLag(topic: string, agent: string): void {
    const key = `${topic}\u0000${agent}`;
    const entry = this.lagPartitions.get(key);
    if (!entry) return;
    for (const partition of entry.partitions) {
      this.lag.remove({ ...labels(topic, agent), partition: String(partition) });
    }
    this.lagPartitions.delete(key);
  }

  /**
   * Reads `omnidaemon_dlq_depth` from `source` whenever Prometheus scrapes. Every worker carrying an agent reports
   * the same DLQ; aggregate with `max by (topic, agent)`, not `sum`.
   */
  readDlqDepthsFrom(source: DlqDepthSource): void {
    this.dlqDepths = source;
  }

  /** One finished webhook delivery (see `webhookMetricOutcome` in ../webhooks). */
  webhook(outcome: WebhookDeliveryOutcome, event: { topic: string; agent: string }): void {
    this.webhooks.inc({ ...labels(event.topic, event.agent), outcome });
  }
}

function labels(topic: string, agent: string): Labels<"topic" | "agent"> {
  return { topic, agent };
}
