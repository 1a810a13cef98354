import type { TaskEvent } from "@omnidaemon/protocol";
import { StoreError } from "@omnidaemon/store-pg";
import { RESULT_NOT_STORED, applyBatch, countersOf, type IngestionStore } from "./task-ingestor";

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

  it("counts the end of a delivery whose processing event was skipped as received, once", () => {
    const deltas = countersOf([
      event("completed", 1, { task_id: "fast", processing_skipped: true, duration_ms: 3 }),
      event("processing", 1, { task_id: "slow" }),
      event("completed", 1, { task_id: "slow", duration_ms: 900 }),
    ]);
    expect(deltas.get("orders\u0000a")).toEqual({ received: 2, succeeded: 2, latenciesMs: [3, 900] });
  });

  it("keeps agents apart and counts dead letters", () => {
    const deltas = countersOf([event("dead_lettered", 4), event("processing", 1, { agent: "b" })]);
    expect(deltas.get("orders\u0000a")).toEqual({ deadLettered: 1 });
    expect(deltas.get("orders\u0000b")).toEqual({ received: 1 });
  });
});

describe("applyBatch: no task event can stop the ingestion", () => {
  type Input = Parameters<IngestionStore["tasks"]["applyEvents"]>[0][number];

  /** A store that refuses, as data (QUERY_FAILED), any batch holding an event `refuses` rejects. */
  function storeRefusing(refuses: (input: Input) => boolean) {
    const written: Input[] = [];
    const counted: string[] = [];
    const store = {
      tasks: {
        applyEvents: async (inputs: Input[]) => {
          if (inputs.some(refuses))
            throw new StoreError("QUERY_FAILED", "applying task events (22P05: refused)");
          written.push(...inputs);
        },
      },
      counters: {
        apply: async (topic: string, agent: string) => {
          counted.push(`${topic}/${agent}`);
        },
      },
    } as unknown as IngestionStore;
    return { store, written, counted };
  }

  it("writes the good events of a refused batch, and records the refused one as an error on its task", async () => {
    const { store, written, counted } = storeRefusing((input) => input.result === "poison");
    const reports: string[] = [];
    await applyBatch(
      store,
      [
        event("completed", 1, { task_id: "good-1", result: 1 }),
        event("completed", 1, { task_id: "bad", result: "poison" }),
        event("completed", 1, { task_id: "good-2", result: 2 }),
      ],
      1000,
      (what, _error, e) => reports.push(`${what}:${e?.task_id}`),
    );
    expect(written.map((input) => [input.taskId, input.result, input.error?.class])).toEqual([
      ["good-1", 1, undefined],
      ["bad", undefined, RESULT_NOT_STORED],
      ["good-2", 2, undefined],
    ]);
    expect(reports).toEqual(["result:bad"]);
    expect(counted).toEqual(["orders/a"]);
  });

  it("drops (and reports) an event refused even without its result, and goes on", async () => {
    const { store, written } = storeRefusing((input) => input.taskId === "hopeless");
    const reports: string[] = [];
    await applyBatch(
      store,
      [event("completed", 1, { task_id: "hopeless" }), event("completed", 1, { task_id: "fine" })],
      1000,
      (what, _error, e) => reports.push(`${what}:${e?.task_id}`),
    );
    expect(written.map((input) => input.taskId)).toEqual(["fine"]);
    expect(reports).toEqual(["event:hopeless"]);
  });

  it("throws an outage, so the batch is not committed and comes back", async () => {
    const store = {
      tasks: {
        applyEvents: async () => {
          throw new StoreError("UNAVAILABLE", "Postgres is unreachable");
        },
      },
      counters: { apply: async () => undefined },
    } as unknown as IngestionStore;
    await expect(applyBatch(store, [event("completed")], 1000, () => undefined)).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });
});
