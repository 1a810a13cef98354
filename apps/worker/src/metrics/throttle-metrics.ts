import type { ThrottleReadings } from "@omnidaemon/bus-kafka";
import { Counter, Gauge, type Registry } from "prom-client";

/** Where one agent's readings come from: its engine's Throttle (`Throttle.readings`). */
export interface ThrottleSource {
  readings(now: number): ThrottleReadings;
}

export interface ThrottleMetricsOptions {
  /** Where every series is registered; the caller owns it (no default registry). */
  registry: Registry;
  /** Clock (tests). @default Date.now */
  now?: () => number;
  /**
   * Tenants with a queue-depth series of their own, per agent: the deepest ones; the rest are summed under
   * tenant="__other__", so thousands of tenants do not make thousands of series. @default 20
   */
  maxTenantSeries?: number;
}

/** The tenant label of events without a tenant_id. */
export const NO_TENANT_LABEL = "(none)";
/** The tenant label that sums the queues of the tenants beyond `maxTenantSeries`. */
export const OTHER_TENANTS_LABEL = "__other__";

const AGENT = ["topic", "agent"] as const;

interface Tracked {
  topic: string;
  agent: string;
  source: ThrottleSource;
  /** The throttled seconds already added to the counter. */
  counted: number;
  /** Tenant labels with a depth series now, to remove the ones that emptied. */
  tenants: Set<string>;
}

/**
 * The fleet-wide limits as one worker enforces them (docs/rate-limits.md, "Metrics"): read from each agent's
 * Throttle when Prometheus scrapes, so the engine's pump pays nothing for them.
 *
 * | series | type | meaning |
 * | --- | --- | --- |
 * | `omnidaemon_throttled_seconds_total` | counter | time ready events waited for the rate limit on this worker |
 * | `omnidaemon_rate_limit_effective_per_second` | gauge | the fleet-wide rate now, after adaptation (per tenant with scope tenant) |
 * | `omnidaemon_rate_limit_worker_per_second` | gauge | this worker's part of it (its share of the partitions) |
 * | `omnidaemon_rate_limit_factor` | gauge | the adaptive factor: 1, or lower after a provider's push-back |
 * | `omnidaemon_in_flight_limit` | gauge | deliveries this worker may run at once under maxInFlight |
 * | `omnidaemon_tenant_queue_depth` | gauge | events waiting in the ready queue, per tenant |
 *
 * An agent without a rate limit has no rate series, one without maxInFlight no in-flight-limit series.
 * Aggregate the fleet-wide rate and factor with `max by (topic, agent)` (every worker reports the same value),
 * the worker rates and queue depths with `sum`.
 */
export class ThrottleMetrics {
  private readonly agents = new Map<string, Tracked>();
  private readonly throttled: Counter<"topic" | "agent">;
  private readonly depth: Gauge<"topic" | "agent" | "tenant">;

  constructor(options: ThrottleMetricsOptions) {
    const registers = [options.registry];
    const now = options.now ?? Date.now;
    const maxTenants = options.maxTenantSeries ?? 20;
    const agents = this.agents;
    // Read afresh by each series when Prometheus scrapes: a reading is a few arithmetic operations.
    const read = (): Array<[Tracked, ThrottleReadings]> => {
      const at = now();
      return [...agents.values()].map((tracked) => [tracked, tracked.source.readings(at)]);
    };
    const gauge = (
      name: string,
      help: string,
      value: (readings: ThrottleReadings) => number | undefined,
    ): Gauge<"topic" | "agent"> =>
      new Gauge({
        name,
        help,
        labelNames: AGENT,
        registers,
        collect() {
          this.reset();
          for (const [tracked, readings] of read()) {
            const v = value(readings);
            if (v !== undefined) this.set({ topic: tracked.topic, agent: tracked.agent }, v);
          }
        },
      });

    this.throttled = new Counter({
      name: "omnidaemon_throttled_seconds_total",
      help: "Time during which ready events of the agent waited for its rate limit on this worker.",
      labelNames: AGENT,
      registers,
      collect() {
        for (const [tracked, readings] of read()) {
          const delta = readings.throttledSeconds - tracked.counted;
          if (delta > 0) {
            this.inc({ topic: tracked.topic, agent: tracked.agent }, delta);
            tracked.counted = readings.throttledSeconds;
          }
        }
      },
    });
    gauge(
      "omnidaemon_rate_limit_effective_per_second",
      "The agent's fleet-wide rate limit now, after adaptation (per tenant with scope tenant).",
      (r) => r.effectiveRatePerSecond,
    );
    gauge(
      "omnidaemon_rate_limit_worker_per_second",
      "This worker's part of the agent's fleet-wide rate (its share of the agent's partitions).",
      (r) => r.workerRatePerSecond,
    );
    gauge(
      "omnidaemon_rate_limit_factor",
      "The adaptive factor of the agent's limits: 1, or lower after a provider pushed back (RetryAfterError).",
      (r) => (r.effectiveRatePerSecond === undefined && r.inFlightLimit === undefined ? undefined : r.factor),
    );
    gauge(
      "omnidaemon_in_flight_limit",
      "Deliveries of the agent this worker may run at once under its fleet-wide maxInFlight.",
      (r) => r.inFlightLimit,
    );
    this.depth = new Gauge({
      name: "omnidaemon_tenant_queue_depth",
      help: `Events of the agent waiting in this worker's ready queue, per tenant (the deepest ${maxTenants}; the rest summed as ${OTHER_TENANTS_LABEL}).`,
      labelNames: [...AGENT, "tenant"],
      registers,
      collect() {
        for (const [tracked, readings] of read()) {
          const at = { topic: tracked.topic, agent: tracked.agent };
          const depths = tenantSeries(readings.tenantQueueDepths, maxTenants);
          for (const tenant of tracked.tenants) {
            if (!depths.has(tenant)) this.remove({ ...at, tenant });
          }
          tracked.tenants = new Set(depths.keys());
          for (const [tenant, depth] of depths) this.set({ ...at, tenant }, depth);
        }
      },
    });
  }

  /** Reports an agent's throttle from now on (the engine's consumer of that agent hands it over). */
  track(topic: string, agent: string, source: ThrottleSource): void {
    const key = `${topic}\u0000${agent}`;
    const previous = this.agents.get(key);
    this.agents.set(key, {
      topic,
      agent,
      source,
      // A new throttle (a restarted consumer) counts from 0; the counter goes on from where it was.
      counted: previous?.source === source ? previous.counted : 0,
      tenants: previous?.tenants ?? new Set(),
    });
  }

  /** Stops reporting an agent (it was deleted or stopped on this worker) and removes its series. */
  untrack(topic: string, agent: string): void {
    const key = `${topic}\u0000${agent}`;
    const tracked = this.agents.get(key);
    if (tracked === undefined) return;
    this.agents.delete(key);
    this.throttled.remove({ topic, agent });
    for (const tenant of tracked.tenants) this.depth.remove({ topic, agent, tenant });
  }
}

/** The depth series of one agent: the `max` deepest tenants by label, the rest summed as __other__. */
export function tenantSeries(depths: ReadonlyMap<string, number>, max: number): Map<string, number> {
  const sorted = [...depths].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const series = new Map<string, number>();
  let other = 0;
  sorted.forEach(([tenant, depth], index) => {
    if (index < max) series.set(tenant === "" ? NO_TENANT_LABEL : tenant, depth);
    else other += depth;
  });
  if (other > 0) series.set(OTHER_TENANTS_LABEL, other);
  return series;
}
