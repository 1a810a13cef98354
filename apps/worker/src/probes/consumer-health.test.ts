import type { AgentConsumerStatus } from "@omnidaemon/bus-kafka";
import { liveness, readiness, type ConsumerSnapshot } from "./consumer-health";

const NOW = 10_000_000;
const STALL = 600_000;

function status(overrides: Partial<AgentConsumerStatus> = {}): AgentConsumerStatus {
  return {
    phase: "running",
    paused: false,
    member: true,
    assignedPartitions: 3,
    inFlight: 0,
    buffered: 0,
    delayed: 0,
    lastFetchAt: NOW - 100,
    lastCompletionAt: NOW - 1_000,
    ...overrides,
  };
}

function snapshot(
  agent: string,
  overrides: Partial<AgentConsumerStatus> = {},
  extra: Partial<ConsumerSnapshot> = {},
) {
  return { agent, topic: "file.uploaded", status: status(overrides), ...extra };
}

const live = (consumers: ConsumerSnapshot[], pollStallMs?: number) =>
  liveness(consumers, NOW, { stallAfterMs: STALL, pollStallMs });

describe("liveness", () => {
  it("is live with no agents and with healthy ones", () => {
    expect(live([])).toEqual({ ok: true, problems: [] });
    expect(live([snapshot("a"), snapshot("b", { inFlight: 4, buffered: 100 })])).toEqual({
      ok: true,
      problems: [],
    });
  });

  it("stays live while the only pending work is retries waiting for their time (RetryAfterError(1h))", () => {
    expect(
      live([
        snapshot(
          "rate-limited",
          { delayed: 5, lastCompletionAt: NOW - 3_600_000 },
          { pendingSince: NOW - 3_600_000 },
        ),
      ]),
    ).toEqual({ ok: true, problems: [] });
  });

  it("fails when a running consumer holds work and completed nothing for stallAfterMs", () => {
    const verdict = live([
      snapshot("healthy"),
      snapshot("thumbnailer", { inFlight: 2, buffered: 10, lastCompletionAt: NOW - STALL - 1_000 }),
    ]);
    expect(verdict).toEqual({
      ok: false,
      problems: [
        {
          agent: "thumbnailer",
          topic: "file.uploaded",
          problem: "stalled",
          message:
            "agent thumbnailer (topic file.uploaded) has 12 events pending (2 in flight) and completed none for 601 s (limit 600 s)",
        },
      ],
    });
  });

  it("is live at exactly the limit, and with old completions but no pending work", () => {
    expect(live([snapshot("a", { inFlight: 1, lastCompletionAt: NOW - STALL })]).ok).toBe(true);
    expect(live([snapshot("a", { lastCompletionAt: NOW - 10 * STALL })]).ok).toBe(true);
  });

  it("measures from when pending work was first seen, so a resumed backlog is not a stall", () => {
    const resumed = snapshot(
      "a",
      { buffered: 500, lastCompletionAt: NOW - 86_400_000 },
      { pendingSince: NOW - 5_000 },
    );
    expect(live([resumed]).ok).toBe(true);
    const stuck = snapshot(
      "a",
      { buffered: 500, lastCompletionAt: NOW - 86_400_000 },
      { pendingSince: NOW - STALL - 1 },
    );
    expect(live([stuck]).problems.map((p) => p.problem)).toEqual(["stalled"]);
  });

  it("cannot call a consumer stalled without any reference time", () => {
    expect(live([snapshot("a", { inFlight: 3, lastCompletionAt: undefined })]).ok).toBe(true);
  });

  it("treats paused, idle, starting and draining consumers as live", () => {
    const ancient = { inFlight: 5, buffered: 5, lastFetchAt: 0, lastCompletionAt: 0 };
    expect(
      live([
        snapshot("paused", { ...ancient, phase: "idle", paused: true, member: false }),
        snapshot("starting", { ...ancient, phase: "starting" }),
        snapshot("draining", { ...ancient, phase: "draining" }),
        snapshot("stopped", { ...ancient, phase: "stopped" }),
      ]).ok,
    ).toBe(true);
  });

  it("fails when the poll loop of a running consumer has not fetched for pollStallMs (default 120 s)", () => {
    expect(live([snapshot("a", { lastFetchAt: NOW - 119_000 })]).ok).toBe(true);
    expect(live([snapshot("a", { lastFetchAt: NOW - 121_000 })]).problems).toEqual([
      {
        agent: "a",
        topic: "file.uploaded",
        problem: "poll_loop_dead",
        message:
          "agent a (topic file.uploaded) is running but has not fetched from Kafka for 121 s (limit 120 s)",
      },
    ]);
    expect(live([snapshot("a", { lastFetchAt: NOW - 61_000 })], 60_000).ok).toBe(false);
  });

  it("uses the time the consumer was first seen running until its first fetch", () => {
    expect(live([snapshot("a", { lastFetchAt: undefined }, { runningSince: NOW - 1_000 })]).ok).toBe(true);
    expect(live([snapshot("a", { lastFetchAt: undefined }, { runningSince: NOW - 200_000 })]).ok).toBe(false);
    // Resumed after a long pause: the fetch before the pause is old, but the consumer has only just started again.
    expect(live([snapshot("a", { lastFetchAt: NOW - 86_400_000 }, { runningSince: NOW - 1_000 })]).ok).toBe(
      true,
    );
    expect(live([snapshot("a", { lastFetchAt: undefined })]).ok).toBe(true);
  });
});

describe("readiness", () => {
  it("is ready with no agents, and when every active agent is a group member", () => {
    expect(readiness([])).toEqual({ ok: true, problems: [] });
    expect(readiness([snapshot("a"), snapshot("b")]).ok).toBe(true);
  });

  it("is not ready while an active agent is out of its group", () => {
    expect(readiness([snapshot("a"), snapshot("b", { member: false })])).toEqual({
      ok: false,
      problems: [
        {
          agent: "b",
          topic: "file.uploaded",
          problem: "not_member",
          message:
            "agent b (topic file.uploaded) is not a member of its consumer group (joining or rebalancing)",
        },
      ],
    });
  });

  it("ignores paused agents, whatever their phase", () => {
    expect(
      readiness([
        snapshot("a"),
        snapshot("p1", { paused: true, phase: "idle", member: false }),
        snapshot("p2", { paused: true, phase: "draining", member: false }),
      ]).ok,
    ).toBe(true);
    expect(readiness([snapshot("p", { paused: true, phase: "idle", member: false })]).ok).toBe(true);
  });

  it("is not ready while an active agent is not running (starting, or stopping at shutdown)", () => {
    const verdict = readiness([
      snapshot("s", { phase: "starting", member: false }),
      snapshot("d", { phase: "draining" }),
      snapshot("i", { phase: "idle", member: false }),
    ]);
    expect(verdict.problems.map((p) => [p.agent, p.problem, p.message])).toEqual([
      ["s", "not_running", "agent s (topic file.uploaded) is starting, not running"],
      ["d", "not_running", "agent d (topic file.uploaded) is draining, not running"],
      ["i", "not_running", "agent i (topic file.uploaded) is idle, not running"],
    ]);
  });
});
