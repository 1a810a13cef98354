import {
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
  latencyBucketIndex,
  latencyPercentile,
  summarizeLatency,
} from "./latency-buckets";

function bucketsOf(samples: number[]): number[] {
  const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const sample of samples) counts[latencyBucketIndex(sample)]! += 1;
  return counts;
}

/** The exact quantile of a sorted sample, for comparison. */
function exact(sorted: number[], quantile: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)]!;
}

describe("latency buckets", () => {
  it("span 1 ms to over an hour in ×1.5 steps, plus an overflow bucket", () => {
    expect(LATENCY_BUCKET_BOUNDS_MS[0]).toBe(1);
    const last = LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1]!;
    expect(last).toBeGreaterThan(60 * 60 * 1000);
    expect(last).toBeLessThan(2 * 60 * 60 * 1000);
    for (let i = 1; i < LATENCY_BUCKET_BOUNDS_MS.length; i += 1) {
      expect(LATENCY_BUCKET_BOUNDS_MS[i]! / LATENCY_BUCKET_BOUNDS_MS[i - 1]!).toBeCloseTo(1.5, 10);
    }
    expect(LATENCY_BUCKET_COUNT).toBe(LATENCY_BUCKET_BOUNDS_MS.length + 1);
  });

  it("puts a latency in the first bucket whose upper bound is at least the latency", () => {
    expect(latencyBucketIndex(0)).toBe(0);
    expect(latencyBucketIndex(0.2)).toBe(0);
    expect(latencyBucketIndex(1)).toBe(0);
    expect(latencyBucketIndex(1.0001)).toBe(1);
    expect(latencyBucketIndex(1.5)).toBe(1);
    expect(latencyBucketIndex(2)).toBe(2);
    expect(latencyBucketIndex(1e12)).toBe(LATENCY_BUCKET_COUNT - 1);
  });

  it("refuses negative and non-finite latencies", () => {
    expect(() => latencyBucketIndex(-1)).toThrow(RangeError);
    expect(() => latencyBucketIndex(Number.NaN)).toThrow(RangeError);
    expect(() => latencyBucketIndex(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("has no percentile without samples", () => {
    expect(latencyPercentile(new Array<number>(LATENCY_BUCKET_COUNT).fill(0), 0.5)).toBeNull();
    expect(latencyPercentile([], 0.99)).toBeNull();
    expect(summarizeLatency([], 0)).toEqual({
      count: 0,
      sumMs: 0,
      meanMs: null,
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
    });
  });

  it("keeps every percentile of a single sample inside that sample's bucket", () => {
    const counts = bucketsOf([42]);
    const index = latencyBucketIndex(42);
    for (const q of [0, 0.5, 0.95, 0.99, 1]) {
      const value = latencyPercentile(counts, q)!;
      expect(value).toBeGreaterThanOrEqual(LATENCY_BUCKET_BOUNDS_MS[index - 1]!);
      expect(value).toBeLessThanOrEqual(LATENCY_BUCKET_BOUNDS_MS[index]!);
    }
  });

  it("estimates percentiles of a spread of latencies within 25 % of the exact ones", () => {
    // Log-uniform between 1 ms and 60 s, like a mix of fast tools and slow LLM calls.
    const samples = Array.from({ length: 10_000 }, (_, i) =>
      Math.exp((Math.log(60_000) * (i + 0.5)) / 10_000),
    );
    const counts = bucketsOf(samples);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const estimate = latencyPercentile(counts, q)!;
      expect(Math.abs(estimate - exact(sorted, q)) / exact(sorted, q)).toBeLessThan(0.25);
    }
  });

  it("orders p50 ≤ p95 ≤ p99 and reports count, sum and mean", () => {
    const samples = [...new Array<number>(90).fill(10), ...new Array<number>(9).fill(200), 5000];
    const summary = summarizeLatency(
      bucketsOf(samples),
      samples.reduce((a, b) => a + b, 0),
    );
    expect(summary.count).toBe(100);
    expect(summary.sumMs).toBe(90 * 10 + 9 * 200 + 5000);
    expect(summary.meanMs).toBeCloseTo(summary.sumMs / 100);
    expect(summary.p50Ms!).toBeGreaterThan(7);
    expect(summary.p50Ms!).toBeLessThanOrEqual(11.4);
    expect(summary.p95Ms!).toBeGreaterThan(130);
    expect(summary.p95Ms!).toBeLessThanOrEqual(200 * 1.5);
    expect(summary.p99Ms!).toBeGreaterThanOrEqual(summary.p95Ms!);
    expect(summary.p99Ms!).toBeLessThanOrEqual(5000 * 1.5);
  });

  it("answers the last bound for a rank in the overflow bucket", () => {
    const counts = bucketsOf([1e9]);
    expect(latencyPercentile(counts, 0.5)).toBe(
      LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1],
    );
  });

  it("refuses a quantile outside [0, 1]", () => {
    expect(() => latencyPercentile([1], 1.5)).toThrow(RangeError);
    expect(() => latencyPercentile([1], -0.1)).toThrow(RangeError);
  });
});
