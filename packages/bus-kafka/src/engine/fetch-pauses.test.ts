import { backpressureAfter, pausePlan } from "./fetch-pauses";

describe("backpressureAfter", () => {
  it("turns on when the buffer reaches its limit", () => {
    expect(backpressureAfter(false, 99, 100)).toBe(false);
    expect(backpressureAfter(false, 100, 100)).toBe(true);
  });

  it("stays on until half the limit, then turns off", () => {
    expect(backpressureAfter(true, 99, 100)).toBe(true);
    expect(backpressureAfter(true, 51, 100)).toBe(true);
    expect(backpressureAfter(true, 50, 100)).toBe(false);
  });

  it("turns off with nothing pending (e.g. a revocation took the buffered records)", () => {
    expect(backpressureAfter(true, 0, 100)).toBe(false);
  });
});

describe("pausePlan", () => {
  it("pauses everything while draining or back-pressured, whatever is parked", () => {
    expect(pausePlan({ draining: true, backpressured: false, parkedRetryPartitions: [3] })).toEqual({
      all: true,
      parkedRetryPartitions: [],
      key: "all",
    });
    expect(pausePlan({ draining: false, backpressured: true, parkedRetryPartitions: [] }).all).toBe(true);
  });

  it("otherwise pauses only the parked retry partitions, in order, with a key that identifies the plan", () => {
    const plan = pausePlan({ draining: false, backpressured: false, parkedRetryPartitions: new Set([5, 1]) });
    expect(plan).toEqual({ all: false, parkedRetryPartitions: [1, 5], key: "1,5" });
    expect(pausePlan({ draining: false, backpressured: false, parkedRetryPartitions: [1, 5] }).key).toBe(
      plan.key,
    );
  });

  it("pauses nothing when nothing is parked", () => {
    expect(pausePlan({ draining: false, backpressured: false, parkedRetryPartitions: [] })).toEqual({
      all: false,
      parkedRetryPartitions: [],
      key: "",
    });
  });
});
