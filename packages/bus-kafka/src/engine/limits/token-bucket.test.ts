import { MAX_WAIT_MS, TokenBucket } from "./token-bucket";

/** Admissions over [from, to) when the caller takes every token as soon as it is there (1 ms steps). */
function admittedBetween(bucket: TokenBucket, from: number, to: number): number {
  let admitted = 0;
  for (let now = from; now < to; now++) {
    while (bucket.take(now) === 0) admitted++;
  }
  return admitted;
}

describe("TokenBucket", () => {
  it("starts full unless told a level, and admits its capacity at once", () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 5, now: 0 });
    for (let i = 0; i < 5; i++) expect(bucket.take(0)).toBe(0);
    expect(bucket.take(0)).toBe(100);
    const empty = new TokenBucket({ ratePerSecond: 10, capacity: 5, now: 0, level: 0 });
    expect(empty.take(0)).toBe(100);
  });

  it("accrues at its rate and says how long until the next token, taking nothing when refused", () => {
    const bucket = new TokenBucket({ ratePerSecond: 4, capacity: 1, now: 0, level: 0 });
    expect(bucket.take(0)).toBe(250);
    expect(bucket.take(100)).toBe(150);
    expect(bucket.take(250)).toBe(0);
    expect(bucket.tokens(250)).toBeCloseTo(0);
    expect(bucket.waitMs(300)).toBe(200);
  });

  it("never holds more than its capacity however long it idles", () => {
    const bucket = new TokenBucket({ ratePerSecond: 100, capacity: 3, now: 0, level: 0 });
    expect(bucket.tokens(3_600_000)).toBe(3);
    expect(bucket.full(3_600_000)).toBe(true);
  });

  it("admits at most capacity + rate × T over any window T (the bound the fleet's sum rests on)", () => {
    const bucket = new TokenBucket({ ratePerSecond: 50, capacity: 10, now: 0 });
    expect(admittedBetween(bucket, 0, 10_000)).toBeLessThanOrEqual(10 + 50 * 10);
    expect(admittedBetween(bucket, 10_000, 20_000)).toBeLessThanOrEqual(50 * 10 + 1);
  });

  it("keeps a fractional rate exact over time (a share is rarely a whole number)", () => {
    const bucket = new TokenBucket({ ratePerSecond: 50 / 3, capacity: 1, now: 0, level: 0 });
    const admitted = admittedBetween(bucket, 0, 60_000);
    expect(admitted).toBeGreaterThanOrEqual(999);
    expect(admitted).toBeLessThanOrEqual(1000);
  });

  it("with a capacity below one token, admits one when full and pays the debt back at its rate", () => {
    // A worker owning 1 of 24 partitions of an agent with burst 2: capacity 1/12 of a token.
    const bucket = new TokenBucket({ ratePerSecond: 0.5, capacity: 1 / 12, now: 0 });
    expect(bucket.take(0)).toBe(0);
    expect(bucket.tokens(0)).toBeCloseTo(1 / 12 - 1);
    expect(bucket.take(0)).toBe(2000);
    expect(bucket.take(1999)).toBeGreaterThan(0);
    expect(bucket.take(2000)).toBe(0);
    expect(admittedBetween(bucket, 2001, 62_001)).toBe(30);
  });

  it("reconfigure: accrues at the old rate until now, then the new one; never adds tokens", () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 10, now: 0, level: 0 });
    bucket.reconfigure(1, 20, 500); // 5 tokens accrued at 10/s
    expect(bucket.tokens(500)).toBeCloseTo(5);
    expect(bucket.tokens(1500)).toBeCloseTo(6);
    bucket.reconfigure(1, 2, 1500); // a smaller share: cut to the new capacity
    expect(bucket.tokens(1500)).toBe(2);
    bucket.reconfigure(1, 50, 1500); // a larger one: nothing added
    expect(bucket.tokens(1500)).toBe(2);
  });

  it("reports the longest wait when it has no rate (no partitions owned), never an endless one", () => {
    const bucket = new TokenBucket({ ratePerSecond: 0, capacity: 0, now: 0 });
    expect(bucket.take(0)).toBe(MAX_WAIT_MS);
    const slow = new TokenBucket({ ratePerSecond: 1 / 3600, capacity: 1, now: 0, level: 0 });
    expect(slow.take(0)).toBe(MAX_WAIT_MS);
  });

  it("accrues nothing when time runs backwards", () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 10, now: 1000, level: 0 });
    expect(bucket.tokens(500)).toBe(0);
    expect(bucket.tokens(1100)).toBeCloseTo(1);
  });

  it("refuses a negative or non-finite rate or capacity", () => {
    expect(() => new TokenBucket({ ratePerSecond: -1, capacity: 1, now: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 1, capacity: Number.NaN, now: 0 })).toThrow(RangeError);
    const bucket = new TokenBucket({ ratePerSecond: 1, capacity: 1, now: 0 });
    expect(() => bucket.reconfigure(Number.POSITIVE_INFINITY, 1, 0)).toThrow(RangeError);
  });
});
