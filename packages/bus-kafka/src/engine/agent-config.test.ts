import { BusError } from "../errors";
import { parseAgentRuntimeConfig } from "./agent-config";

describe("parseAgentRuntimeConfig", () => {
  it("fills documented defaults", () => {
    expect(parseAgentRuntimeConfig({})).toEqual({
      maxRetries: 3,
      reclaimIdleMs: 300_000,
      dlqEnabled: true,
      concurrency: 8,
      startFrom: "earliest",
      strictKeyOrder: false,
      retryBackoffMs: 1000,
      maxRetryBackoffMs: 60_000,
      abortGraceMs: 30_000,
      results: "all",
      reportProcessingAfterMs: 250,
    });
  });

  it("accepts results all, failures or none, and refuses anything else naming config.results", () => {
    expect(parseAgentRuntimeConfig({ results: "failures" }).results).toBe("failures");
    expect(parseAgentRuntimeConfig({ results: "none", reportProcessingAfterMs: 0 })).toMatchObject({
      results: "none",
      reportProcessingAfterMs: 0,
    });
    expect(() => parseAgentRuntimeConfig({ results: "some" })).toThrow(/config\.results/);
    expect(() => parseAgentRuntimeConfig({ reportProcessingAfterMs: -1 })).toThrow(
      /config\.reportProcessingAfterMs/,
    );
  });

  it("keeps maxRetries 0 as 'no retry' (the reference system turned 0 into the default)", () => {
    expect(parseAgentRuntimeConfig({ maxRetries: 0 }).maxRetries).toBe(0);
  });

  it("names the offending field", () => {
    expect(() => parseAgentRuntimeConfig({ concurrency: 0 })).toThrow(/config\.concurrency/);
    try {
      parseAgentRuntimeConfig({ maxRetries: -1 });
    } catch (error) {
      expect(error).toBeInstanceOf(BusError);
      expect((error as BusError).field).toBe("config.maxRetries");
    }
    expect.assertions(3);
  });

  it("refuses unknown keys so a typo does not silently run with the default", () => {
    expect(() => parseAgentRuntimeConfig({ maxRetry: 5 })).toThrow(/maxRetry/);
  });

  it("takes the fleet-wide limits as they are, with no default (absent means no limit)", () => {
    const limits = {
      rateLimit: { perMinute: 600, burst: 20, scope: "tenant" as const },
      maxInFlight: 16,
      tenantWeights: { acme: 3 },
    };
    expect(parseAgentRuntimeConfig(limits)).toMatchObject(limits);
    expect(parseAgentRuntimeConfig({}).rateLimit).toBeUndefined();
  });

  it.each([
    [
      { rateLimit: { perSecond: 1, perMinute: 60 } },
      "config.rateLimit",
      /exactly one of perSecond and perMinute/,
    ],
    [{ rateLimit: { perSecond: 0 } }, "config.rateLimit.perSecond", />0/],
    [{ rateLimit: { perSecond: 5, burst: 0 } }, "config.rateLimit.burst", />=1/],
    [{ rateLimit: { perSecond: 5, scope: "pod" } }, "config.rateLimit.scope", /agent|tenant/],
    [{ maxInFlight: 0 }, "config.maxInFlight", />=1/],
    [{ tenantWeights: { acme: -2 } }, "config.tenantWeights.acme", />0/],
  ])("refuses bad limits %j naming %s", (config, field, message) => {
    try {
      parseAgentRuntimeConfig(config);
      throw new Error("accepted");
    } catch (error) {
      expect((error as BusError).field).toBe(field);
      expect((error as BusError).message).toMatch(message);
    }
  });
});
