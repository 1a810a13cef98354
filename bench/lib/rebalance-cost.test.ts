import type { Completion } from "./fleet-log";
import { longestIdle, rebalanceCost, rebalanceTable } from "./rebalance-cost";

const done = (index: number, at: number, pid: string, partition: number): Completion => ({
  index,
  at,
  pid,
  partition,
});

describe("longestIdle", () => {
  it("finds the longest stretch of the window with no completion, including its start and end", () => {
    expect(longestIdle([10, 12, 30, 31], 10, 40)).toBe(18); // 12 → 30
    expect(longestIdle([10, 12], 10, 40)).toBe(28); // 12 → the window's end
    expect(longestIdle([25], 10, 40)).toBe(15); // the window's start → 25, 25 → 40
  });

  it("measures a stop that began before the window from the window's start, and ignores times outside it", () => {
    expect(longestIdle([0, 35, 60], 10, 40)).toBe(25); // 10 → 35; 0 and 60 lie outside
    expect(longestIdle([], 10, 40)).toBe(30);
  });
});

describe("rebalanceCost (B7 scale 1 → 3 → 1)", () => {
  // Two partitions, publish from 0 to 300; worker "a" alone, "b" spawned at 100, stopped at 200.
  const publishedAt = [0, 10, 110, 120, 210, 220, 300];
  const completions: Completion[] = [
    done(0, 5, "a", 0),
    done(1, 15, "a", 1),
    // scale 1 → 3 at 100: the group stops from 15 to 160 (a rebalance), then b takes partition 1
    done(2, 160, "a", 0),
    done(3, 170, "b", 1),
    done(1, 171, "b", 1), // re-run of index 1 after the partition moved
    // scale 3 → 1 at 200: a takes partition 1 back at 260
    done(4, 212, "a", 0),
    done(5, 260, "a", 1),
    done(6, 305, "a", 0),
  ];
  const cost = rebalanceCost({
    completions,
    publishedAt,
    publishStart: 0,
    publishEnd: 300,
    partitions: 2,
    events: [
      { name: "scale 1 → 3", at: 100, fleetAfter: ["a", "b"] },
      { name: "scale 3 → 1", at: 200, fleetAfter: ["a"] },
    ],
  });

  it("measures the stop-the-world and the longest partition pause of each window", () => {
    expect(cost.steady.groupStopMs).toBe(85); // 15 → the event at 100
    const [up, down] = cost.events;
    expect(up?.groupStopMs).toBe(60); // 100 → 160 (the stop before the event counts from the event)
    expect(up?.partitionPauseMs).toBe(70); // partition 1: 100 → 170
    expect(down?.groupStopMs).toBe(48); // 212 → 260
    expect(down?.partitionPauseMs).toBe(88); // partition 0: 212 → 300 (the window ends at the last publish)
  });

  it("settles when every worker after the event has completed and every partition is served by them", () => {
    const [up, down] = cost.events;
    expect(up?.settledMs).toBe(70); // b's first callback at 170
    expect(down?.settledMs).toBe(60); // partition 1 served by a again at 260
  });

  it("counts re-runs by when they ran and loss exactly by when the event was published", () => {
    expect(cost.events[0]?.duplicates).toBe(1);
    expect(cost.events[1]?.duplicates).toBe(0);
    expect(cost.steady.duplicates).toBe(0);
    expect(cost.duplicates).toBe(1);
    expect(cost.lost).toBe(0);
    expect(cost.events[0]?.worstWaitMs).toBe(50); // index 2: 110 → 160
    expect(cost.events[1]?.worstWaitMs).toBe(40); // index 5: 220 → 260
  });

  it("reports an event lost in the window it was published in, and a fleet that never settled as NaN", () => {
    const partial = rebalanceCost({
      completions: completions.filter((c) => c.index !== 3 && c.pid !== "b"),
      publishedAt,
      publishStart: 0,
      publishEnd: 300,
      partitions: 2,
      events: [
        { name: "scale 1 → 3", at: 100, fleetAfter: ["a", "b"] },
        { name: "scale 3 → 1", at: 200, fleetAfter: ["a"] },
      ],
    });
    expect(partial.lost).toBe(1);
    expect(partial.events[0]?.lost).toBe(1);
    expect(partial.events[1]?.lost).toBe(0);
    expect(partial.events[0]?.settledMs).toBeNaN(); // b never completed anything
  });
});

describe("rebalanceTable", () => {
  const window = (groupStopMs: number) => ({
    from: 0,
    to: 1,
    groupStopMs,
    partitionPauseMs: 2 * groupStopMs,
    duplicates: 3,
    lost: 0,
    worstWaitMs: 4000,
  });
  const round = (stopMs: number, settledMs: number) => ({
    steady: window(20),
    events: [{ name: "scale 1 → 3", ...window(stopMs), settledMs }],
    lost: 0,
    duplicates: 3,
  });

  it("prints a line per client and window, medians with ranges over rounds, a fleet that never settled as never", () => {
    const table = rebalanceTable({
      kafkajs: [round(3000, 4000), round(5000, Number.NaN), round(4000, 6000)],
    }).split("\n");
    expect(table[2]).toBe("| kafkajs | steady (no scaling) | 0.02 | 0.04 | – | 3 | 0 | 4.00 |");
    expect(table[3]).toBe(
      "| kafkajs | scale 1 → 3 | 4.00 (3.00–5.00) | 8.00 (6.00–10.00) | 5.00 (4.00–6.00, 1× never) | 3 | 0 | 4.00 |",
    );
  });
});
