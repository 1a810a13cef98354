import { backoffMs } from "./backoff";

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
