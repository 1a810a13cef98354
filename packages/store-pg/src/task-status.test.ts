import {
  isTerminal,
  recordStatusOf,
  shouldApply,
  TASK_STATUSES,
  type TaskProgress,
  type TaskStatus,
} from "./task-status";

const at = (status: TaskProgress["status"], attempts: number): TaskProgress => ({ status, attempts });

describe("task status rules", () => {
  it("maps event statuses to record statuses, retrying being a failed attempt", () => {
    expect(recordStatusOf("processing")).toBe("processing");
    expect(recordStatusOf("completed")).toBe("completed");
    expect(recordStatusOf("failed")).toBe("failed");
    expect(recordStatusOf("retrying")).toBe("failed");
    expect(recordStatusOf("dead_lettered")).toBe("dead_lettered");
  });

  it("treats completed and dead_lettered as terminal, and nothing else", () => {
    expect(TASK_STATUSES.filter(isTerminal)).toEqual(["completed", "dead_lettered"]);
  });

  it("lets any event create a missing record", () => {
    for (const status of TASK_STATUSES) expect(shouldApply(undefined, at(status, 1))).toBe(true);
  });

  it("moves forward through one attempt: pending → processing → failed → dead_lettered", () => {
    expect(shouldApply(at("pending", 0), at("processing", 1))).toBe(true);
    expect(shouldApply(at("processing", 1), at("failed", 1))).toBe(true);
    expect(shouldApply(at("processing", 1), at("completed", 1))).toBe(true);
    expect(shouldApply(at("failed", 1), at("dead_lettered", 1))).toBe(true);
    expect(shouldApply(at("pending", 0), at("completed", 1))).toBe(true);
  });

  it("never moves backwards within an attempt, and ignores duplicates", () => {
    expect(shouldApply(at("processing", 1), at("processing", 1))).toBe(false);
    expect(shouldApply(at("failed", 1), at("processing", 1))).toBe(false);
    expect(shouldApply(at("failed", 1), at("failed", 1))).toBe(false);
  });

  it("never changes a terminal record: no late processing, no retry, no other ending", () => {
    for (const terminal of ["completed", "dead_lettered"] as const) {
      for (const next of TASK_STATUSES) {
        expect(shouldApply(at(terminal, 2), at(next, 1))).toBe(false);
        expect(shouldApply(at(terminal, 2), at(next, 2))).toBe(false);
        expect(shouldApply(at(terminal, 2), at(next, 3))).toBe(false);
      }
    }
  });

  it("lets a retry start after a failed attempt: failed at 1 → processing at 2", () => {
    expect(shouldApply(at("failed", 1), at("processing", 2))).toBe(true);
    expect(shouldApply(at("failed", 2), at("failed", 3))).toBe(true);
    // The failed event of attempt 1 got lost: processing at 2 still supersedes processing at 1.
    expect(shouldApply(at("processing", 1), at("processing", 2))).toBe(true);
  });

  it("ignores a stale event of an earlier attempt", () => {
    expect(shouldApply(at("processing", 2), at("failed", 1))).toBe(false);
    expect(shouldApply(at("processing", 2), at("completed", 1))).toBe(false);
    expect(shouldApply(at("failed", 3), at("dead_lettered", 2))).toBe(false);
  });
});

describe("shouldApply across replays from the DLQ", () => {
  const replayed = (status: TaskStatus, attempts: number, replays: number): TaskProgress => ({
    status,
    attempts,
    replays,
  });

  it("starts a dead-lettered record over with the first event of a replay, whatever its attempt", () => {
    for (const status of ["processing", "completed", "failed", "dead_lettered"] as const) {
      expect(shouldApply(replayed("dead_lettered", 4, 0), replayed(status, 1, 1))).toBe(true);
    }
    expect(shouldApply({ status: "dead_lettered", attempts: 4 }, replayed("processing", 1, 1))).toBe(true);
  });

  it("within one replay, follows the rule of a first delivery: final stays final, earlier attempts are stale", () => {
    expect(shouldApply(replayed("processing", 1, 1), replayed("completed", 1, 1))).toBe(true);
    expect(shouldApply(replayed("completed", 1, 1), replayed("processing", 2, 1))).toBe(false);
    expect(shouldApply(replayed("failed", 2, 1), replayed("processing", 1, 1))).toBe(false);
  });

  it("ignores a late event of an earlier replay, or of the first delivery, once a replay has begun", () => {
    expect(shouldApply(replayed("processing", 1, 1), replayed("dead_lettered", 4, 0))).toBe(false);
    expect(shouldApply(replayed("processing", 1, 2), replayed("completed", 1, 1))).toBe(false);
    expect(shouldApply(replayed("completed", 1, 1), { status: "processing", attempts: 9 })).toBe(false);
  });
});
