// Reads what B4/B5/B7's workers recorded ("<index> <epoch ms> <partition>" lines, one file per process) and sums it
// up: exact loss against what was published, duplicates, each process's first completion, the longest gap between
// completions. Pure over its input (`parseFleetLogs`, `summarizeFleet`), unit-tested in fleet-log.test.ts.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export interface FleetSummary {
  published: number;
  handled: number;
  lost: number;
  duplicates: number;
  /** First completion (epoch ms) per process id. */
  firstByPid: Record<string, number>;
  /** Longest time without any completion between the first and the last completion, ms. */
  longestGapMs: number;
  /** Index → first completion time (epoch ms), NaN when never handled. */
  handledAt: Float64Array;
}

/** One callback a worker recorded. */
export interface Completion {
  /** The event's index (`content.i`). */
  index: number;
  /** When the callback ran, epoch ms. */
  at: number;
  /** The process that ran it. */
  pid: string;
  /** The partition the record came from; NaN in a log written without it. */
  partition: number;
}

/**
 * Every recorded callback of indexes below `published`, sorted by time (ties keep file order). A line cut short by a
 * `kill -9` mid-write, or an index out of range, is skipped.
 */
export function parseFleetLogs(published: number, logs: Record<string, string>): Completion[] {
  const completions: Completion[] = [];
  for (const [pid, text] of Object.entries(logs)) {
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const [index, at, partition] = line.split(" ").map(Number) as [number, number, number | undefined];
      if (!(Number.isInteger(index) && index >= 0 && index < published) || !Number.isFinite(at)) continue;
      completions.push({ index, at, pid, partition: partition ?? Number.NaN });
    }
  }
  return completions.sort((a, b) => a.at - b.at);
}

export function summarizeFleet(published: number, logs: Record<string, string>): FleetSummary {
  const handledAt = new Float64Array(published).fill(Number.NaN);
  const firstByPid: Record<string, number> = {};
  const times: number[] = [];
  let duplicates = 0;
  for (const { index, at, pid } of parseFleetLogs(published, logs)) {
    times.push(at);
    firstByPid[pid] = Math.min(firstByPid[pid] ?? Number.POSITIVE_INFINITY, at);
    if (Number.isNaN(handledAt[index] as number)) handledAt[index] = at;
    else duplicates++;
  }
  let longestGapMs = 0;
  for (let i = 1; i < times.length; i++)
    longestGapMs = Math.max(longestGapMs, (times[i] as number) - (times[i - 1] as number));
  const handled = handledAt.reduce((n, at) => (Number.isNaN(at) ? n : n + 1), 0);
  return { published, handled, lost: published - handled, duplicates, firstByPid, longestGapMs, handledAt };
}

export function readFleetLogs(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith(".log"))
      .map((file) => [file.replace(/\.log$/, ""), readFileSync(join(dir, file), "utf8")]),
  );
}
