import { forEachBounded } from "./bounded-each";

/** A task per item that stays pending until released; records what ran. */
function gate() {
  const releases = new Map<number, (error?: Error) => void>();
  const started: number[] = [];
  let running = 0;
  let peak = 0;
  const task = (item: number): Promise<void> => {
    started.push(item);
    running++;
    peak = Math.max(peak, running);
    return new Promise<void>((resolve, reject) => {
      releases.set(item, (error) => {
        running--;
        if (error) reject(error);
        else resolve();
      });
    });
  };
  const release = (item: number, error?: Error): void => releases.get(item)?.(error);
  return { task, release, started, peak: () => peak };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("forEachBounded", () => {
  it("starts up to the limit at once, not one after another", async () => {
    const g = gate();
    const all = forEachBounded([1, 2, 3, 4, 5], 3, g.task);
    await tick();
    expect(g.started).toEqual([1, 2, 3]);
    g.release(2);
    await tick();
    expect(g.started).toEqual([1, 2, 3, 4]);
    for (const item of [1, 3, 4]) g.release(item);
    await tick();
    g.release(5);
    await expect(all).resolves.toBeUndefined();
    expect(g.started).toEqual([1, 2, 3, 4, 5]);
    expect(g.peak()).toBe(3);
  });

  it("starts nothing more after a failure, waits for the running ones, and throws the first error", async () => {
    const g = gate();
    let settled = false;
    const all = forEachBounded([1, 2, 3, 4], 2, g.task).finally(() => (settled = true));
    await tick();
    g.release(1, new Error("agent 1 failed"));
    await tick();
    expect(g.started).toEqual([1, 2]);
    expect(settled).toBe(false); // item 2 is still running
    g.release(2, new Error("agent 2 failed too"));
    await expect(all).rejects.toThrow("agent 1 failed");
    expect(g.started).toEqual([1, 2]);
  });

  it("refuses a limit that is not a positive integer, naming it", async () => {
    await expect(forEachBounded([1], 0, () => Promise.resolve())).rejects.toThrow(/limit/);
  });
});
