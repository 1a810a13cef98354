import { drainTimeoutMsOf } from "./shutdown-budget";

describe("the drain deadline within the shutdown budget", () => {
  it("leaves 5 s of a large budget for committing, deregistering and flushing", () => {
    expect(drainTimeoutMsOf(30_000)).toBe(25_000);
    expect(drainTimeoutMsOf(600_000)).toBe(595_000);
  });

  it("leaves a fifth of a small budget, so the drain always gets most of it", () => {
    expect(drainTimeoutMsOf(10_000)).toBe(8000);
    expect(drainTimeoutMsOf(100)).toBe(80);
  });
});
