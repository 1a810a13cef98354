import { RetryAfterError } from "../handler-errors";
import { backoffMs, MAX_TIMER_MS, retryDelayMs } from "./backoff";

describe("backoffMs", () => {
  it("doubles per failed attempt, between half and the full exponential value", () => {
    expect(backoffMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffMs(2, 1000, 60_000, () => 1)).toBe(2000);
    expect(backoffMs(3, 1000, 60_000, () => 0)).toBe(2000);
  });

  it("is capped at the maximum", () => {
    expect(backoffMs(30, 1000, 60_000, () => 1)).toBe(60_000);
  });

  it("spreads retries with jitter", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffMs(4, 1000, 60_000)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe("retryDelayMs", () => {
  const config = { retryBackoffMs: 1000, maxRetryBackoffMs: 60_000 };

  it("uses a RetryAfterError's delay instead of the backoff", () => {
    expect(retryDelayMs(new RetryAfterError(1500), 3, config, () => 1)).toBe(1500);
  });

  it("uses the backoff for any other error", () => {
    expect(retryDelayMs(new Error("boom"), 2, config, () => 1)).toBe(2000);
  });

  it("caps a RetryAfterError longer than a Node timer can hold instead of firing it at once", () => {
    expect(retryDelayMs(new RetryAfterError(2 ** 40), 1, config)).toBe(MAX_TIMER_MS);
    expect(retryDelayMs(new RetryAfterError(MAX_TIMER_MS + 1), 1, config)).toBe(2 ** 31 - 1);
    expect(retryDelayMs(new RetryAfterError(MAX_TIMER_MS), 1, config)).toBe(MAX_TIMER_MS);
  });
});
