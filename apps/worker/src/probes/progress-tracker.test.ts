import type { AgentConsumerStatus } from "@omnidaemon/bus-kafka";
import { liveness } from "./consumer-health";
import { ConsumerProgressTracker, defaultStallAfterMs, type ProbeConsumer } from "./progress-tracker";

function consumer(agent: string, initial: Partial<AgentConsumerStatus> = {}, reclaimIdleMs = 300_000) {
  const current: AgentConsumerStatus = {
    phase: "running",
    paused: false,
    member: true,
    assignedPartitions: 1,
    inFlight: 0,
    buffered: 0,
    delayed: 0,
    lastFetchAt: undefined,
    lastCompletionAt: undefined,
    ...initial,
  };
  const probe: ProbeConsumer & { set(patch: Partial<AgentConsumerStatus>): void } = {
    names: { agent, topic: "t" },
    runtimeConfig: { reclaimIdleMs, maxRetryBackoffMs: 60_000 },
    status: () => ({ ...current }),
    set: (patch) => Object.assign(current, patch),
  };
  return probe;
}

describe("ConsumerProgressTracker", () => {
  it("remembers since when a consumer runs and has pending work, and forgets on pause or idle", () => {
    const tracker = new ConsumerProgressTracker();
    const a = consumer("a");
    expect(tracker.observe([a], 1_000)[0]).toMatchObject({ runningSince: 1_000, pendingSince: undefined });

    a.set({ buffered: 5 });
    expect(tracker.observe([a], 2_000)[0]).toMatchObject({ runningSince: 1_000, pendingSince: 2_000 });
    a.set({ buffered: 3, inFlight: 2 });
    expect(tracker.observe([a], 3_000)[0]).toMatchObject({ runningSince: 1_000, pendingSince: 2_000 });

    a.set({ buffered: 0, inFlight: 0 });
    expect(tracker.observe([a], 4_000)[0]).toMatchObject({ pendingSince: undefined });

    a.set({ phase: "idle", paused: true, buffered: 7 });
    expect(tracker.observe([a], 5_000)[0]).toMatchObject({
      runningSince: undefined,
      pendingSince: undefined,
    });
    a.set({ phase: "running", paused: false });
    expect(tracker.observe([a], 6_000)[0]).toMatchObject({ runningSince: 6_000, pendingSince: 6_000 });
  });

  it("forgets consumers that are gone", () => {
    const tracker = new ConsumerProgressTracker();
    const a = consumer("a", { buffered: 1 });
    tracker.observe([a], 1_000);
    tracker.observe([], 2_000);
    expect(tracker.observe([a], 3_000)[0]).toMatchObject({ runningSince: 3_000, pendingSince: 3_000 });
  });

  it("lets a backlog resumed after a long pause work for stallAfterMs before calling it stuck", () => {
    const tracker = new ConsumerProgressTracker();
    const day = 86_400_000;
    const a = consumer("a", { phase: "idle", paused: true, lastCompletionAt: 0, lastFetchAt: 0 });
    tracker.observe([a], day);
    a.set({ phase: "running", paused: false, buffered: 1_000 });
    const check = (now: number) => {
      a.set({ lastFetchAt: now - 100 }); // the poll loop is fine throughout
      return liveness(tracker.observe([a], now), now, { stallAfterMs: 600_000 });
    };

    expect(check(day + 1_000).ok).toBe(true);
    expect(check(day + 600_000).ok).toBe(true);
    const stuck = check(day + 601_001);
    expect(stuck.problems.map((p) => p.problem)).toEqual(["stalled"]);

    a.set({ lastCompletionAt: day + 601_500 });
    expect(check(day + 602_000).ok).toBe(true);
  });
});

describe("defaultStallAfterMs", () => {
  it("is 2 × reclaimIdleMs + maxRetryBackoffMs of the slowest agent, 10 minutes with none", () => {
    expect(defaultStallAfterMs([])).toBe(600_000);
    expect(defaultStallAfterMs([consumer("a", {}, 300_000), consumer("b", {}, 10_000)])).toBe(660_000);
  });
});
