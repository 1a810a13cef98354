/**
 * What the engine lets kafkajs fetch, as pure decisions. kafkajs's own pause state is not a source of truth: a
 * crash and restart of its consumer group forgets it, so the engine keeps the inputs and re-applies the plan.
 */

/**
 * Back-pressure with hysteresis: on when `maxBuffered` records wait to start, off again at half of that, so
 * fetching does not flap on every delivery.
 */
export function backpressureAfter(on: boolean, buffered: number, maxBuffered: number): boolean {
  if (!on && buffered >= maxBuffered) return true;
  if (on && buffered <= maxBuffered / 2) return false;
  return on;
}

export interface PausePlan {
  /** Fetch nothing (draining, or back-pressure). */
  all: boolean;
  /** Otherwise: the retry partitions parked until their head record is due, ascending. */
  parkedRetryPartitions: number[];
  /** Equal for equal plans: the engine applies a plan only when its key changed. */
  key: string;
}

export function pausePlan(input: {
  draining: boolean;
  backpressured: boolean;
  parkedRetryPartitions: Iterable<number>;
}): PausePlan {
  if (input.draining || input.backpressured) return { all: true, parkedRetryPartitions: [], key: "all" };
  const parked = [...input.parkedRetryPartitions].sort((a, b) => a - b);
  return { all: false, parkedRetryPartitions: parked, key: parked.join(",") };
}
