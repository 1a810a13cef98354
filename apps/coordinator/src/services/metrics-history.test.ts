import type { CounterSummary } from "@omnidaemon/store-pg";
import pino from "pino";
import { counterDeltas, historyKey, MetricsHistory, type CounterSnapshot } from "./metrics-history";

const KEY = historyKey("t", "a");

function counts(received: number, succeeded = received, failed = 0, retried = 0, deadLettered = 0) {
  return { received, succeeded, failed, retried, deadLettered };
}

function snapshot(seconds: number, entries: Record<string, ReturnType<typeof counts>>): CounterSnapshot {
  return { at: new Date(seconds * 1000), counters: new Map(Object.entries(entries)) };
}

describe("counterDeltas", () => {
  it("gives one point per interval with each counter's increase, oldest first", () => {
    const points = counterDeltas(
      [
        snapshot(0, { [KEY]: counts(10, 8, 2, 1, 1) }),
        snapshot(10, { [KEY]: counts(15, 12, 3, 2, 1) }),
        snapshot(20, { [KEY]: counts(15, 12, 3, 2, 1) }),
      ],
      KEY,
    );
    expect(points).toEqual([
      {
        at: new Date("1970-01-01T00:00:10.000Z"),
        intervalMs: 10_000,
        received: 5,
        succeeded: 4,
        failed: 1,
        retried: 1,
        deadLettered: 0,
      },
      {
        at: new Date("1970-01-01T00:00:20.000Z"),
        intervalMs: 10_000,
        received: 0,
        succeeded: 0,
        failed: 0,
        retried: 0,
        deadLettered: 0,
      },
    ]);
  });

  it("counts an agent's first events in the interval its counters appeared, from zero", () => {
    const points = counterDeltas(
      [snapshot(0, {}), snapshot(10, { [KEY]: counts(4) }), snapshot(20, { [KEY]: counts(7) })],
      KEY,
    );
    expect(points.map((p) => p.received)).toEqual([4, 3]);
  });

  it("takes the first snapshot as the baseline: totals from before it never show as a spike", () => {
    const points = counterDeltas(
      [snapshot(0, { [KEY]: counts(1000) }), snapshot(10, { [KEY]: counts(1003) })],
      KEY,
    );
    expect(points.map((p) => p.received)).toEqual([3]);
  });

  it("has no points for intervals after the agent's counters are gone", () => {
    const points = counterDeltas(
      [snapshot(0, { [KEY]: counts(1) }), snapshot(10, { [KEY]: counts(2) }), snapshot(20, {})],
      KEY,
    );
    expect(points).toHaveLength(1);
  });

  it("counts a counter that went down as 0, never negative", () => {
    const points = counterDeltas(
      [snapshot(0, { [KEY]: counts(50) }), snapshot(10, { [KEY]: counts(5) })],
      KEY,
    );
    expect(points[0]).toMatchObject({ received: 0, succeeded: 0 });
  });

  it("is empty with fewer than two snapshots", () => {
    expect(counterDeltas([], KEY)).toEqual([]);
    expect(counterDeltas([snapshot(0, { [KEY]: counts(1) })], KEY)).toEqual([]);
  });
});

describe("MetricsHistory", () => {
  const summary = (received: number): CounterSummary => ({
    topic: "t",
    agent: "a",
    ...counts(received),
    latency: { count: 0, sumMs: 0, meanMs: null, p50Ms: null, p95Ms: null, p99Ms: null },
  });

  it("samples the counters and keeps only the last `points` intervals", async () => {
    let received = 0;
    let seconds = 0;
    const history = new MetricsHistory(
      { summary: async () => [summary((received += 2))] },
      pino({ level: "silent" }),
      { points: 3, now: () => new Date((seconds += 10) * 1000) },
    );
    for (let i = 0; i < 6; i++) await history.sample();
    const points = history.series("t", "a");
    expect(points).toHaveLength(3);
    expect(points.map((p) => p.received)).toEqual([2, 2, 2]);
    expect(points.map((p) => p.at.toISOString())).toEqual([
      "1970-01-01T00:00:40.000Z",
      "1970-01-01T00:00:50.000Z",
      "1970-01-01T00:01:00.000Z",
    ]);
    expect(history.series("t", "other")).toEqual([]);
  });

  it("start() takes a first sample; stop() is idempotent and safe before start()", async () => {
    let calls = 0;
    const history = new MetricsHistory({ summary: async () => (calls++, []) }, pino({ level: "silent" }), {
      intervalMs: 60_000,
    });
    const unstarted = new MetricsHistory({ summary: async () => [] }, pino({ level: "silent" }));
    await unstarted.stop();
    await history.start();
    expect(calls).toBe(1);
    await history.stop();
    await history.stop();
  });
});
