import type { AgentLimits } from "@omnidaemon/protocol";
import { FairScheduler } from "./fair-scheduler";
import { ADMITTED, Throttle } from "./throttle";
import { MAX_WAIT_MS } from "./token-bucket";

const T0 = 1_700_000_000_000;
const PARTITIONS = 24; // a 12-partition topic and its retry topic

/** Admits greedily (as a worker with an endless backlog would) for [from, to), in 1 ms steps; admissions by ms. */
function admitGreedily(throttle: Throttle, from: number, to: number, tenant = ""): number[] {
  const at: number[] = [];
  for (let now = from; now < to; now++) {
    while (throttle.admit(tenant, now) === ADMITTED) at.push(now);
  }
  return at;
}

/** The most admissions in any window of `windowMs` (sliding by 1 ms). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while ((sorted[to] as number) - (sorted[from] as number) >= windowMs) from++;
    best = Math.max(best, to - from + 1);
  }
  return best;
}

const limit = (
  perSecond: number,
  extra: Partial<NonNullable<AgentLimits["rateLimit"]>> = {},
): AgentLimits => ({
  rateLimit: { perSecond, ...extra },
});

describe("Throttle", () => {
  it("admits everything and limits nothing without limits", () => {
    const throttle = new Throttle();
    throttle.onAssignment(8, PARTITIONS, T0);
    for (let i = 0; i < 1000; i++) expect(throttle.admit("t", T0)).toBe(ADMITTED);
    expect(throttle.inFlightLimit).toBe(Number.POSITIVE_INFINITY);
    expect(throttle.perTenant).toBe(false);
    expect(throttle.onRetryAfter(1000, T0)).toBeUndefined();
    expect(throttle.readings(T0)).toMatchObject({
      effectiveRatePerSecond: undefined,
      inFlightLimit: undefined,
    });
  });

  it("admits nothing before it owns a partition, and says to ask again later rather than never", () => {
    const throttle = new Throttle({ limits: limit(50) });
    expect(throttle.admit("", T0)).toBe(MAX_WAIT_MS);
  });

  it("enforces its share of the rate: 8 of 24 partitions of 30/s is 10/s", () => {
    const throttle = new Throttle({ limits: limit(30, { burst: 30 }) });
    throttle.onAssignment(8, PARTITIONS, T0 - 60_000); // owned for a minute: its bucket is full (10)
    const admitted = admitGreedily(throttle, T0, T0 + 10_000);
    expect(admitted.length).toBeGreaterThanOrEqual(10 + 99);
    expect(admitted.length).toBeLessThanOrEqual(10 + 100);
    expect(throttle.readings(T0 + 10_000)).toMatchObject({
      effectiveRatePerSecond: 30,
      workerRatePerSecond: 10,
      share: 1 / 3,
      factor: 1,
    });
  });

  it("keeps a fleet of 3 within B + R·T in every window while it scales 1 → 3 → 1 (the stated bound)", () => {
    const R = 50;
    const B = 50;
    const [a, b, c] = [0, 1, 2].map(() => new Throttle({ limits: limit(R, { burst: B }) })) as [
      Throttle,
      Throttle,
      Throttle,
    ];
    const admitted: number[] = [];
    a.onAssignment(PARTITIONS, PARTITIONS, T0 - 60_000);
    admitted.push(...admitGreedily(a, T0, T0 + 10_000));
    // Scale out: every member takes its new assignment (eager protocol: the old owner gives its partitions up).
    for (const w of [a, b, c]) w.onAssignment(8, PARTITIONS, T0 + 10_000);
    for (let now = T0 + 10_000; now < T0 + 20_000; now += 1) {
      for (const w of [a, b, c]) admitted.push(...admitGreedily(w, now, now + 1));
    }
    // Scale in: b and c leave, a owns everything again.
    a.onAssignment(PARTITIONS, PARTITIONS, T0 + 20_000);
    admitted.push(...admitGreedily(a, T0 + 20_000, T0 + 30_000));

    for (const windowMs of [100, 1000, 5000, 30_000]) {
      expect(maxInWindow(admitted, windowMs)).toBeLessThanOrEqual(B + (R * windowMs) / 1000);
    }
    // And it is not a trivial bound: over 30 s the fleet gets close to R·T.
    expect(admitted.length).toBeGreaterThanOrEqual(R * 30 - 5);
  });

  it("gives each tenant its own budget with scope tenant: a refused tenant does not hold back another", () => {
    const throttle = new Throttle({ limits: limit(10, { burst: 1, scope: "tenant" }) });
    throttle.onAssignment(PARTITIONS, PARTITIONS, T0 - 60_000);
    expect(throttle.perTenant).toBe(true);
    expect(throttle.admit("acme", T0)).toBe(ADMITTED);
    expect(throttle.admit("acme", T0)).toBe(100);
    expect(throttle.admit("globex", T0)).toBe(ADMITTED);
    expect(admitGreedily(throttle, T0 + 1, T0 + 1001, "acme")).toHaveLength(10);
  });

  it("starts a tenant bucket it never had as if created at the last assignment change, not full", () => {
    const throttle = new Throttle({ limits: limit(10, { burst: 10, scope: "tenant" }) });
    throttle.onAssignment(PARTITIONS, PARTITIONS, T0);
    // 300 ms after the partitions arrived: 3 tokens, not the whole burst of 10.
    expect(admitGreedily(throttle, T0 + 300, T0 + 301, "new-tenant")).toHaveLength(3);
  });

  it("forgets full tenant buckets beyond its bound, and nothing changes for those tenants", () => {
    const throttle = new Throttle({
      limits: limit(1000, { burst: 1, scope: "tenant" }),
      maxTenantBuckets: 10,
    });
    throttle.onAssignment(PARTITIONS, PARTITIONS, T0 - 60_000);
    for (let i = 0; i < 100; i++) expect(throttle.admit(`t${i}`, T0 + i * 10)).toBe(ADMITTED);
    // Every bucket refilled within 1 ms, so the sweeps forgot them; each tenant still gets its burst at once.
    expect(throttle.trackedTenants).toBeLessThanOrEqual(20);
    expect(throttle.admit("t5", T0 + 2000)).toBe(ADMITTED);
    expect(throttle.admit("t5", T0 + 2000)).toBeGreaterThan(0);
  });

  it("applies new limits live: a lower rate at once, a removed one admits everything", () => {
    const throttle = new Throttle({ limits: limit(100) });
    throttle.onAssignment(PARTITIONS, PARTITIONS, T0 - 60_000);
    throttle.setLimits(limit(5, { burst: 1 }), T0);
    expect(admitGreedily(throttle, T0, T0 + 1000)).toHaveLength(5);
    throttle.setLimits(limit(50, { burst: 1 }), T0 + 1000);
    expect(admitGreedily(throttle, T0 + 1000, T0 + 2000)).toHaveLength(50);
  });

  it("admits at once after a limit is removed", () => {
    const throttle = new Throttle({ limits: limit(1, { burst: 1 }) });
    throttle.onAssignment(PARTITIONS, PARTITIONS, T0 - 60_000);
    expect(throttle.admit("", T0)).toBe(ADMITTED);
    expect(throttle.admit("", T0)).toBeGreaterThan(0);
    throttle.setLimits({ maxInFlight: 4 }, T0);
    for (let i = 0; i < 100; i++) expect(throttle.admit("", T0)).toBe(ADMITTED);
  });

  it("starts over when the scope changes: per-tenant buckets replace the agent's", () => {
    const throttle = new Throttle({ limits: limit(10, { burst: 1 }) });
    throttle.onAssignment(PARTITIONS, PARTITIONS, T0 - 60_000);
    expect(throttle.admit("a", T0)).toBe(ADMITTED);
    expect(throttle.admit("b", T0)).toBeGreaterThan(0);
    throttle.setLimits(limit(10, { burst: 1, scope: "tenant" }), T0);
    expect(throttle.admit("b", T0)).toBe(ADMITTED);
  });

  it("lowers the rate on a RetryAfterError, returns the hold to publish, and recovers by itself", () => {
    const throttle = new Throttle({
      limits: limit(100),
      adaptive: { decreaseFactor: 0.5, recoveryPerSecond: 0.1 },
    });
    throttle.onAssignment(PARTITIONS, PARTITIONS, T0 - 60_000);
    const hold = throttle.onRetryAfter(2000, T0);
    expect(hold).toEqual({ factor: 0.5, holdUntil: T0 + 2000, retryAfterMs: 2000 });
    expect(throttle.effectiveRate(T0 + 1000)).toBe(50);
    // The burst is cut with the rate: at most 50 + 50/s over the hold.
    expect(admitGreedily(throttle, T0, T0 + 2000).length).toBeLessThanOrEqual(50 + 100);
    expect(throttle.effectiveRate(T0 + 4000)).toBeCloseTo(70);
    expect(throttle.effectiveRate(T0 + 7000)).toBe(100);
  });

  it("spreads a push-back to the fleet: workers that read the hint lower their share too", () => {
    const workers = [0, 1, 2].map(
      () => new Throttle({ limits: limit(60), adaptive: { decreaseFactor: 0.5 } }),
    );
    for (const w of workers) w.onAssignment(8, PARTITIONS, T0 - 60_000);
    const hold = workers[0]?.onRetryAfter(5000, T0);
    expect(hold).toBeDefined();
    for (const w of workers.slice(1))
      expect(w.onRateHint(hold as NonNullable<typeof hold>, T0 + 50)).toBe(true);
    for (const w of workers) expect(w.readings(T0 + 100).workerRatePerSecond).toBe(10);
    // The writer reads its own hint back from the topic: nothing changes.
    expect(workers[0]?.onRateHint(hold as NonNullable<typeof hold>, T0 + 60)).toBe(false);
  });

  it("shares maxInFlight by partitions, lowered with the adaptive factor, 0 before an assignment", () => {
    const throttle = new Throttle({ limits: { maxInFlight: 30 }, adaptive: { decreaseFactor: 0.5 } });
    expect(throttle.inFlightLimit).toBe(0);
    throttle.onAssignment(8, PARTITIONS, T0);
    expect(throttle.inFlightLimit).toBe(10);
    expect(throttle.onRetryAfter(10_000, T0)).toBeDefined(); // maxInFlight alone can be lowered
    expect(throttle.inFlightLimit).toBe(5);
    throttle.setLimits({ maxInFlight: 2 }, T0 + 1);
    expect(throttle.inFlightLimit).toBe(1); // ⌊2 × 0.5⌋ = 1 fleet-wide; a worker with partitions runs at least 1
  });

  it("counts throttled time only while ready work is held back", () => {
    const throttle = new Throttle({ limits: limit(10, { burst: 1 }) });
    throttle.onAssignment(PARTITIONS, PARTITIONS, T0 - 60_000);
    expect(throttle.admit("", T0)).toBe(ADMITTED);
    expect(throttle.admit("", T0)).toBe(100);
    expect(throttle.throttledMs(T0 + 40)).toBe(40);
    expect(throttle.admit("", T0 + 50)).toBe(50); // asked again meanwhile: the same interval
    expect(throttle.admit("", T0 + 100)).toBe(ADMITTED);
    expect(throttle.throttledMs(T0 + 5000)).toBe(100); // idle afterwards is not throttled
    expect(throttle.admit("", T0 + 5000)).toBe(ADMITTED);
    expect(throttle.admit("", T0 + 5000)).toBe(100);
    expect(throttle.readings(T0 + 5100).throttledSeconds).toBeCloseTo(0.2);
  });

  it("reads per-tenant queue depths from the ready-queue it gates, and weights from the limits", () => {
    const throttle = new Throttle({ limits: { tenantWeights: { acme: 3 } } });
    const queue = new FairScheduler<{ tenant: string }>(1, {
      tenantOf: (item) => item.tenant,
      gate: throttle,
      weightOf: (tenant) => throttle.weightOf(tenant),
    });
    throttle.attachQueue(queue);
    queue.enqueue("k1", { tenant: "acme" });
    queue.enqueue("k2", { tenant: "acme" });
    queue.enqueue("k3", { tenant: "globex" });
    expect(Object.fromEntries(throttle.tenantQueueDepths())).toEqual({ acme: 2, globex: 1 });
    expect(throttle.weightOf("acme")).toBe(3);
    expect(throttle.weightOf("globex")).toBe(1);
    expect(throttle.weightOf("constructor")).toBe(1); // not Object.prototype's
  });
});
