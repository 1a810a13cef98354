import { resolveRateLimit, type AgentLimits, type ResolvedRateLimit } from "@omnidaemon/protocol";
import { AdaptiveRate, type AdaptiveRateOptions, type RateHold } from "./adaptive-rate";
import type { AdmissionGate } from "./fair-scheduler";
import { inFlightShare, partitionShare } from "./share";
import { TokenBucket } from "./token-bucket";

/** What {@link Throttle.admit} answers when the start may go ahead; anything else is the ms to wait. */
export const ADMITTED = 0;

export interface ThrottleOptions {
  /** The limits to enforce until the control topic says otherwise: the agent's own config. @default none */
  limits?: AgentLimits;
  /** The AIMD parameters (./adaptive-rate.ts). */
  adaptive?: AdaptiveRateOptions;
  /** Per-tenant buckets kept before full ones (which a fresh bucket equals) are forgotten. @default 10000 */
  maxTenantBuckets?: number;
}

/** What the worker's metrics read (apps/worker ThrottleMetrics). */
export interface ThrottleReadings {
  /** Time during which ready work was held back by the rate limit, cumulative. */
  throttledSeconds: number;
  /** The fleet-wide rate now, after adaptation (events/s; per tenant with scope "tenant"); undefined: no limit. */
  effectiveRatePerSecond: number | undefined;
  /** This worker's part of it; undefined: no limit. */
  workerRatePerSecond: number | undefined;
  /** The adaptive factor (1: not lowered). */
  factor: number;
  /** This worker's share of the agent's partitions. */
  share: number;
  /** Deliveries this worker may run at once under maxInFlight; undefined: no limit. */
  inFlightLimit: number | undefined;
  /** Waiting items per tenant in the ready queue (empty until a queue is attached). */
  tenantQueueDepths: ReadonlyMap<string, number>;
}

const NO_DEPTHS: ReadonlyMap<string, number> = new Map();

/**
 * One agent's fleet-wide limits as one worker enforces them: the facade the engine's pump calls (docs/rate-limits.md).
 * It composes the pure parts — the worker's share of the fleet-wide budget (./share.ts), token buckets
 * (./token-bucket.ts), AIMD adaptation (./adaptive-rate.ts) — and is the {@link AdmissionGate} of the fair
 * ready-queue (./fair-scheduler.ts). Time is always passed in; nothing here reads a clock or starts a timer.
 *
 * - `admit(tenant, now)` before each start: {@link ADMITTED}, or the ms until a start may be admitted.
 * - `onAssignment(owned, total, now)` on every assignment change: the share is `owned / total` partitions.
 * - `setLimits(limits, now)` when a control record brings new limits; `onRetryAfter` when a callback threw
 *   `RetryAfterError` (returns the hold to publish as a rate hint); `onRateHint` when another worker's hint arrives.
 *
 * Buckets start as if created empty at the last assignment change (or full, if that was long enough ago): a
 * partition that moves to this worker never brings a burst the previous owner already spent.
 */
export class Throttle implements AdmissionGate {
  private limits: AgentLimits = {};
  private rate: ResolvedRateLimit | undefined;
  private readonly adaptive: AdaptiveRate;
  private readonly maxTenantBuckets: number;
  private owned = 0;
  private total = 0;
  private share = 0;
  /** When the assignment last changed; undefined before the first. */
  private assignedAt: number | undefined;
  private agentBucket: TokenBucket | undefined;
  private readonly tenantBuckets = new Map<string, TokenBucket>();
  private nextSweepAt: number;
  private factorNow = 1;
  private inFlight = Number.POSITIVE_INFINITY;
  private queue: { queueDepths(): ReadonlyMap<string, number> } | undefined;
  // Throttled time: closed intervals, plus the open one [openStart, openUntil).
  private throttledClosedMs = 0;
  private openStart = 0;
  private openUntil = Number.NEGATIVE_INFINITY;

  constructor(options: ThrottleOptions = {}) {
    this.adaptive = new AdaptiveRate(options.adaptive);
    this.maxTenantBuckets = options.maxTenantBuckets ?? 10_000;
    this.nextSweepAt = this.maxTenantBuckets;
    this.applyLimits(options.limits ?? {});
    this.updateInFlight();
  }

