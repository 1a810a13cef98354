import type { LatencySummary } from "../latency-buckets";

/** Increments for one agent's lifetime counters; every field optional, none negative. */
export interface CounterDelta {
  received?: number;
  succeeded?: number;
  failed?: number;
  retried?: number;
  deadLettered?: number;
  /** One handler duration to add to the latency buckets. */
  latencyMs?: number;
  /** Several handler durations (a batch of events), one entry each; added with `latencyMs` if both are given. */
  latenciesMs?: readonly number[];
}

export interface CounterSummary {
  topic: string;
  agent: string;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  deadLettered: number;
  latency: LatencySummary;
}

export interface CountersRepository {
  /**
   * Adds `delta` to the agent's counters in one statement (insert, or increment of the locked row), so concurrent
   * calls from several coordinators never lose an update.
   */
  apply(topic: string, agent: string, delta: CounterDelta): Promise<void>;
  /** Lifetime totals and latency percentiles per agent, ordered by topic and agent. */
  summary(options?: { topic?: string }): Promise<CounterSummary[]>;
}
