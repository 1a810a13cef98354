/**
 * Upper bounds (inclusive, in ms) of the log-spaced latency buckets kept per agent: 1 ms × 1.5^k for k = 0…38,
 * i.e. 1 ms to about 82 minutes, each bucket 50 % wider than the one before, so a percentile read from them is
 * within half a bucket (±25 %) of the truth at any scale. One more bucket after the last bound takes everything
 * slower. Changing these bounds changes the meaning of stored counts: add buckets only at the end.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = Object.freeze(
  Array.from({ length: 39 }, (_, k) => 1.5 ** k),
);

/** Number of counts per agent: one per bound plus the overflow bucket. */
export const LATENCY_BUCKET_COUNT = LATENCY_BUCKET_BOUNDS_MS.length + 1;

/** 0-based bucket of a latency: the first whose upper bound is ≥ `latencyMs`, or the overflow bucket. */
export function latencyBucketIndex(latencyMs: number): number {
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new RangeError(`latencyMs must be a finite number ≥ 0, got ${latencyMs}`);
  }
  // 39 bounds: a linear scan is as fast as a binary search and obviously right.
  const index = LATENCY_BUCKET_BOUNDS_MS.findIndex((bound) => latencyMs <= bound);
  return index === -1 ? LATENCY_BUCKET_BOUNDS_MS.length : index;
}

/**
 * The latency below which a fraction `quantile` of the samples fall, estimated from bucket counts the way
 * Prometheus' `histogram_quantile` does: find the bucket holding that rank and interpolate linearly inside it
 * (the first bucket starts at 0). A rank in the overflow bucket returns the last bound, the largest value the
 * buckets can vouch for. `null` when there are no samples.
 */
export function latencyPercentile(counts: readonly number[], quantile: number): number | null {
  if (!(quantile >= 0 && quantile <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${quantile}`);
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = quantile * total;
  let below = 0;
  for (let i = 0; i < counts.length; i += 1) {
    const count = counts[i] ?? 0;
    if (count > 0 && below + count >= rank) {
      const upper = LATENCY_BUCKET_BOUNDS_MS[i];
      const lastBound = LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1] ?? 0;
      if (upper === undefined) return lastBound;
      const lower = i === 0 ? 0 : (LATENCY_BUCKET_BOUNDS_MS[i - 1] ?? 0);
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  // Unreachable while total > 0 and quantile ≤ 1; kept for the type checker.
  return null;
}

export interface LatencySummary {
  count: number;
  sumMs: number;
  /** `null` without samples. */
  meanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** Count, mean and p50/p95/p99 of one agent's lifetime latency buckets. */
export function summarizeLatency(counts: readonly number[], sumMs: number): LatencySummary {
  const count = counts.reduce((sum, n) => sum + n, 0);
  return {
    count,
    sumMs,
    meanMs: count === 0 ? null : sumMs / count,
    p50Ms: latencyPercentile(counts, 0.5),
    p95Ms: latencyPercentile(counts, 0.95),
    p99Ms: latencyPercentile(counts, 0.99),
  };
}
