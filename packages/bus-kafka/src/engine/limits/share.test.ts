import { inFlightShare, partitionShare } from "./share";

/** Splits 0 … total−1 into `workers` contiguous ranges as balanced as a range assignor makes them. */
function ranges(total: number, workers: number): number[][] {
  return Array.from({ length: workers }, (_, w) => {
    const from = Math.floor((w * total) / workers);
    const to = Math.floor(((w + 1) * total) / workers);
    return Array.from({ length: to - from }, (_, i) => from + i);
  });
}

describe("partitionShare", () => {
  it("is the fraction of the agent's partitions owned", () => {
    expect(partitionShare(8, 24)).toBe(1 / 3);
    expect(partitionShare(24, 24)).toBe(1);
    expect(partitionShare(0, 24)).toBe(0);
    expect(partitionShare(0, 0)).toBe(0);
  });

  it("adds up to exactly 1 over a settled assignment, for any number of workers", () => {
    for (const total of [1, 2, 12, 24, 48]) {
      for (let workers = 1; workers <= total; workers++) {
        const sum = ranges(total, workers).reduce(
          (acc, owned) => acc + partitionShare(owned.length, total),
          0,
        );
        expect(sum).toBeCloseTo(1, 12);
      }
    }
  });

  it("refuses counts that are not integers >= 0", () => {
    expect(() => partitionShare(-1, 12)).toThrow(RangeError);
    expect(() => partitionShare(1.5, 12)).toThrow(RangeError);
  });
});

describe("inFlightShare", () => {
  it("is the floor of M × share, so a settled fleet never runs more than M when M >= partitions", () => {
    for (const total of [12, 24, 48]) {
      for (let workers = 1; workers <= total; workers++) {
        for (const max of [total, total + 1, 2 * total + 5, 100]) {
          const shares = ranges(total, workers).map((owned) => inFlightShare(max, owned.length, total));
          const sum = shares.reduce((a, b) => a + b, 0);
          expect(sum).toBeLessThanOrEqual(max);
          // What rounding down costs: less than one slot per worker.
          expect(sum).toBeGreaterThanOrEqual(max - workers + 1);
        }
      }
    }
  });

  it("gives equal owners equal slots, whatever partitions they own (the assignor hands them out round robin)", () => {
    expect(inFlightShare(10, 8, 24)).toBe(3);
    expect(inFlightShare(24, 8, 24)).toBe(8);
    expect(inFlightShare(24, 24, 24)).toBe(24);
    expect(inFlightShare(30, 10, 30)).toBe(10);
  });

  it("lets a worker whose share is below one slot still run one (M < partitions: at most M + W in flight)", () => {
    const total = 24;
    const max = 4;
    const owners = ranges(total, 12);
    const shares = owners.map((owned) => inFlightShare(max, owned.length, total));
    expect(shares.every((share) => share === 1)).toBe(true);
    const sum = shares.reduce((a, b) => a + b, 0);
    expect(sum).toBeGreaterThan(max);
    expect(sum).toBeLessThanOrEqual(max + owners.length);
  });

  it("is 0 for a worker that owns nothing", () => {
    expect(inFlightShare(10, 0, 24)).toBe(0);
    expect(inFlightShare(10, 0, 0)).toBe(0);
  });

  it("refuses a maxInFlight that is not an integer >= 1", () => {
    expect(() => inFlightShare(0, 1, 1)).toThrow(RangeError);
    expect(() => inFlightShare(2.5, 1, 1)).toThrow(RangeError);
  });
});
