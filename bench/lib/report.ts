/** One line of the results table. */
export interface Row {
  scenario: string;
  /**
   * The Kafka client the measured side ran on (`OMNIDAEMON_KAFKA_CLIENT` of the engine or worker, or the library of
   * a bare client); undefined for rows no client is part of.
   */
  driver?: string;
  /** Median of the measured side, with the run-to-run range. */
  measured: Spread;
  /** The reference: a baseline measured in the same run (with its range), or a fixed ideal. */
  baseline: Spread | { ideal: number; label: string };
  /** measured / baseline (medians), with the range of per-round ratios when the baseline was measured. */
  ratio: Spread;
  /** Minimum ratio, or undefined for a context row (no target). */
  target: number | undefined;
  unit: string;
  note?: string;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: number[]): Spread {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const mid = Math.floor(n / 2);
  const median =
    n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[n - 1] as number, n };
}

export function verdict(row: Row): "pass" | "short" | "context" {
  if (row.target === undefined) return "context";
  return row.ratio.median >= row.target ? "pass" : "short";
}

function num(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function rate(s: Spread, unit: string): string {
  // Seconds (B4, B5, B7) are pauses and start-up times: whole seconds would hide a 0.3 s stop.
  const digits = unit === "s" ? 2 : 0;
  if (s.n <= 1) return `${num(s.median, digits)} ${unit}`;
  return `${num(s.median, digits)} ${unit} (${num(s.min, digits)}–${num(s.max, digits)}, n=${s.n})`;
}

function ratio(s: Spread): string {
  if (s.n <= 1 || s.min === s.max) return num(s.median, 2);
  return `${num(s.median, 2)} (${num(s.min, 2)}–${num(s.max, 2)})`;
}

export function markdownTable(rows: Row[]): string {
  const lines = [
    "| scenario | driver | measured | baseline | ratio | target | result |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const baseline =
      "ideal" in row.baseline
        ? `${num(row.baseline.ideal)} ${row.unit} (${row.baseline.label})`
        : rate(row.baseline, row.unit);
    const target = row.target === undefined ? "context" : `≥ ${num(row.target, 2)}`;
    lines.push(
      `| ${row.scenario} | ${row.driver ?? "–"} | ${rate(row.measured, row.unit)} | ${baseline} | ${ratio(row.ratio)} | ${target} | ${verdict(row)} |`,
    );
  }
  return lines.join("\n");
}
