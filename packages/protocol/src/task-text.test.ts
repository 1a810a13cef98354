import { formatAttempts } from "./task-text";

describe("formatAttempts", () => {
  it("shows the attempts alone for a task never replayed, and the replay once it was", () => {
    expect(formatAttempts({ attempts: 3, replays: 0 })).toBe("3");
    expect(formatAttempts({ attempts: 0 })).toBe("0");
    expect(formatAttempts({ attempts: 1, replays: 2 })).toBe("1 (replay 2)");
  });
});
