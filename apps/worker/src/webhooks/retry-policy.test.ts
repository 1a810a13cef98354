import { backoffDelayMs, isRetriableStatus, isSuccessStatus, retryAfterMs } from "./retry-policy";

describe("status classification", () => {
  it("counts only 2xx as success", () => {
    expect([200, 201, 204, 299].every(isSuccessStatus)).toBe(true);
    expect([100, 199, 300, 302, 304, 400, 500].some(isSuccessStatus)).toBe(false);
  });

  it("retries 408, 429 and 5xx only", () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetriableStatus)).toBe(true);
    expect([200, 301, 302, 400, 401, 403, 404, 410, 422].some(isRetriableStatus)).toBe(false);
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads delta-seconds and HTTP dates on 429 and 503", () => {
    expect(retryAfterMs(429, "3", now)).toBe(3000);
    expect(retryAfterMs(503, " 0 ", now)).toBe(0);
    expect(retryAfterMs(503, "Wed, 01 Jan 2025 00:00:10 GMT", now)).toBe(10_000);
    expect(retryAfterMs(503, "Tue, 31 Dec 2024 00:00:00 GMT", now)).toBe(0);
  });

  it("ignores the header on other statuses and when malformed or absent", () => {
    expect(retryAfterMs(500, "3", now)).toBeUndefined();
    expect(retryAfterMs(429, undefined, now)).toBeUndefined();
    expect(retryAfterMs(429, "soon", now)).toBeUndefined();
    expect(retryAfterMs(429, "-1", now)).toBeUndefined();
  });
});

describe("backoffDelayMs", () => {
  it("doubles per attempt, caps, and jitters within the upper half", () => {
    const top = (): number => 0.999999;
    const bottom = (): number => 0;
    expect(backoffDelayMs(1, 1000, 30_000, top)).toBe(1000);
    expect(backoffDelayMs(1, 1000, 30_000, bottom)).toBe(500);
    expect(backoffDelayMs(3, 1000, 30_000, top)).toBe(4000);
    expect(backoffDelayMs(10, 1000, 30_000, top)).toBe(30_000);
    expect(backoffDelayMs(10, 1000, 30_000, bottom)).toBe(15_000);
  });
});