  /** Whether the rate limit is per tenant (a refused tenant does not hold back the others). */
  get perTenant(): boolean {
    return this.rate?.scope === "tenant";
  }

  /** Deliveries this worker may run at once: its share of maxInFlight (× the adaptive factor); Infinity: no limit. */
  get inFlightLimit(): number {
    return this.inFlight;
  }

  /** Tenants with a bucket of their own now (scope "tenant"); full ones are forgotten past `maxTenantBuckets`. */
  get trackedTenants(): number {
    return this.tenantBuckets.size;
  }

  /** The limits enforced now. */
  get current(): AgentLimits {
    return this.limits;
  }

  /** A tenant's weight in the fair ready-queue: its `tenantWeights` entry, else 1. */
  weightOf(tenant: string): number {
    const weights = this.limits.tenantWeights;
    return weights !== undefined && Object.hasOwn(weights, tenant) ? (weights[tenant] as number) : 1;
  }

  /** {@link ADMITTED} (and counted) when an event of `tenant` may start at `now`, else the ms until one may. */
  admit(tenant: string, now: number): number {
    this.refresh(now);
    if (this.rate === undefined) return ADMITTED;
    const bucket = this.perTenant ? this.tenantBucket(tenant, now) : this.sharedBucket(now);
    // The factor may have recovered since the bucket's last update: what accrued until now accrued at the older,
    // lower rate (conservative), and from now on at today's.
    bucket.reconfigure(this.bucketRate(), this.bucketCapacity(), now);
    const wait = bucket.take(now);
    if (wait !== ADMITTED) this.noteThrottled(now, wait);
    return wait;
  }

  /**
   * The worker's assignment changed: it owns `owned` of the agent's `total` partitions (its topic's and its retry
   * topic's). Buckets are cut to the new share at once; a larger share adds no tokens.
   */
  onAssignment(owned: number, total: number, now: number): void {
    const share = partitionShare(owned, total);
    this.refresh(now);
    this.owned = Math.min(owned, total);
    this.total = total;
    this.share = share;
    this.assignedAt = now;
    this.reconfigureBuckets(now);
    this.refresh(now);
  }

  /** New limits (from a control record, or the agent's config): applied from `now` on. */
  setLimits(limits: AgentLimits, now: number): void {
    this.refresh(now);
    this.applyLimits(limits, now);
    this.refresh(now);
  }

  /**
   * A callback threw `RetryAfterError(retryAfterMs)`: lowers the rate (AIMD) and returns the hold to publish as a
   * rate hint, or undefined when there is nothing to tell (no limit to lower, or the fleet already knows).
   * `startedAt`: when the delivery started, so a 429 that answers the rate before the last decrease does not
   * decrease again.
   */
  onRetryAfter(retryAfterMs: number, now: number, startedAt?: number): RateHold | undefined {
    if (this.rate === undefined && this.limits.maxInFlight === undefined) return undefined;
    const hold = this.adaptive.onRetryAfter(retryAfterMs, now, startedAt);
    this.refresh(now);
    this.reconfigureBuckets(now);
    return hold;
  }

  /** Another worker's rate hint: the fleet-wide rate is lowered here too. Returns whether it went down. */
  onRateHint(hold: RateHold, now: number): boolean {
    const lowered = this.adaptive.merge(hold, now);
    this.refresh(now);
    this.reconfigureBuckets(now);
    return lowered;
  }

  /** Where the per-tenant queue depths come from: the fair ready-queue this throttle gates. */
  attachQueue(queue: { queueDepths(): ReadonlyMap<string, number> }): void {
    this.queue = queue;
  }

  /** Waiting items per tenant in the attached ready-queue. */
  tenantQueueDepths(): ReadonlyMap<string, number> {
    return this.queue?.queueDepths() ?? NO_DEPTHS;
  }

  /** Time ready work was held back by the rate limit, in ms, up to `now`. */
  throttledMs(now: number): number {
    const open = Math.max(0, Math.min(now, this.openUntil) - this.openStart);
    return this.throttledClosedMs + open;
  }

