import { ADAPTIVE_RATE_DEFAULTS, AdaptiveRate } from "./adaptive-rate";

const T0 = 1_700_000_000_000;

describe("AdaptiveRate", () => {
  it("starts at the full limit", () => {
    const rate = new AdaptiveRate();
    expect(rate.factor(T0)).toBe(1);
    expect(rate.lowered(T0)).toBe(false);
  });

  it("multiplies by β on a push-back, holds for the retry-after, then recovers by α per second up to 1", () => {
    const rate = new AdaptiveRate({ decreaseFactor: 0.5, recoveryPerSecond: 0.1 });
    const hold = rate.onRetryAfter(2000, T0);
    expect(hold).toEqual({ factor: 0.5, holdUntil: T0 + 2000, retryAfterMs: 2000 });
    expect(rate.factor(T0 + 1999)).toBe(0.5);
    expect(rate.factor(T0 + 2000)).toBe(0.5);
    expect(rate.factor(T0 + 3000)).toBeCloseTo(0.6);
    expect(rate.factor(T0 + 6000)).toBeCloseTo(0.9);
    expect(rate.factor(T0 + 7000)).toBe(1);
    expect(rate.factor(T0 + 60_000)).toBe(1);
  });

  it("decreases once for a burst of push-backs from deliveries that ran together, extending the hold", () => {
    const rate = new AdaptiveRate({ decreaseFactor: 0.5 });
    expect(rate.onRetryAfter(1000, T0)?.factor).toBe(0.5);
    // Ten more 429s within the second: the same congestion, no further halving.
    for (let i = 1; i <= 10; i++) rate.onRetryAfter(1000, T0 + i * 50);
    expect(rate.factor(T0 + 600)).toBe(0.5);
    expect(rate.factor(T0 + 1500)).toBe(0.5); // held until T0 + 500 + 1000
    // A push-back a second after the decrease, from a delivery that started after it: the lower rate is still
    // too high, so it decreases again.
    expect(rate.onRetryAfter(1000, T0 + 1000, T0 + 100)?.factor).toBe(0.25);
  });

  it("does not decrease for a delivery that started before the last decrease (it answers the old rate)", () => {
    const rate = new AdaptiveRate({ decreaseFactor: 0.5 });
    rate.onRetryAfter(0, T0);
    // A 30 s LLM call that started before the decrease comes back with a 429 long after.
    rate.onRetryAfter(0, T0 + 30_000, T0 - 1000);
    expect(rate.factor(T0 + 30_000)).toBeGreaterThan(0.5);
    expect(rate.lastDecrease).toBe(T0);
  });

  it("never goes below the minimum factor", () => {
    const rate = new AdaptiveRate({ decreaseFactor: 0.5, minFactor: 0.1, minDecreaseIntervalMs: 0 });
    for (let i = 0; i < 20; i++) rate.onRetryAfter(10_000, T0 + i);
    expect(rate.factor(T0 + 100)).toBe(0.1);
  });

  it("tells the fleet about a decrease or a hold grown by more than a second, and nothing else", () => {
    const rate = new AdaptiveRate();
    expect(rate.onRetryAfter(5000, T0)).toBeDefined();
    expect(rate.onRetryAfter(5000, T0 + 500)).toBeUndefined(); // hold grew by 0.5 s
    expect(rate.onRetryAfter(5000, T0 + 900)).toBeUndefined(); // 0.9 s since the last hint
    expect(rate.onRetryAfter(8000, T0 + 900)).toEqual({
      factor: ADAPTIVE_RATE_DEFAULTS.decreaseFactor,
      holdUntil: T0 + 8900,
      retryAfterMs: 8000,
    });
  });

  describe("merging another worker's hold", () => {
    it("takes the lower factor and the later hold end, and counts as the last decrease", () => {
      const rate = new AdaptiveRate({ decreaseFactor: 0.5 });
      expect(rate.merge({ factor: 0.8, holdUntil: T0 + 5000, retryAfterMs: 5000 }, T0)).toBe(true);
      expect(rate.factor(T0 + 4000)).toBe(0.8);
      // Its own 429 right after: the fleet already lowered the rate for this congestion.
      expect(rate.onRetryAfter(1000, T0 + 200)).toBeUndefined();
      expect(rate.factor(T0 + 300)).toBe(0.8);
    });

    it("is idempotent and order-free: two workers that see each other's holds end in the same state", () => {
      const a = new AdaptiveRate();
      const b = new AdaptiveRate();
      const holdA = a.onRetryAfter(3000, T0) as NonNullable<ReturnType<AdaptiveRate["onRetryAfter"]>>;
      const holdB = b.onRetryAfter(1000, T0 + 100) as NonNullable<ReturnType<AdaptiveRate["onRetryAfter"]>>;
      a.merge(holdB, T0 + 200);
      b.merge(holdA, T0 + 300);
      b.merge(holdA, T0 + 300);
      for (const t of [T0 + 400, T0 + 3000, T0 + 4000, T0 + 10_000]) expect(a.factor(t)).toBe(b.factor(t));
    });

    it("applies a hold read after it ended as the recovery it has made since", () => {
      const rate = new AdaptiveRate({ recoveryPerSecond: 0.1 });
      // Read at start-up from the compacted topic: lowered to 0.5 until 2 s ago.
      expect(rate.merge({ factor: 0.5, holdUntil: T0 - 2000, retryAfterMs: 1000 }, T0)).toBe(true);
      expect(rate.factor(T0)).toBeCloseTo(0.7);
      expect(rate.factor(T0 + 3000)).toBe(1);
      // One long over changes nothing.
      expect(rate.merge({ factor: 0.5, holdUntil: T0 - 60_000, retryAfterMs: 1000 }, T0 + 10_000)).toBe(
        false,
      );
      expect(rate.factor(T0 + 10_000)).toBe(1);
    });

    it("holds at most the retry-after from when it reads the hint, whatever the writer's clock says", () => {
      const rate = new AdaptiveRate({ recoveryPerSecond: 0.1 });
      // A writer whose clock runs an hour ahead.
      rate.merge({ factor: 0.5, holdUntil: T0 + 3_600_000 + 2000, retryAfterMs: 2000 }, T0);
      expect(rate.factor(T0 + 2000)).toBe(0.5);
      expect(rate.factor(T0 + 3000)).toBeCloseTo(0.6);
    });

    it("never raises the factor", () => {
      const rate = new AdaptiveRate({ decreaseFactor: 0.5 });
      rate.onRetryAfter(5000, T0);
      expect(rate.merge({ factor: 0.9, holdUntil: T0 + 10_000, retryAfterMs: 10_000 }, T0 + 100)).toBe(false);
      expect(rate.factor(T0 + 6000)).toBe(0.5); // and the later hold end still applies
    });
  });

  it("refuses parameters that would never recover or never decrease", () => {
    expect(() => new AdaptiveRate({ decreaseFactor: 1 })).toThrow(RangeError);
    expect(() => new AdaptiveRate({ decreaseFactor: 0 })).toThrow(RangeError);
    expect(() => new AdaptiveRate({ recoveryPerSecond: 0 })).toThrow(RangeError);
    expect(() => new AdaptiveRate({ minFactor: 0 })).toThrow(RangeError);
    expect(() => new AdaptiveRate().onRetryAfter(-1, T0)).toThrow(RangeError);
  });
});
