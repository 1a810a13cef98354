import { FairScheduler, Throttle } from "@omnidaemon/bus-kafka";
import { Registry } from "prom-client";
import { NO_TENANT_LABEL, OTHER_TENANTS_LABEL, ThrottleMetrics, tenantSeries } from "./throttle-metrics";

const T0 = 1_700_000_000_000;

/** The value lines of one metric (HELP and TYPE lines dropped), as prom-client exposes them. */
async function values(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

const SERIES = {
  omnidaemon_throttled_seconds_total: "counter",
  omnidaemon_rate_limit_effective_per_second: "gauge",
  omnidaemon_rate_limit_worker_per_second: "gauge",
  omnidaemon_rate_limit_factor: "gauge",
  omnidaemon_in_flight_limit: "gauge",
  omnidaemon_tenant_queue_depth: "gauge",
} as const;

describe("ThrottleMetrics", () => {
  let registry: Registry;
  let clock: number;
  let metrics: ThrottleMetrics;

  beforeEach(() => {
    registry = new Registry();
    clock = T0;
    metrics = new ThrottleMetrics({ registry, now: () => clock, maxTenantSeries: 3 });
  });

  /** An agent's throttle (50/s fleet-wide, max 20 in flight) owning half the partitions, with a queue. */
  function limitedAgent() {
    const throttle = new Throttle({ limits: { rateLimit: { perSecond: 50, burst: 1 }, maxInFlight: 20 } });
    throttle.onAssignment(12, 24, T0 - 60_000);
    const queue = new FairScheduler<{ tenant: string }>(8, {
      tenantOf: (item) => item.tenant,
      gate: throttle,
    });
    throttle.attachQueue(queue);
    return { throttle, queue };
  }

  it("registers every series with its type and a help text, in the registry it was given", async () => {
    const metricsJson = await registry.getMetricsAsJSON();
    const registered = Object.fromEntries(metricsJson.map((m) => [m.name, m.type]));
    expect(registered).toEqual(SERIES);
    for (const metric of metricsJson) expect(metric.help.length).toBeGreaterThan(20);
    // Nothing is tracked yet: no series at all.
    for (const name of Object.keys(SERIES)) expect(await values(registry, name)).toEqual([]);
  });

  it("reads an agent's throttle at scrape time: rates, factor, in-flight limit, queue depth per tenant", async () => {
    const { throttle, queue } = limitedAgent();
    metrics.track("llm", "writer", throttle);
    queue.enqueue("k1", { tenant: "acme" });
    queue.enqueue("k2", { tenant: "acme" });
    queue.enqueue("k3", { tenant: "" });
    const at = 'topic="llm",agent="writer"';
    expect(await values(registry, "omnidaemon_rate_limit_effective_per_second")).toEqual([
      `omnidaemon_rate_limit_effective_per_second{${at}} 50`,
    ]);
    expect(await values(registry, "omnidaemon_rate_limit_worker_per_second")).toEqual([
      `omnidaemon_rate_limit_worker_per_second{${at}} 25`,
    ]);
    expect(await values(registry, "omnidaemon_rate_limit_factor")).toEqual([
      `omnidaemon_rate_limit_factor{${at}} 1`,
    ]);
    expect(await values(registry, "omnidaemon_in_flight_limit")).toEqual([
      `omnidaemon_in_flight_limit{${at}} 10`,
    ]);
    expect(await values(registry, "omnidaemon_tenant_queue_depth")).toEqual([
      `omnidaemon_tenant_queue_depth{${at},tenant="acme"} 2`,
      `omnidaemon_tenant_queue_depth{${at},tenant="${NO_TENANT_LABEL}"} 1`,
    ]);
  });

  it("counts throttled time as a counter that only grows, and shows the factor drop after a push-back", async () => {
    const { throttle } = limitedAgent();
    metrics.track("llm", "writer", throttle);
    expect(throttle.admit("", clock)).toBe(0);
    expect(throttle.admit("", clock)).toBeGreaterThan(0); // refused: held back from now on
    clock += 30;
    expect(await values(registry, "omnidaemon_throttled_seconds_total")).toEqual([
      'omnidaemon_throttled_seconds_total{topic="llm",agent="writer"} 0.03',
    ]);
    clock += 30;
    const [line] = await values(registry, "omnidaemon_throttled_seconds_total");
    expect(Number(line?.split(" ")[1])).toBeCloseTo(0.04); // the wait was 40 ms: no more is counted
    throttle.onRetryAfter(5000, clock);
    expect(await values(registry, "omnidaemon_rate_limit_factor")).toEqual([
      'omnidaemon_rate_limit_factor{topic="llm",agent="writer"} 0.8',
    ]);
  });

  it("has no rate or in-flight series for an agent without limits", async () => {
    metrics.track("files", "thumbnailer", new Throttle());
    for (const name of [
      "omnidaemon_rate_limit_effective_per_second",
      "omnidaemon_rate_limit_worker_per_second",
      "omnidaemon_rate_limit_factor",
      "omnidaemon_in_flight_limit",
    ]) {
      expect(await values(registry, name)).toEqual([]);
    }
  });

  it("keeps the deepest tenants as series and sums the rest, and drops tenants whose queue emptied", async () => {
    const { throttle, queue } = limitedAgent();
    metrics.track("llm", "writer", throttle);
    for (let n = 0; n < 10; n++) {
      for (let i = 0; i <= n; i++) queue.enqueue(`t${n}-${i}`, { tenant: `t${n}` });
    }
    const lines = await values(registry, "omnidaemon_tenant_queue_depth");
    expect(lines).toHaveLength(4);
    expect(lines).toContain(`omnidaemon_tenant_queue_depth{topic="llm",agent="writer",tenant="t9"} 10`);
    expect(lines).toContain(
      `omnidaemon_tenant_queue_depth{topic="llm",agent="writer",tenant="${OTHER_TENANTS_LABEL}"} 28`,
    );
    queue.drop(() => true);
    expect(await values(registry, "omnidaemon_tenant_queue_depth")).toEqual([]);
  });

  it("removes an agent's series when it is untracked", async () => {
    const { throttle, queue } = limitedAgent();
    metrics.track("llm", "writer", throttle);
    queue.enqueue("k1", { tenant: "acme" });
    throttle.admit("", clock);
    throttle.admit("", clock);
    clock += 10;
    await registry.metrics();
    metrics.untrack("llm", "writer");
    for (const name of Object.keys(SERIES)) expect(await values(registry, name)).toEqual([]);
  });

  it("orders tenant series by depth, then by name", () => {
    const depths = new Map([
      ["b", 5],
      ["a", 5],
      ["c", 1],
    ]);
    expect([...tenantSeries(depths, 2)]).toEqual([
      ["a", 5],
      ["b", 5],
      [OTHER_TENANTS_LABEL, 1],
    ]);
    expect([...tenantSeries(depths, 5)]).toHaveLength(3);
  });
});
