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
});
