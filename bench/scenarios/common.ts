import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import type { Comparison } from "../lib/compare";
import type { Row } from "../lib/report";
import type { TrialResult } from "../lib/types";

export interface ScenarioOutcome {
  id: string;
  rows: Row[];
  /** Figures measured on every client of the run, for the "Kafka clients side by side" table. */
  comparisons?: Comparison[];
  /** Markdown sections of the scenario's own (e.g. B7's table per scale event), printed after the main table. */
  sections?: string[];
  /** Configuration and every trial's raw numbers, for the JSON results file. */
  details: Record<string, unknown>;
}

/** One empty list per client, for results collected round by round. */
export function perClient<T>(clients: readonly KafkaClientName[]): Record<KafkaClientName, T[]> {
  return Object.fromEntries(clients.map((client) => [client, [] as T[]])) as Record<KafkaClientName, T[]>;
}

const fmt = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";

export function logTrial(result: TrialResult, indent = "  "): void {
  console.log(
    `${indent}${result.label.padEnd(24)} steady ${fmt(result.steadyRate).padStart(7)} ev/s` +
      `  end-to-end ${fmt(result.endToEndRate).padStart(7)} ev/s` +
      `  handled ${fmt(result.handled)}${result.windowed ? " (window)" : ""}` +
      `  first after ${fmt(result.firstMs)} ms  total ${(result.totalMs / 1000).toFixed(2)} s` +
      `  stop ${fmt(result.stopMs)} ms  peak RSS ${fmt(result.peakRssMiB)} MiB` +
      (result.duplicates > 0 ? `  DUPLICATES ${result.duplicates}` : ""),
  );
}
