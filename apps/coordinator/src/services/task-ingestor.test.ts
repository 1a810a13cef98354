import type { TaskEvent } from "@omnidaemon/bus-kafka";
import { countersOf } from "./task-ingestor";

function event(status: TaskEvent["status"], attempt = 1, extra: Partial<TaskEvent> = {}): TaskEvent {
  return {
    task_id: "t1",
    topic: "orders",
    agent: "a",
    status,
    attempt,
    at: "2026-11-22T00:00:00Z",
    ...extra,
  };
}

describe("countersOf", () => {
  it("counts a task once as received however many attempts it takes", () => {
    const deltas = countersOf([
      event("processing", 1),
      event("failed", 1),
      event("retrying", 1),
      event("processing", 2),
      event("completed", 2, { duration_ms: 40 }),
    ]);
    expect(deltas.get("orders\u0000a")).toEqual({
      received: 1,
      failed: 1,
      retried: 1,
      succeeded: 1,
      latenciesMs: [40],
    });
  });

  it("keeps agents apart and counts dead letters", () => {
    const deltas = countersOf([event("dead_lettered", 4), event("processing", 1, { agent: "b" })]);
    expect(deltas.get("orders\u0000a")).toEqual({ deadLettered: 1 });
    expect(deltas.get("orders\u0000b")).toEqual({ received: 1 });
  });
});
