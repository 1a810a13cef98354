/**
 * Longest wait an admission ever reports. A longer one (a rate of a few events per hour, or a worker that owns no
 * partition and so has no rate at all) is re-asked after this long; changes of limits, assignment or rate that
 * could shorten it make the caller ask again anyway.
 */
export const MAX_WAIT_MS = 60_000;

/** Levels within this of a whole token count as one: fractional rates accumulate floating-point dust. */
const EPSILON = 1e-9;

/**
 * A token bucket over time the caller passes in (epoch ms, or any monotonic ms): `ratePerSecond` tokens accrue
 * continuously up to `capacity`, and each admission takes one. Rates and capacities are fractional and exact — a
 * worker's share of a fleet-wide budget is rarely a whole number.
 *
 * A capacity below one token (a small share of a small burst) could never hold the token an admission needs, so
 * such a bucket admits as soon as it is full and goes into debt (a negative level) that the rate pays back: its
 * long-run rate is still exactly `ratePerSecond`, and it never admits more than one event at once.
 *
 * Time that runs backwards (a clock step) accrues nothing.
 */
export class TokenBucket {
  private ratePerSecond: number;
  private capacityTokens: number;
  private level: number;
  private updatedAt: number;

  constructor(options: { ratePerSecond: number; capacity: number; now: number; level?: number }) {
    this.ratePerSecond = checkedRate(options.ratePerSecond);
    this.capacityTokens = checkedCapacity(options.capacity);
    this.level = Math.min(options.level ?? options.capacity, options.capacity);
    this.updatedAt = options.now;
  }

  get rate(): number {
    return this.ratePerSecond;
  }

  get capacity(): number {
    return this.capacityTokens;
  }

  /** Tokens available at `now` (negative while paying back a debt). */
  tokens(now: number): number {
    this.refill(now);
    return this.level;
  }

  /** Whether the bucket is full at `now`: forgetting it and making a fresh full one changes nothing. */
  full(now: number): boolean {
    return this.tokens(now) >= this.capacityTokens - EPSILON;
  }

  /** Takes one token: 0 when it did, else the ms until one is there (at most {@link MAX_WAIT_MS}), taking nothing. */
  take(now: number): number {
    const wait = this.waitMs(now);
    if (wait === 0) this.level -= 1;
    return wait;
  }

  /** 0 when a token is there at `now`, else the ms until one is (at most {@link MAX_WAIT_MS}). Takes nothing. */
  waitMs(now: number): number {
    this.refill(now);
    const needed = Math.min(1, this.capacityTokens);
    if (needed > 0 && this.level >= needed - EPSILON) return 0;
    if (this.ratePerSecond <= 0 || needed <= 0) return MAX_WAIT_MS;
    const ms = Math.ceil(((needed - this.level) / this.ratePerSecond) * 1000);
    return Math.min(MAX_WAIT_MS, Math.max(1, ms));
  }

  /**
   * A new rate and capacity from `now` on: what accrued until now accrued at the old rate, and the level is cut to
   * the new capacity. A larger capacity adds no token: growing a share never creates a burst.
   */
  reconfigure(ratePerSecond: number, capacity: number, now: number): void {
    this.refill(now);
    this.ratePerSecond = checkedRate(ratePerSecond);
    this.capacityTokens = checkedCapacity(capacity);
    this.level = Math.min(this.level, this.capacityTokens);
  }

  private refill(now: number): void {
    const elapsedMs = now - this.updatedAt;
    if (elapsedMs > 0) {
      this.level = Math.min(this.capacityTokens, this.level + (this.ratePerSecond * elapsedMs) / 1000);
      this.updatedAt = now;
    }
  }
}

function checkedRate(rate: number): number {
  if (!Number.isFinite(rate) || rate < 0)
    throw new RangeError(`rate must be a finite number >= 0, got ${rate}`);
  return rate;
}

function checkedCapacity(capacity: number): number {
  if (!Number.isFinite(capacity) || capacity < 0) {
    throw new RangeError(`capacity must be a finite number >= 0, got ${capacity}`);
  }
  return capacity;
}
