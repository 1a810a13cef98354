/** The most of the budget kept for the steps after the drain: commit, leave the groups, deregister, flush. */
const CLOSING_RESERVE_MS = 5000;

/**
 * How long in-flight deliveries may run after shutdown begins, from the one shutdown budget
 * (`OMNIDAEMON_SHUTDOWN_TIMEOUT_MS`) of the whole process: every agent drains in parallel until this deadline,
 * and the rest of the budget (a fifth of it, at most 5 s) is left for committing, leaving the groups,
 * deregistering and flushing the producer, so a shutdown that drains in time also ends in time.
 */
export function drainTimeoutMsOf(shutdownTimeoutMs: number): number {
  return shutdownTimeoutMs - Math.min(CLOSING_RESERVE_MS, Math.floor(shutdownTimeoutMs / 5));
}
