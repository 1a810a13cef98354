import { StartStop } from "./start-stop";

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function counting(start: () => Promise<void> = async () => undefined) {
  const calls = { start: 0, stop: [] as boolean[] };
  const lifecycle = new StartStop("svc", {
    start: () => {
      calls.start++;
      return start();
    },
    stop: async (started) => void calls.stop.push(started),
  });
  return { lifecycle, calls };
}

describe("StartStop", () => {
  it("starts once however often start() is called, during and after the start", async () => {
    const gate = deferred();
    const { lifecycle, calls } = counting(() => gate.promise);
    const first = lifecycle.start();
    const second = lifecycle.start();
    gate.resolve();
    await Promise.all([first, second, lifecycle.start()]);
    expect(calls.start).toBe(1);
  });

  it("lets a failed start be tried again", async () => {
    let fail = true;
    const { lifecycle, calls } = counting(async () => {
      if (fail) throw new Error("broker down");
    });
    await expect(lifecycle.start()).rejects.toThrow("broker down");
    fail = false;
    await lifecycle.start();
    expect(calls.start).toBe(2);
  });

  it("stops once however often stop() is called, and is safe before start()", async () => {
    const { lifecycle, calls } = counting();
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    expect(calls.stop).toEqual([false]);
    expect(calls.start).toBe(0);
  });

  it("waits for a start in progress before it stops, and tells the start it is stopping", async () => {
    const gate = deferred();
    const order: string[] = [];
    let sawStopped: boolean | undefined;
    const lifecycle: StartStop = new StartStop("svc", {
      start: async () => {
        await gate.promise;
        sawStopped = lifecycle.stopped;
        order.push("started");
      },
      stop: async (started) => void order.push(`stopped(${started})`),
    });
    const starting = lifecycle.start();
    const stopping = lifecycle.stop();
    gate.resolve();
    await Promise.all([starting, stopping]);
    expect(order).toEqual(["started", "stopped(true)"]);
    expect(sawStopped).toBe(true);
  });

  it("with startWaitMs, stops after that long even if the start hangs", async () => {
    const stopped: boolean[] = [];
    const lifecycle = new StartStop(
      "svc",
      {
        start: () => new Promise<void>(() => undefined),
        stop: async (started) => void stopped.push(started),
      },
      { startWaitMs: 10 },
    );
    void lifecycle.start();
    await lifecycle.stop();
    expect(stopped).toEqual([true]);
  });

  it("refuses to start once stopped, with the service's own error when given", async () => {
    const { lifecycle } = counting();
    await lifecycle.stop();
    await expect(lifecycle.start()).rejects.toThrow("svc was stopped; build a new one");
    const custom = new StartStop(
      "store",
      { start: async () => undefined, stop: async () => undefined },
      { stoppedError: () => new Error("the store is stopped") },
    );
    await custom.stop();
    await expect(custom.start()).rejects.toThrow("the store is stopped");
  });
});
