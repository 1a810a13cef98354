// What a scale event costs the agent's group (B7, scale 1 → 3 → 1 under a steady publish rate), from the callbacks
// every worker recorded (fleet-log.ts) and the bench's publish times. The run is cut into windows: steady (publish
// start → first event), then one per event (the event → the next event; the last ends at the last publish). Pure;
// unit-tested in rebalance-cost.test.ts.
import type { Completion } from "./fleet-log";
import { spread } from "./report";

/** A change of the fleet: workers spawned, or stopped with SIGTERM. */
export interface ScaleEvent {
  /** e.g. "scale 1 → 3". */
  name: string;
  /** When the bench spawned or signalled the workers, epoch ms. */
  at: number;
  /** The processes that serve the group once the event is through (pids as the logs name them). */
  fleetAfter: string[];
}

export interface WindowCost {
  /** The window, epoch ms: [from, to). */
  from: number;
  to: number;
  /** Longest time in the window with no callback completed anywhere in the group (stop-the-world), ms. */
  groupStopMs: number;
  /** Longest time in the window one partition had no callback completed, ms (a partition moving between workers). */
  partitionPauseMs: number;
  /** Callbacks in the window for an event already completed before: re-runs. */
  duplicates: number;
  /** Events published in the window that no worker ever completed. */
  lost: number;
  /** Longest publish → first completion of an event published in the window, ms. */
  worstWaitMs: number;
}

export interface EventCost extends WindowCost {
  name: string;
  /**
   * Event → the moment the fleet after it is complete: every one of its processes has completed a callback, and every
   * partition has had a callback completed by one of them. NaN when that did not happen before the next event (or, for
   * the last, at all).
   */
  settledMs: number;
}

export interface RebalanceCost {
  steady: WindowCost;
  events: EventCost[];
  /** Over the whole run (exact): events published and never completed, callbacks that re-ran an event. */
  lost: number;
  duplicates: number;
}

export interface RebalanceInput {
  /** Every recorded callback, sorted by time (parseFleetLogs). */
  completions: Completion[];
  /** Publish time of event i, epoch ms. */
  publishedAt: ArrayLike<number>;
  /** First and last publish, epoch ms. */
  publishStart: number;
  publishEnd: number;
  events: ScaleEvent[];
  partitions: number;
}

/**
 * Longest stretch of [from, to) containing none of `times` (sorted), counting the stretch from the last time before
 * `from` and up to `to`: a stop that began just before the window is measured from the window's start.
 */
export function longestIdle(times: ArrayLike<number>, from: number, to: number): number {
  let longest = 0;
  let previous = from;
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    if (t < from) continue;
    if (t >= to) break;
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return Math.max(longest, to - previous);
}

