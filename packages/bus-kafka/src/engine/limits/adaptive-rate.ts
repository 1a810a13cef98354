/** The AIMD parameters (docs/rate-limits.md, "Adaptivity"). */
export interface AdaptiveRateOptions {
  /**
   * Multiplicative decrease: a push-back sets the factor to this fraction of what it was. 0.8 keeps a fleet that
   * overshoots its provider's limit by a little near that limit (the sawtooth averages (1 + β)/2 of it).
   * @default 0.8
   */
  decreaseFactor?: number;
  /** Additive increase after the hold: this much of the configured limit regained per second. @default 0.05 */
  recoveryPerSecond?: number;
  /** The factor never goes below this, so the agent never stops for good. @default 0.05 */
  minFactor?: number;
  /**
   * Push-backs closer together than this (measured from the last decrease, wherever it came from) only extend the
   * hold: the deliveries that were running when the rate dropped answer with the old rate's 429s. @default 1000
   */
  minDecreaseIntervalMs?: number;
}

export const ADAPTIVE_RATE_DEFAULTS: Required<AdaptiveRateOptions> = {
  decreaseFactor: 0.8,
  recoveryPerSecond: 0.05,
  minFactor: 0.05,
  minDecreaseIntervalMs: 1000,
};

/** A lowered rate as a rate hint carries it: `factor` until `holdUntil` (epoch ms), then additive recovery. */
export interface RateHold {
  factor: number;
  holdUntil: number;
  /** The retry-after that caused it; a reader holds at most this long from when it reads it. */
  retryAfterMs: number;
}

/** Hints are worth publishing for a hold that grew by more than this since the last one the fleet heard of. */
const HOLD_EXTENSION_WORTH_PUBLISHING_MS = 1000;

/**
 * AIMD over the agent's fleet-wide limit, on an injected clock: the factor (0 < f ≤ 1) the configured rate and max
 * in flight are multiplied by. A push-back (a callback's `RetryAfterError`, a provider's 429 with its retry-after)
 * multiplies it by β and holds it there for the retry-after; after the hold it grows back by α of the limit per
 * second, up to 1.
 *
 * State is `(base, holdUntil)`: the factor is `base` until `holdUntil`, then `min(1, base + α·(t − holdUntil))`.
 * Merging another worker's hold keeps the lower base and the later hold end, which is never above either input at
 * any later time — so merging is safe in any order, any number of times, and the fleet converges on one state.
 */
export class AdaptiveRate {
  private readonly options: Required<AdaptiveRateOptions>;
  private base = 1;
  private holdUntil = Number.NEGATIVE_INFINITY;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  /** The latest hold end the fleet has heard of (published by us or read from a hint). */
  private knownHoldUntil = Number.NEGATIVE_INFINITY;

  constructor(options: AdaptiveRateOptions = {}) {
    this.options = { ...ADAPTIVE_RATE_DEFAULTS, ...options };
    const { decreaseFactor, recoveryPerSecond, minFactor, minDecreaseIntervalMs } = this.options;
    if (!(decreaseFactor > 0 && decreaseFactor < 1)) {
      throw new RangeError(`decreaseFactor must be in (0, 1), got ${decreaseFactor}`);
    }
    if (!(recoveryPerSecond > 0 && Number.isFinite(recoveryPerSecond))) {
      throw new RangeError(`recoveryPerSecond must be a finite number > 0, got ${recoveryPerSecond}`);
    }
    if (!(minFactor > 0 && minFactor <= 1))
      throw new RangeError(`minFactor must be in (0, 1], got ${minFactor}`);
    if (!(minDecreaseIntervalMs >= 0)) {
      throw new RangeError(`minDecreaseIntervalMs must be >= 0, got ${minDecreaseIntervalMs}`);
    }
  }

  /** The factor at `now`. */
  factor(now: number): number {
    return this.valueAt(this.base, this.holdUntil, now);
  }

  /** Whether the factor is below 1 at `now` (held, or recovering). */
  lowered(now: number): boolean {
    return this.factor(now) < 1;
  }

  /** Epoch ms of the last decrease, local or from a hint (-Infinity before any). */
  get lastDecrease(): number {
    return this.lastDecreaseAt;
  }

  /**
   * A callback was told to retry after `retryAfterMs`. Decreases the factor — unless the last decrease is more
   * recent than `minDecreaseIntervalMs`, or the delivery started before it (`startedAt`: its 429 answers the old
   * rate) — and holds it for `retryAfterMs`. Returns the hold to tell the fleet about, or undefined when the fleet
   * already knows (no decrease, and the hold grew by at most a second).
   */
  onRetryAfter(retryAfterMs: number, now: number, startedAt?: number): RateHold | undefined {
    if (!Number.isFinite(retryAfterMs) || retryAfterMs < 0) {
      throw new RangeError(`retryAfterMs must be a finite number >= 0, got ${retryAfterMs}`);
    }
    this.rebase(now);
    const decrease =
      now - this.lastDecreaseAt >= this.options.minDecreaseIntervalMs &&
      (startedAt === undefined || startedAt >= this.lastDecreaseAt);
    if (decrease) {
      this.base = Math.max(this.options.minFactor, this.base * this.options.decreaseFactor);
      this.lastDecreaseAt = now;
    }
    this.holdUntil = Math.max(this.holdUntil, now + retryAfterMs);
    const worthPublishing =
      decrease || this.holdUntil > this.knownHoldUntil + HOLD_EXTENSION_WORTH_PUBLISHING_MS;
    if (!worthPublishing) return undefined;
    this.knownHoldUntil = Math.max(this.knownHoldUntil, this.holdUntil);
    return { factor: this.base, holdUntil: this.holdUntil, retryAfterMs: Math.ceil(this.holdUntil - now) };
  }

  /**
   * Another worker's hold (a rate hint). Its hold end is cut to `retryAfterMs` from now, so a writer whose clock
   * runs ahead cannot hold this worker back longer than the provider asked. Returns whether the factor went down.
   */
  merge(hold: RateHold, now: number): boolean {
    this.rebase(now);
    const holdUntil = Math.min(hold.holdUntil, now + hold.retryAfterMs);
    this.knownHoldUntil = Math.max(this.knownHoldUntil, holdUntil);
    const theirs = this.valueAt(Math.max(this.options.minFactor, hold.factor), holdUntil, now);
    const lowered = theirs < this.base;
    if (lowered) {
      this.base = theirs;
      this.lastDecreaseAt = now;
    }
    // A hold already over has been folded into `theirs` (its recovery so far); only a running one extends ours.
    if (holdUntil > now) this.holdUntil = Math.max(this.holdUntil, holdUntil);
    return lowered;
  }

  private valueAt(base: number, holdUntil: number, now: number): number {
    if (now <= holdUntil) return base;
    return Math.min(1, base + (this.options.recoveryPerSecond * (now - holdUntil)) / 1000);
  }

  /** Re-expresses the state from `now` on: a hold that is over becomes a base at today's value. */
  private rebase(now: number): void {
    if (now > this.holdUntil) {
      this.base = this.valueAt(this.base, this.holdUntil, now);
      this.holdUntil = now;
    }
  }
}
