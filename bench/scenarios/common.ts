import type { Row } from "../lib/report";
import type { TrialResult } from "../lib/types";

export interface ScenarioOutcome {
  id: string;
  rows: Row[];
  /** Configuration and every trial's raw numbers, for the JSON results file. */
  details: Record<string, unknown>;
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