  /** The fleet-wide rate at `now`, after adaptation (per tenant with scope "tenant"); undefined: no rate limit. */
  effectiveRate(now: number): number | undefined {
    return this.rate === undefined ? undefined : this.rate.perSecond * this.adaptive.factor(now);
  }

  readings(now: number): ThrottleReadings {
    this.refresh(now);
    const fleet = this.effectiveRate(now);
    return {
      throttledSeconds: this.throttledMs(now) / 1000,
      effectiveRatePerSecond: fleet,
      workerRatePerSecond: fleet === undefined ? undefined : fleet * this.share,
      factor: this.factorNow,
      share: this.share,
      inFlightLimit: Number.isFinite(this.inFlight) ? this.inFlight : undefined,
      tenantQueueDepths: this.tenantQueueDepths(),
    };
  }

  private applyLimits(limits: AgentLimits, now?: number): void {
    const previous = this.rate;
    const next = limits.rateLimit === undefined ? undefined : resolveRateLimit(limits.rateLimit);
    this.limits = limits;
    this.rate = next;
    if (next === undefined || previous === undefined || previous.scope !== next.scope) {
      // No rate, or a new kind of budget: buckets start over (as if created at the last assignment change).
      this.agentBucket = undefined;
      this.tenantBuckets.clear();
    } else if (now !== undefined) {
      this.reconfigureBuckets(now);
    }
  }

  /** The factor and what depends on it, as of `now`. */
  private refresh(now: number): void {
    this.factorNow = this.adaptive.factor(now);
    this.updateInFlight();
  }

  private updateInFlight(): void {
    const max = this.limits.maxInFlight;
    this.inFlight =
      max === undefined
        ? Number.POSITIVE_INFINITY
        : inFlightShare(Math.max(1, Math.floor(max * this.factorNow)), this.owned, this.total);
  }

  private bucketRate(): number {
    return (this.rate?.perSecond ?? 0) * this.share * this.factorNow;
  }

  private bucketCapacity(): number {
    return (this.rate?.burst ?? 0) * this.share * this.factorNow;
  }

  /** A bucket this worker did not have: as if created empty at the last assignment change. */
  private newBucket(now: number): TokenBucket {
    const rate = this.bucketRate();
    const capacity = this.bucketCapacity();
    const since = this.assignedAt === undefined ? 0 : Math.max(0, now - this.assignedAt);
    return new TokenBucket({
      ratePerSecond: rate,
      capacity,
      now,
      level: Math.min(capacity, (rate * since) / 1000),
    });
  }

  private sharedBucket(now: number): TokenBucket {
    this.agentBucket ??= this.newBucket(now);
    return this.agentBucket;
  }

  private tenantBucket(tenant: string, now: number): TokenBucket {
    let bucket = this.tenantBuckets.get(tenant);
    if (bucket === undefined) {
      if (this.tenantBuckets.size >= this.nextSweepAt) this.sweep(now);
      bucket = this.newBucket(now);
      this.tenantBuckets.set(tenant, bucket);
    }
    return bucket;
  }

  /** Forgets full tenant buckets: a fresh one would be no fuller (see newBucket), so nothing changes. */
  private sweep(now: number): void {
    for (const [tenant, bucket] of this.tenantBuckets) {
      if (bucket.full(now)) this.tenantBuckets.delete(tenant);
    }
    this.nextSweepAt = Math.max(this.maxTenantBuckets, 2 * this.tenantBuckets.size);
  }

  private reconfigureBuckets(now: number): void {
    const rate = this.bucketRate();
    const capacity = this.bucketCapacity();
    this.agentBucket?.reconfigure(rate, capacity, now);
    for (const bucket of this.tenantBuckets.values()) bucket.reconfigure(rate, capacity, now);
  }

  private noteThrottled(now: number, waitMs: number): void {
    if (now > this.openUntil) {
      this.throttledClosedMs += Math.max(0, this.openUntil - this.openStart);
      this.openStart = now;
      this.openUntil = now + waitMs;
    } else {
      this.openUntil = Math.max(this.openUntil, now + waitMs);
    }
  }
}
