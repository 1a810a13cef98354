import type { AgentConsumerStatus } from "@omnidaemon/bus-kafka";
import type { ConsumerSnapshot } from "./consumer-health";

/** What the probes read from an agent consumer; `AgentConsumer` of @omnidaemon/bus-kafka fits as is. */
export interface ProbeConsumer {
  readonly names: { readonly agent: string; readonly topic: string };
  readonly runtimeConfig: { readonly reclaimIdleMs: number; readonly maxRetryBackoffMs: number };
  status(): AgentConsumerStatus;
}

interface Seen {
  runningSince?: number;
  pendingSince?: number;
}

/**
 * Remembers, between probe requests, since when each consumer has been running and since when it has had work
 * pending: `AgentConsumerStatus` has only "last" timestamps, which cannot tell "stuck for ten minutes" from "just
 * resumed after a day paused". Updated only when a probe is answered; no timers.
 */
export class ConsumerProgressTracker {
  private readonly seen = new Map<string, Seen>();

  observe(consumers: Iterable<ProbeConsumer>, now: number): ConsumerSnapshot[] {
    const snapshots: ConsumerSnapshot[] = [];
    const present = new Set<string>();
    for (const consumer of consumers) {
      const { agent, topic } = consumer.names;
      const key = `${topic}\u0000${agent}`;
      present.add(key);
      const status = consumer.status();
      const seen = this.seen.get(key) ?? {};
      const running = status.phase === "running";
      seen.runningSince = running ? (seen.runningSince ?? now) : undefined;
      const pending = running && status.inFlight + status.buffered > 0;
      seen.pendingSince = pending ? (seen.pendingSince ?? now) : undefined;
      this.seen.set(key, seen);
      snapshots.push({
        agent,
        topic,
        status,
        runningSince: seen.runningSince,
        pendingSince: seen.pendingSince,
      });
    }
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
    return snapshots;
  }
}

/**
 * The default stall limit: a delivery is aborted at `reclaimIdleMs` and its retry may wait `maxRetryBackoffMs`,
 * so a consumer that completes nothing for twice the first plus the second is stuck. The largest over all agents,
 * since one limit serves the process. 10 minutes when there are no agents (then it is never used).
 */
export function defaultStallAfterMs(consumers: Iterable<ProbeConsumer>): number {
  let limit = 0;
  for (const { runtimeConfig } of consumers) {
    limit = Math.max(limit, 2 * runtimeConfig.reclaimIdleMs + runtimeConfig.maxRetryBackoffMs);
  }
  return limit > 0 ? limit : 600_000;
}
