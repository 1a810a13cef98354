import { withDeadline } from "@omnidaemon/lifecycle";
import { limitsOfConfig, type AgentLimits } from "@omnidaemon/protocol";
import type { Logger } from "pino";
import { rateHint, rateHintRecord } from "../control/rate-hint";
import type { AgentNames } from "../naming";
import type { Publisher } from "../producer";
import type { AgentRuntimeConfig } from "./agent-config";
import type { InboundRecord } from "./dead-letter";
import type { RateHold } from "./limits/adaptive-rate";
import { FairScheduler } from "./limits/fair-scheduler";
import { Throttle } from "./limits/throttle";

export interface ConsumerLimitsOptions {
  names: AgentNames;
  config: AgentRuntimeConfig;
  logger: Logger;
  /** Publishes the rate hints (the consumer's publisher). */
  publisher: Publisher;
  /** Named in the rate hints. */
  workerId: string | undefined;
  /** The partitions of the agent's topic and retry topic together; undefined: a fleet of one. */
  countPartitions: ((topics: string[]) => Promise<number>) | undefined;
}

/**
 * One agent consumer's part of the fleet-wide limits (docs/rate-limits.md, "How the engine enforces it"): the
 * tenant-fair ready-queue gated by the agent's `Throttle`, the share of the budget from the partitions the consumer
 * owns, live limits from control records, and a provider's push-back turned into a lower rate and a rate hint for
 * the fleet. The consumer hands its scheduler `queue` and calls the rest at the matching moments.
 */
export class ConsumerLimits {
  readonly throttle: Throttle;
  readonly queue: FairScheduler<InboundRecord>;
  /** The agent's partitions (topic + retry topic), as last read; undefined before the first read. */
  private partitionTotal: number | undefined;
  private owned = 0;

  constructor(private readonly options: ConsumerLimitsOptions) {
    // Until a control record brings the registry's limits, the agent's own config's apply.
    const throttle = new Throttle({ limits: limitsOfConfig(options.config) });
    this.throttle = throttle;
    this.queue = new FairScheduler<InboundRecord>(options.config.concurrency, {
      tenantOf: (record) => record.tenant,
      weightOf: (tenant) => throttle.weightOf(tenant),
      gate: throttle,
    });
    throttle.attachQueue(this.queue);
  }

  /** Whether the agent has limits a push-back lowers: then a push-back is a wait, not an attempt. */
  get waitOnRetryAfter(): boolean {
    const limits = this.throttle.current;
    return limits.rateLimit !== undefined || limits.maxInFlight !== undefined;
  }

  /** Deliveries this worker may run at once under `maxInFlight`; undefined: no such limit. */
  get inFlightLimit(): number | undefined {
    return Number.isFinite(this.throttle.inFlightLimit) ? this.throttle.inFlightLimit : undefined;
  }

  get share(): number {
    return this.throttle.readings(Date.now()).share;
  }

  /** New limits from a control record; the caller pumps. */
  setLimits(limits: AgentLimits): void {
    this.throttle.setLimits(limits, Date.now());
    this.queue.wake();
  }

  /** Another worker's rate hint. */
  onRateHint(hold: RateHold): void {
    this.throttle.onRateHint(hold, Date.now());
  }

  /** Every assignment change: the share follows the partitions owned (of the topic and the retry topic together). */
  onAssignment(assignment: Record<string, number[]>): void {
    const { names } = this.options;
    const owned = (assignment[names.topic]?.length ?? 0) + (assignment[names.retryTopic]?.length ?? 0);
    this.owned = owned;
    this.throttle.onAssignment(owned, Math.max(this.partitionTotal ?? owned, owned, 1), Date.now());
    this.queue.wake();
    // More than the agent had: partitions were added since the last read.
    if (this.partitionTotal !== undefined && owned > this.partitionTotal) {
      void this.readPartitionTotal().then(() => {
        if (this.owned !== owned || this.partitionTotal === undefined) return;
        this.throttle.onAssignment(owned, Math.max(this.partitionTotal, owned), Date.now());
      });
    }
  }

  /** Reads the agent's partition count when consuming starts (bounded; a failure keeps the last one, logged). */
  async readPartitionTotal(): Promise<void> {
    const { countPartitions, names, logger } = this.options;
    if (!countPartitions) return;
    try {
      this.partitionTotal = await withDeadline(
        countPartitions([names.topic, names.retryTopic]),
        10_000,
        () => new Error("no answer within 10 s"),
      );
    } catch (error) {
      logger.warn(
        { err: error, kept: this.partitionTotal },
        "could not read the agent's partition count; the limits' share uses the last one known",
      );
    }
  }

  /**
   * A callback threw `RetryAfterError`: the throttle lowers the agent's rate, and when that is news to the fleet a
   * rate hint goes on the control topic (best effort: the local decrease stands either way).
   */
  onPushBack(retryAfterMs: number, startedAt: number): void {
    const { names, workerId, publisher, logger } = this.options;
    const hold = this.throttle.onRetryAfter(retryAfterMs, Date.now(), startedAt);
    if (hold === undefined) return;
    const record = rateHintRecord(
      rateHint({ topic: names.topic, agent: names.agent }, hold, new Date(), workerId),
    );
    publisher.send(record).catch((error: unknown) => {
      logger.warn(
        { err: error },
        "could not publish a rate hint; other workers learn of the push-back later",
      );
    });
  }
}
