// What the recording fixture (fixtures/agents.js) saw: its JSON lines, one file per worker process, and the questions
// the suites ask of them (which ids ended, how often, how much ran at once).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait";

export interface FixtureLine {
  event: "loaded" | "start" | "end" | "abort" | "fail";
  pid: number;
  t: number;
  workerId?: string | null;
  agent?: string;
  taskId?: string;
  key?: string | null;
  attempt?: number;
  seq?: number;
  workdir?: string;
  reason?: string;
}

/** A temporary directory the fixture processes write their JSON lines into. */
export class FixtureLog {
  readonly dir = mkdtempSync(join(tmpdir(), "omnidaemon-fixture-"));

  lines(filter: Partial<Pick<FixtureLine, "event" | "agent" | "pid">> = {}): FixtureLine[] {
    const all: FixtureLine[] = [];
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith(".jsonl")) continue;
      const text = readFileSync(join(this.dir, file), "utf8");
      for (const line of text.split("\n")) {
        // The last line may be half written while we read; it is read whole next time.
        if (line === "") continue;
        try {
          all.push(JSON.parse(line) as FixtureLine);
        } catch {
          // partial line
        }
      }
    }
    return all
      .filter(
        (l) =>
          (filter.event === undefined || l.event === filter.event) &&
          (filter.agent === undefined || l.agent === filter.agent) &&
          (filter.pid === undefined || l.pid === filter.pid),
      )
      .sort((a, b) => a.t - b.t || (a.seq ?? 0) - (b.seq ?? 0));
  }

  /** The app pid of the worker process with this id (from the fixture's "loaded" line). */
  async pidOf(workerId: string, timeoutMs = 30_000): Promise<number> {
    return waitFor(
      `the fixture loaded by ${workerId}`,
      () => this.lines({ event: "loaded" }).find((l) => l.workerId === workerId)?.pid,
      timeoutMs,
    );
  }

  /** Task ids with at least one "end" line for the agent. */
  ended(agent: string): Set<string> {
    return new Set(this.lines({ event: "end", agent }).map((l) => l.taskId as string));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Occurrences of each value. */
export function countBy<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** The values that occur more than once. */
export function duplicates<T>(values: Iterable<T>): T[] {
  return [...countBy(values)].filter(([, n]) => n > 1).map(([value]) => value);
}

/** The most [start, end) intervals open at one instant. */
export function maxOverlap(intervals: Array<{ start: number; end: number }>): number {
  const points = intervals.flatMap(({ start, end }) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  // Ends before starts at the same millisecond: touching intervals do not overlap.
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let max = 0;
  for (const { delta } of points) {
    open += delta;
    max = Math.max(max, open);
  }
  return max;
}

/** [start, end] of each delivery: the "start" line paired with the next "end"/"abort"/"fail" of the same task. */
export function intervals(
  lines: FixtureLine[],
): Array<{ taskId: string; key: string | null; start: number; end: number; pid: number }> {
  const open = new Map<string, FixtureLine>();
  const result: Array<{ taskId: string; key: string | null; start: number; end: number; pid: number }> = [];
  for (const line of lines) {
    const id = `${line.pid}/${line.taskId}/${line.attempt}`;
    if (line.event === "start") open.set(id, line);
    else if (line.event === "end" || line.event === "abort" || line.event === "fail") {
      const start = open.get(id);
      if (!start) continue;
      open.delete(id);
      result.push({
        taskId: line.taskId as string,
        key: line.key ?? null,
        start: start.t,
        end: line.t,
        pid: line.pid,
      });
    }
  }
  return result;
}
