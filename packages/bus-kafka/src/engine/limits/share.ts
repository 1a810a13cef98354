/*
 * A worker's share of an agent's fleet-wide budget, from what it owns — no per-event coordination.
 *
 * `total` counts the partitions the agent's consumer group reads: its topic's and its retry topic's. A worker that
 * owns `owned` of them enforces:
 *
 * - rate and burst: `share = owned / total` of the fleet-wide rate R and burst B (exact fractions);
 * - in flight: ⌊M × share⌋ of the fleet-wide M, at least 1 for a worker that owns anything, so every partition
 *   makes progress ({@link inFlightShare}).
 *
 * Error bound. While every partition has exactly one owner (a settled assignment) the shares add up to exactly 1,
 * so the fleet never starts more than B + R·T events in any window of length T (each worker's bucket admits at
 * most its capacity plus its rate × T, see TokenBucket) and never runs more than M at once — up to two rounding
 * exceptions, each at most one event per worker, and none when B ≥ total and M ≥ total:
 *   - a worker whose burst share B·share is below one token still admits one event when its bucket is full
 *     (the fleet's burst is then at most Σ max(B·shareᵢ, 1) ≤ B + W for W workers);
 *   - a worker whose M·share is below one slot still runs one delivery (at most M + W in flight).
 * During a rebalance a partition can have two owners for a moment — the new owner was told, the old one has not
 * yet handled its revocation — and for that moment the fleet's rate may exceed R by R × (doubly owned)/total.
 * Under the eager protocol every member gives its partitions up before the new assignment is handed out, so the
 * moment is the spread between members receiving the same SyncGroup answer (milliseconds). A member thrown out of
 * the group without noticing (its event loop blocked past the session timeout) keeps its share until its next
 * heartbeat tells it, at most one heartbeat interval after it wakes.
 */

/** This worker's fraction of the fleet-wide rate and burst: the partitions it owns over all of the agent's. */
export function partitionShare(owned: number, total: number): number {
  if (!Number.isInteger(owned) || !Number.isInteger(total) || owned < 0 || total < 0) {
    throw new RangeError(`owned and total must be integers >= 0, got ${owned} of ${total}`);
  }
  if (total === 0 || owned === 0) return 0;
  return Math.min(owned, total) / total;
}

/**
 * Deliveries this worker may run at once when the fleet may run `maxInFlight`: ⌊M × share⌋, at least 1 for a
 * worker that owns any partition (its partitions have no other worker to make progress), 0 for one that owns none.
 *
 * Rounding down keeps the fleet's sum at or below M whenever every worker's M × share is at least 1 (always when
 * M ≥ total); it costs less than one slot per worker (the fleet runs at least M − W + 1 with W workers). Spreading
 * the slots over partition numbers instead would add up to M exactly, but the sticky assignor hands partitions out
 * round robin, and whole workers would then get far less than their share (10 slots over 24 partitions and 3
 * workers: 2, 4 and 4).
 */
export function inFlightShare(maxInFlight: number, owned: number, total: number): number {
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new RangeError(`maxInFlight must be an integer >= 1, got ${maxInFlight}`);
  }
  const share = partitionShare(owned, total);
  if (share === 0) return 0;
  // The epsilon keeps an exact product (M × k / total = 3) from rounding down to 2 by floating-point dust.
  return Math.max(1, Math.floor(maxInFlight * share + 1e-9));
}
