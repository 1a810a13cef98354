import type { MetricsHistoryPoint } from "@omnidaemon/protocol";
import { deadLetters, failureRate, linePath, throughput } from "./chart";

const point = (fields: Partial<MetricsHistoryPoint>): MetricsHistoryPoint => ({
  at: "2026-01-01T00:00:10.000Z",
  interval_ms: 10_000,
  received: 0,
  succeeded: 0,
  failed: 0,
  retried: 0,
  dead_lettered: 0,
  ...fields,
});

describe("console charts", () => {
  it("throughput is completions per second of each interval", () => {
    const series = throughput([point({ succeeded: 50 }), point({ succeeded: 5, interval_ms: 5000 })]);
    expect(series.values).toEqual([5, 1]);
    expect(series.latest).toBe(1);
    expect(throughput([]).latest).toBeUndefined();
    expect(throughput([point({ succeeded: 3, interval_ms: 0 })]).values).toEqual([0]);
  });

  it("failure rate is failed / (succeeded + failed), 0 when nothing ended", () => {
    expect(failureRate([point({ succeeded: 3, failed: 1 }), point({})]).values).toEqual([0.25, 0]);
    expect(deadLetters([point({ dead_lettered: 2 })]).values).toEqual([2]);
  });

  it("draws values left to right, 0 at the bottom and the largest at the top", () => {
    expect(linePath([0, 5, 10], 100, 20)).toBe("M0,20 L50,10 L100,0");
    expect(linePath([1, 1], 100, 20, 4)).toBe("M0,15 L100,15");
    expect(linePath([0, 0], 10, 20)).toBe("M0,20 L10,20");
    expect(linePath([3], 10, 20)).toBe("M0,0 L10,0");
    expect(linePath([], 10, 20)).toBe("");
  });
});
