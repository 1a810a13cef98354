import { summarizeFleet } from "./fleet-log";

describe("B4/B5 fleet log summary", () => {
  it("counts loss exactly, duplicates, each process's first completion and the longest gap", () => {
    const summary = summarizeFleet(4, {
      "101": "0 1000\n1 1010\n",
      "202": "1 1500\n3 4000\n",
    });
    expect(summary.handled).toBe(3);
    expect(summary.lost).toBe(1); // index 2 was never handled
    expect(summary.duplicates).toBe(1); // index 1 twice
    expect(summary.firstByPid).toEqual({ "101": 1000, "202": 1500 });
    expect(summary.longestGapMs).toBe(2500);
    expect(Array.from(summary.handledAt)).toEqual([1000, 1010, Number.NaN, 4000]);
  });
});
