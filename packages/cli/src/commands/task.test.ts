import type { TaskRecord } from "@omnidaemon/protocol";
import { taskSettled } from "./task";

function record(agent: string, status: TaskRecord["status"]): TaskRecord {
  return {
    task_id: "t",
    topic: "orders",
    agent,
    status,
    attempts: 1,
    replays: 0,
    result: null,
    last_error: null,
    correlation_id: null,
    tenant_id: null,
    created_at: "2026-01-01T00:00:00Z",
    started_at: null,
    finished_at: null,
    duration_ms: null,
    expires_at: null,
  };
}

describe("taskSettled (task publish --wait)", () => {
  it("waits while no agent has reported (the pending placeholder)", () => {
    expect(taskSettled([], [])).toBe(false);
    expect(taskSettled([record("", "pending")], ["a"])).toBe(false);
  });

  it("is done when every record is completed or dead_lettered", () => {
    expect(taskSettled([record("a", "completed")], ["a"])).toBe(true);
    expect(taskSettled([record("a", "dead_lettered")], [])).toBe(true);
    expect(taskSettled([record("a", "processing")], ["a"])).toBe(false);
    // One failed attempt is not the end: a retry may follow.
    expect(taskSettled([record("a", "failed")], ["a"])).toBe(false);
  });

  it("waits for every expected agent of a fan-out", () => {
    expect(taskSettled([record("a", "completed")], ["a", "b"])).toBe(false);
    expect(taskSettled([record("a", "completed"), record("b", "completed")], ["a", "b"])).toBe(true);
  });
});
