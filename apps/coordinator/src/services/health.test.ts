import { computeHealth, type HealthInputs } from "./health";

const now = new Date("2026-11-22T10:00:00Z");
const ok = { ok: true, latencyMs: 1.23 };

function worker(id: string, agents: Array<[string, string, string?]>, startedMinutesAgo = 10) {
  return {
    id,
    host: "h",
    pid: 1,
    startedAt: new Date(now.getTime() - startedMinutesAgo * 60_000),
    lastHeartbeat: now,
    agents: agents.map(([topic, name, status]) => ({
      topic,
      name,
      status: status ?? "running",
      member: true,
    })),
  };
}

function inputs(overrides: Partial<HealthInputs>): HealthInputs {
  return { now, kafka: ok, postgres: ok, agents: [], liveWorkers: [], ...overrides };
}

describe("computeHealth", () => {
  const agents: HealthInputs["agents"] = [
    { topic: "t", name: "a", state: "active" },
    { topic: "t", name: "b", state: "active" },
  ];

  it("is ready with no agents and healthy infrastructure", () => {
    expect(computeHealth(inputs({})).status).toBe("ready");
  });

  it("is running when every active agent has a live consumer", () => {
    const report = computeHealth(
      inputs({
        agents,
        liveWorkers: [
          worker("w1", [
            ["t", "a"],
            ["t", "b"],
          ]),
        ],
      }),
    );
    expect(report.status).toBe("running");
    expect(report.active_consumers).toBe(2);
    expect(report.agents).toEqual([
      { topic: "t", name: "a", state: "active", live_consumers: 1 },
      { topic: "t", name: "b", state: "active", live_consumers: 1 },
    ]);
  });

  it("is degraded when some active agents have no live consumer", () => {
    expect(computeHealth(inputs({ agents, liveWorkers: [worker("w1", [["t", "a"]])] })).status).toBe(
      "degraded",
    );
  });

  it("is stopped when agents are registered but no worker is live", () => {
    const report = computeHealth(inputs({ agents }));
    expect(report.status).toBe("stopped");
    expect(report.uptime_seconds).toBeNull();
  });

  it("does not count a worker whose consumer for the agent is paused or stopped", () => {
    const report = computeHealth(
      inputs({
        agents,
        liveWorkers: [
          worker("w1", [
            ["t", "a", "paused"],
            ["t", "b", "stopped"],
          ]),
        ],
      }),
    );
    expect(report.status).toBe("stopped");
  });

  it("is running when every agent is paused on a live fleet", () => {
    const paused = agents.map((a) => ({ ...a, state: "paused" as const }));
    expect(computeHealth(inputs({ agents: paused, liveWorkers: [worker("w1", [])] })).status).toBe("running");
  });

  it("is down when Kafka or Postgres does not answer, and says why", () => {
    const report = computeHealth(inputs({ postgres: { ok: false, error: "connect ECONNREFUSED" } }));
    expect(report.status).toBe("down");
    expect(report.postgres).toEqual({ ok: false, error: "connect ECONNREFUSED" });
    expect(computeHealth(inputs({ kafka: { ok: false } })).status).toBe("down");
  });

  it("reports uptime from the oldest live worker", () => {
    const report = computeHealth(inputs({ liveWorkers: [worker("w1", [], 5), worker("w2", [], 30)] }));
    expect(report.uptime_seconds).toBe(1800);
    expect(report.workers.map((w) => w.id)).toEqual(["w1", "w2"]);
  });

  it("reports result ingestion, and a stopped task-events consumer degrades an otherwise healthy fleet", () => {
    const running = { running: true, lag: 3, restarts: 0 };
    expect(computeHealth(inputs({ ingestion: running }))).toEqual(
      expect.objectContaining({ status: "ready", ingestion: running }),
    );
    const stopped = { running: false, lag: 120, restarts: 2, last_error: "22P05" };
    expect(computeHealth(inputs({ ingestion: stopped }))).toEqual(
      expect.objectContaining({ status: "degraded", ingestion: stopped }),
    );
    expect(computeHealth(inputs({ ingestion: stopped, kafka: { ok: false } })).status).toBe("down");
  });
});
