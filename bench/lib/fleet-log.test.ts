import { parseFleetLogs, summarizeFleet } from "./fleet-log";

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

  it("reads each callback's partition, sorts all processes' callbacks by time and skips a line cut short", () => {
    const completions = parseFleetLogs(10, {
      "101": "0 1000 3\n2 1020 3\n7",
      "202": "1 1010 5\n12 1015 5\n",
    });
    expect(completions).toEqual([
      { index: 0, at: 1000, pid: "101", partition: 3 },
      { index: 1, at: 1010, pid: "202", partition: 5 },
      { index: 2, at: 1020, pid: "101", partition: 3 },
    ]); // "7" has no time (cut short by kill -9); index 12 was never published
  });

  it("counts the earliest callback of an event as its completion and later ones as re-runs", () => {
    const summary = summarizeFleet(1, { "101": "0 2000\n", "202": "0 1000\n" });
    expect(Array.from(summary.handledAt)).toEqual([1000]);
    expect(summary.duplicates).toBe(1);
  });
});
