import type { MetricsHistoryPoint } from "@omnidaemon/protocol";

/** One value per interval of `GET /metrics/history`, for a small chart. */
export interface Series {
  values: number[];
  /** The last value, for the label beside the chart. */
  latest: number | undefined;
}

/** Events completed per second in each interval. */
export function throughput(points: readonly MetricsHistoryPoint[]): Series {
  const values = points.map((p) => (p.interval_ms > 0 ? (p.succeeded * 1000) / p.interval_ms : 0));
  return { values, latest: values.at(-1) };
}

/**
 * Share of the attempts that ended in each interval which failed: failed / (succeeded + failed); 0 when none
 * ended. A failed attempt may still be retried; dead letters are charted apart.
 */
export function failureRate(points: readonly MetricsHistoryPoint[]): Series {
  const values = points.map((p) => (p.succeeded + p.failed > 0 ? p.failed / (p.succeeded + p.failed) : 0));
  return { values, latest: values.at(-1) };
}

/** Dead-lettered events in each interval. */
export function deadLetters(points: readonly MetricsHistoryPoint[]): Series {
  const values = points.map((p) => p.dead_lettered);
  return { values, latest: values.at(-1) };
}

/**
 * An SVG path drawing `values` left to right in a `width` × `height` box, 0 at the bottom and `max` (default: the
 * largest value, at least `minMax`) at the top. One value draws a flat line; none draws nothing.
 */
export function linePath(values: readonly number[], width: number, height: number, minMax = 0): string {
  if (values.length === 0) return "";
  const max = Math.max(minMax, ...values);
  const y = (v: number): number => (max > 0 ? height - (v / max) * height : height);
  const round = (n: number): number => Math.round(n * 10) / 10;
  if (values.length === 1)
    return `M0,${round(y(values[0] as number))} L${width},${round(y(values[0] as number))}`;
  const step = width / (values.length - 1);
  return values.map((v, i) => `${i === 0 ? "M" : "L"}${round(i * step)},${round(y(v))}`).join(" ");
}
