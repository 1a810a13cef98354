import { StopWaiting, waitFor } from "./wait";

describe("waitFor", () => {
  it("resolves with the first value the probe returns that is neither undefined nor false", async () => {
    let calls = 0;
    const value = await waitFor(
      "the third call",
      () => (++calls === 3 ? { calls } : calls === 1 ? false : undefined),
      5_000,
      1,
    );
    expect(value).toEqual({ calls: 3 });
  });

  it("asks again after a probe throws, and names its last error when the time is up", async () => {
    let calls = 0;
    const probe = (): boolean => {
      calls++;
      throw new Error(`not yet (${calls})`);
    };
    await expect(waitFor("a probe that keeps failing", probe, 50, 5, () => "state: broken")).rejects.toThrow(
      /^timed out after 50 ms waiting for a probe that keeps failing \(last error: not yet \(\d+\)\)\nstate: broken$/,
    );
    expect(calls).toBeGreaterThan(1);
  });

  it("gives up at once when the probe throws StopWaiting", async () => {
    let calls = 0;
    await expect(
      waitFor(
        "a process that exited",
        () => {
          calls++;
          throw new StopWaiting("it exited with code 1");
        },
        60_000,
      ),
    ).rejects.toThrow("gave up waiting for a process that exited: it exited with code 1");
    expect(calls).toBe(1);
  });
});