export function rebalanceCost(input: RebalanceInput): RebalanceCost {
  const { completions, publishedAt, events, partitions } = input;
  const published = publishedAt.length;
  // The first completion of each event, and which callbacks re-ran one (completions are in time order).
  const firstAt = new Float64Array(published).fill(Number.NaN);
  const rerun = new Uint8Array(completions.length);
  completions.forEach((c, k) => {
    if (Number.isNaN(firstAt[c.index] as number)) firstAt[c.index] = c.at;
    else rerun[k] = 1;
  });
  const allTimes = completions.map((c) => c.at);
  const byPartition: number[][] = Array.from({ length: partitions }, () => []);
  for (const c of completions)
    if (c.partition >= 0 && c.partition < partitions) byPartition[c.partition]?.push(c.at);

  // Idle stretches are measured up to `to`; re-runs, loss and waits of the last window also count what happens
  // after the last publish (the fleet draining its backlog).
  const windowCost = (from: number, to: number, last: boolean): WindowCost => {
    const until = last ? Number.POSITIVE_INFINITY : to;
    let duplicates = 0;
    completions.forEach((c, k) => {
      if (rerun[k] === 1 && c.at >= from && c.at < until) duplicates++;
    });
    let lost = 0;
    let worstWaitMs = 0;
    for (let i = 0; i < published; i++) {
      const at = publishedAt[i] as number;
      if (at < from || at >= until) continue;
      const done = firstAt[i] as number;
      if (Number.isNaN(done)) lost++;
      else worstWaitMs = Math.max(worstWaitMs, done - at);
    }
    return {
      from,
      to,
      groupStopMs: longestIdle(allTimes, from, to),
      partitionPauseMs: Math.max(0, ...byPartition.map((times) => longestIdle(times, from, to))),
      duplicates,
      lost,
      worstWaitMs,
    };
  };

  const boundaries = events.map((e) => e.at);
  const steady = windowCost(input.publishStart, boundaries[0] ?? input.publishEnd, events.length === 0);
  const costs = events.map((event, n): EventCost => {
    const last = n === events.length - 1;
    const to = last ? input.publishEnd : (boundaries[n + 1] as number);
    const fleet = new Set(event.fleetAfter);
    const firstByPid = new Map<string, number>();
    const firstByPartition = new Map<number, number>();
    for (const c of completions) {
      if (c.at < event.at) continue;
      if (!last && c.at >= to) break;
      if (!fleet.has(c.pid)) continue;
      if (!firstByPid.has(c.pid)) firstByPid.set(c.pid, c.at);
      if (!firstByPartition.has(c.partition)) firstByPartition.set(c.partition, c.at);
    }
    const complete =
      firstByPid.size === fleet.size &&
      Array.from({ length: partitions }, (_, p) => firstByPartition.has(p)).every(Boolean);
    const settledAt = Math.max(...firstByPid.values(), ...firstByPartition.values());
    return {
      name: event.name,
      ...windowCost(event.at, to, last),
      settledMs: complete ? settledAt - event.at : Number.NaN,
    };
  });
  return {
    steady,
    events: costs,
    lost: firstAt.reduce((n, at) => (Number.isNaN(at) ? n + 1 : n), 0),
    duplicates: rerun.reduce((n, r) => n + r, 0),
  };
}

const seconds = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : "never");

function cell(values: number[], format: (v: number) => string): string {
  const s = spread(values);
  if (values.length === 1 || s.n === 0) return format(values[0] ?? Number.NaN);
  const never = s.n < values.length ? `, ${values.length - s.n}× never` : "";
  if (never === "" && s.min === s.max) return format(s.median);
  return `${format(s.median)} (${format(s.min)}–${format(s.max)}${never})`;
}

/**
 * B7's table: per client, the steady window and each scale event, one column per figure; with several rounds each
 * cell is the median with the range, as in the other tables (a fleet that never settled is left out and counted as
 * "never").
 */
export function rebalanceTable(byClient: Record<string, RebalanceCost[]>): string {
  const lines = [
    "| driver | window | no completion in the group (s) | longest partition pause (s) | settled after (s) | re-run | lost | worst publish → completion (s) |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const [client, rounds] of Object.entries(byClient)) {
    const windows: Array<{ name: string; pick: (r: RebalanceCost) => WindowCost & { settledMs?: number } }> =
      [
        { name: "steady (no scaling)", pick: (r) => r.steady },
        ...(rounds[0]?.events ?? []).map((event, n) => ({
          name: event.name,
          pick: (r: RebalanceCost) => r.events[n] as EventCost,
        })),
      ];
    for (const { name, pick } of windows) {
      const w = rounds.map(pick);
      const count = (v: number): string => String(Math.round(v));
      lines.push(
        `| ${client} | ${name} | ${cell(
          w.map((x) => x.groupStopMs),
          seconds,
        )} | ${cell(
          w.map((x) => x.partitionPauseMs),
          seconds,
        )} | ${
          w[0]?.settledMs === undefined
            ? "–"
            : cell(
                w.map((x) => x.settledMs as number),
                seconds,
              )
        } | ${cell(
          w.map((x) => x.duplicates),
          count,
        )} | ${cell(
          w.map((x) => x.lost),
          count,
        )} | ${cell(
          w.map((x) => x.worstWaitMs),
          seconds,
        )} |`,
      );
    }
  }
  return lines.join("\n");
}
