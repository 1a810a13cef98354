import { trackTimers } from "../test/timers";
import { abortable, raceDeadline, sleep, TIMED_OUT, withDeadline } from "./deadline";

const never = () => new Promise<never>(() => undefined);

describe("raceDeadline", () => {
  it("settles like the work when it finishes first, and resolves TIMED_OUT when the deadline does", async () => {
    await expect(raceDeadline(Promise.resolve(7), 1000)).resolves.toBe(7);
    await expect(raceDeadline(Promise.reject(new Error("boom")), 1000)).rejects.toThrow("boom");
    await expect(raceDeadline(never(), 5)).resolves.toBe(TIMED_OUT);
  });

  it("leaves no timer armed either way", async () => {
    const timers = trackTimers();
    try {
      await raceDeadline(Promise.resolve(1), 60_000);
      await raceDeadline(never(), 5);
      expect(await timers.live(0)).toBe(0);
    } finally {
      timers.stop();
    }
  });
});

describe("withDeadline", () => {
  it("rejects with the error that names what did not answer", async () => {
    await expect(
      withDeadline(never(), 5, () => new Error("Kafka did not answer within 5 ms")),
    ).rejects.toThrow("Kafka did not answer within 5 ms");
    await expect(withDeadline(Promise.resolve("ok"), 1000, () => new Error("late"))).resolves.toBe("ok");
  });

  it("does not leave the cut work's later failure unhandled", async () => {
    const unhandled = jest.fn();
    process.on("unhandledRejection", unhandled);
    try {
      const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("later")), 20));
      await expect(withDeadline(late, 5, () => new Error("cut"))).rejects.toThrow("cut");
      await sleep(50);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });
});

describe("abortable", () => {
  it("rejects with the signal's reason when it aborts first, at once when it already has", async () => {
    const controller = new AbortController();
    const cut = abortable(never(), controller.signal);
    controller.abort(new Error("stopping"));
    await expect(cut).rejects.toThrow("stopping");
    await expect(abortable(Promise.resolve(1), AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
  });

  it("settles like the work otherwise", async () => {
    await expect(abortable(Promise.resolve(3), new AbortController().signal)).resolves.toBe(3);
  });
});

describe("sleep", () => {
  it("ends early, without rejecting, when its signal aborts, and leaves no timer behind", async () => {
    const timers = trackTimers();
    try {
      const controller = new AbortController();
      const started = Date.now();
      const slept = sleep(60_000, { signal: controller.signal });
      controller.abort();
      await expect(slept).resolves.toBeUndefined();
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(await timers.live(0)).toBe(0);
    } finally {
      timers.stop();
    }
  });

  it("with unref, does not keep the process alive on its own", async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const slept = sleep(30, { unref: true });
    expect(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length).toBe(before);
    await slept;
  });
});
