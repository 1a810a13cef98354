import type { CounterSummary, CountersRepository } from "@omnidaemon/store-pg";
import type { Logger } from "pino";
import { PeriodicService } from "./periodic-job";
import type { CounterInterval } from "./types";

/** How often the counters are sampled. @default 10 s */
export const DEFAULT_HISTORY_INTERVAL_MS = 10_000;
/** Points kept per agent: 90 × 10 s = the last 15 minutes. */
export const DEFAULT_HISTORY_POINTS = 90;

type Counts = Pick<CounterSummary, "received" | "succeeded" | "failed" | "retried" | "deadLettered">;

/** The lifetime counters of every agent at one instant. */
export interface CounterSnapshot {
  at: Date;
  /** By {@link historyKey}. */
  counters: ReadonlyMap<string, Counts>;
}

const ZERO: Counts = { received: 0, succeeded: 0, failed: 0, retried: 0, deadLettered: 0 };

export const historyKey = (topic: string, agent: string): string => `${topic}/${agent}`;

/**
 * What happened between consecutive snapshots, for one agent: one interval per pair, oldest first. An agent that
 * has no counters at the start of an interval had counted nothing yet (its row is created by its first event), so
 * the interval shows everything it counted; the first snapshot only sets the baseline, so lifetime totals from
 * before the coordinator started never show as a spike. Intervals after the agent's counters are gone have no
 * point. A counter that went down counts as 0, never negative.
 */
export function counterDeltas(snapshots: readonly CounterSnapshot[], key: string): CounterInterval[] {
  const points: CounterInterval[] = [];
  for (let i = 1; i < snapshots.length; i++) {
    const before = snapshots[i - 1] as CounterSnapshot;
    const after = snapshots[i] as CounterSnapshot;
    const to = after.counters.get(key);
    if (to === undefined) continue;
    const from = before.counters.get(key) ?? ZERO;
    const delta = (field: keyof Counts): number => Math.max(0, to[field] - from[field]);
    points.push({
      at: after.at,
      intervalMs: after.at.getTime() - before.at.getTime(),
      received: delta("received"),
      succeeded: delta("succeeded"),
      failed: delta("failed"),
      retried: delta("retried"),
      deadLettered: delta("deadLettered"),
    });
  }
  return points;
}

export interface MetricsHistoryOptions {
  /** @default DEFAULT_HISTORY_INTERVAL_MS */
  intervalMs?: number;
  /** @default DEFAULT_HISTORY_POINTS */
  points?: number;
  now?: () => Date;
}

/**
 * Throughput and failures over the last minutes, per agent, for the console's charts: samples the lifetime counters
 * (`agent_counters`, one small query) every `intervalMs` and keeps the last `points` intervals in memory. Every
 * replica samples for itself (the counters are shared, so replicas agree); a restarted coordinator starts an empty
 * history. Longer history is Prometheus's job (docs/operations.md).
 */
export class MetricsHistory extends PeriodicService {
  readonly name = "metrics-history";
  readonly intervalMs: number;
  private readonly keep: number;
  private readonly now: () => Date;
  private snapshots: CounterSnapshot[] = [];

  constructor(
    private readonly counters: Pick<CountersRepository, "summary">,
    logger: Logger,
    options: MetricsHistoryOptions = {},
  ) {
    const intervalMs = options.intervalMs ?? DEFAULT_HISTORY_INTERVAL_MS;
    super({ name: "metrics-history", intervalMs, logger, runAtStart: true });
    this.intervalMs = intervalMs;
    this.keep = (options.points ?? DEFAULT_HISTORY_POINTS) + 1;
    this.now = options.now ?? (() => new Date());
  }

  protected runJob(): Promise<void> {
    return this.sample();
  }

  /** Takes one snapshot now (the timer calls this; tests call it directly). */
  async sample(): Promise<void> {
    const at = this.now();
    const summary = await this.counters.summary({});
    const counters = new Map<string, Counts>();
    for (const c of summary) counters.set(historyKey(c.topic, c.agent), c);
    this.snapshots.push({ at, counters });
    if (this.snapshots.length > this.keep) this.snapshots = this.snapshots.slice(-this.keep);
  }

  /** The agent's intervals, oldest first; empty until two samples were taken. */
  series(topic: string, agent: string): CounterInterval[] {
    return counterDeltas(this.snapshots, historyKey(topic, agent));
  }
}
