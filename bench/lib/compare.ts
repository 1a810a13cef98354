// The "Kafka clients side by side" table: one figure per line, its value on each client, the ratio between the
// clients and each client's ratio to the run's baseline. Rounds are paired: round i of every client ran back to back
// (the scenarios interleave them), so a per-round ratio compares trials that shared the machine's load. Pure;
// unit-tested in compare.test.ts.
import { spread, type Spread } from "./report";

/** One figure measured on every client of the run, as the scenario hands it over. */
export interface Comparison {
  /** What is measured, e.g. "B3 engine, latency p50". */
  figure: string;
  unit: string;
  /** Which way is better: "higher" for a rate, "lower" for a latency, a pause or a count of re-runs. */
  better: "higher" | "lower";
  /** Per-round values by client name; index i of each list is round i. */
  values: Record<string, number[]>;
  /** The run's reference for this figure, per round (a bare client, or an ideal repeated); absent when none. */
  baseline?: { label: string; values: number[] };
}

export interface ComparedLine {
  figure: string;
  unit: string;
  better: "higher" | "lower";
  /** Median and range of each client, in the order of `clients`. */
  byClient: Array<{ client: string; value: Spread; vsBaseline: Spread | undefined }>;
  /** `second ÷ first` client (platformatic ÷ kafkajs): median of the medians, range of the per-round ratios. */
  ratio: Spread | undefined;
  baseline: { label: string; value: Spread } | undefined;
  /** The client that did better in every round (with the count), "mixed" when rounds disagree, "equal" on a tie. */
  verdict: string;
}

/** Ratio of medians, with the range (and count) of the per-round ratios of the rounds both sides measured. */
export function pairedRatio(numerator: number[], denominator: number[]): Spread {
  const perRound: number[] = [];
  for (let i = 0; i < Math.min(numerator.length, denominator.length); i++) {
    perRound.push((numerator[i] as number) / (denominator[i] as number));
  }
  const rounds = spread(perRound);
  return { ...rounds, median: spread(numerator).median / spread(denominator).median };
}

/**
 * Who did better: with one round, the better median; with more, the client that was better in every round both
 * measured, else "mixed" (the difference is within the run-to-run noise).
 */
export function verdict(
  better: "higher" | "lower",
  clients: [string, string],
  first: number[],
  second: number[],
): string {
  const wins = (a: number, b: number): -1 | 0 | 1 => {
    if (!Number.isFinite(a) || !Number.isFinite(b) || a === b) return 0;
    return (better === "higher" ? a > b : a < b) ? -1 : 1; // -1: the first client is better
  };
  const rounds = Math.min(first.length, second.length);
  if (rounds === 0) return "n/a";
  const outcomes = new Set<number>();
  for (let i = 0; i < rounds; i++) outcomes.add(wins(first[i] as number, second[i] as number));
  if (rounds === 1 || outcomes.size === 1) {
    const only = rounds === 1 ? wins(spread(first).median, spread(second).median) : [...outcomes][0];
    if (only === 0) return "equal";
    const name = only === -1 ? clients[0] : clients[1];
    // The count says how much the verdict is worth: an A/A run (both labels on kafkajs) on the loaded dev box
    // had one side better in all of 2 or 3 rounds on several figures by chance.
    return rounds === 1 ? `${name} (1 round)` : `${name} (all ${rounds} rounds)`;
  }
  return "mixed";
}

export function compareClients(comparison: Comparison, clients: string[]): ComparedLine {
  const base = comparison.baseline;
  const byClient = clients.map((client) => {
    const values = comparison.values[client] ?? [];
    return {
      client,
      value: spread(values),
      vsBaseline: base === undefined || values.length === 0 ? undefined : pairedRatio(values, base.values),
    };
  });
  const [a, b] = clients;
  const pair =
    a !== undefined && b !== undefined && comparison.values[a] && comparison.values[b]
      ? { first: comparison.values[a] as number[], second: comparison.values[b] as number[] }
      : undefined;
  return {
    figure: comparison.figure,
    unit: comparison.unit,
    better: comparison.better,
    byClient,
    ratio: pair === undefined ? undefined : pairedRatio(pair.second, pair.first),
    baseline: base === undefined ? undefined : { label: base.label, value: spread(base.values) },
    verdict:
      pair === undefined
        ? "n/a"
        : verdict(comparison.better, [a as string, b as string], pair.first, pair.second),
  };
}

function num(value: number, digits: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Values in the unit's usual precision: rates as integers, milliseconds and seconds with one or two decimals. */
function digitsFor(unit: string, value: number): number {
  if (unit === "ev/s" || unit === "events") return 0;
  return Math.abs(value) < 10 ? 2 : 1;
}

function value(s: Spread, unit: string): string {
  const d = digitsFor(unit, s.median);
  if (s.n === 0) return "–";
  if (s.n === 1 || s.min === s.max) return num(s.median, d);
  return `${num(s.median, d)} (${num(s.min, d)}–${num(s.max, d)})`;
}

function ratio(s: Spread | undefined): string {
  if (s === undefined || s.n === 0 || !Number.isFinite(s.median)) return "n/a";
  if (s.n === 1 || s.min === s.max) return num(s.median, 2);
  return `${num(s.median, 2)} (${num(s.min, 2)}–${num(s.max, 2)})`;
}

/** The markdown table of `lines`; `clients` is the run's list in the bus's order (kafkajs first). */
export function sideBySideTable(lines: ComparedLine[], clients: string[]): string {
  const [a, b] = clients as [string, string];
  const header = [
    "figure",
    "unit",
    "better is",
    ...clients,
    `${b} ÷ ${a}`,
    ...clients.map((client) => `${client} ÷ baseline`),
    "baseline",
    "better",
  ];
  const out = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const line of lines) {
    out.push(
      `| ${[
        line.figure,
        line.unit,
        line.better,
        ...line.byClient.map((c) => value(c.value, line.unit)),
        ratio(line.ratio),
        ...line.byClient.map((c) => ratio(c.vsBaseline)),
        line.baseline === undefined
          ? "none"
          : `${line.baseline.label}: ${value(line.baseline.value, line.unit)}`,
        line.verdict,
      ].join(" | ")} |`,
    );
  }
  return out.join("\n");
}
