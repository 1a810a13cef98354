import { formatRateLimit, formatTenantWeights, resolveRateLimit, summarizeLimits } from "./limits-text";

describe("limits in words", () => {
  it("resolves a rate's defaults: one second of it as burst (at least 1), scope agent", () => {
    expect(resolveRateLimit({ perSecond: 50 })).toEqual({ perSecond: 50, burst: 50, scope: "agent" });
    expect(resolveRateLimit({ perMinute: 6, scope: "tenant" })).toEqual({
      perSecond: 0.1,
      burst: 1,
      scope: "tenant",
    });
    expect(resolveRateLimit({ perSecond: 2.5, burst: 7 })).toEqual({
      perSecond: 2.5,
      burst: 7,
      scope: "agent",
    });
  });

  it("states a rate with its resolved burst and scope, and what stands for none", () => {
    expect(formatRateLimit({ perSecond: 50 })).toBe("50/s, burst 50");
    expect(formatRateLimit({ perMinute: 6, scope: "tenant" })).toBe("6/min, burst 1, per tenant");
    expect(formatRateLimit(null)).toBe("-");
    expect(formatRateLimit(undefined, "no limit")).toBe("no limit");
  });

  it("lists tenant weights", () => {
    expect(formatTenantWeights({ acme: 3, free: 0.5 })).toBe("acme=3, free=0.5");
    expect(formatTenantWeights({}, "equal")).toBe("equal");
    expect(formatTenantWeights(null)).toBe("-");
  });

  it("summarizes an agent's limits in one line", () => {
    expect(summarizeLimits({})).toBe("none");
    expect(summarizeLimits({ rateLimit: { perSecond: 5 }, maxInFlight: 2, tenantWeights: { a: 2 } })).toBe(
      "5/s, burst 5; max in flight 2; tenant weights a=2",
    );
  });
});
