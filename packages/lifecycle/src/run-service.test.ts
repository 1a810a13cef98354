import { EventEmitter } from "node:events";
import { countTimeouts, trackTimers } from "../test/timers";
import { ExitCode, runService, type LifecycleLogger, type RunServiceOptions, type Service } from "./index";
import type { ServiceStack } from "./service-stack";

interface Line {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

/** One runService under test: a fake signal source, an exit recorder, a journal of starts and stops. */
function harness(overrides: Partial<RunServiceOptions> = {}) {
  const journal: string[] = [];
  const lines: Line[] = [];
  const at = (level: string) => (fields: object, message: string) =>
    void lines.push({ level, fields: fields as Record<string, unknown>, message });
  const logger: LifecycleLogger = { info: at("info"), warn: at("warn"), error: at("error") };
  const signals = new EventEmitter();
  const exits: number[] = [];
  const service = (name: string, stop: () => Promise<void> = async () => undefined): Service => ({
    name,
    start: async () => void journal.push(`start ${name}`),
    stop: () => {
      journal.push(`stop ${name}`);
      return stop();
    },
  });
  const run = (
    build: (stack: ServiceStack) => Promise<void>,
  ): { exited: Promise<ExitCode>; ready: Promise<void> } => {
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const exited = runService(
      async (stack) => {
        await build(stack);
        markReady();
      },
      { logger, signalSource: signals, exit: (code) => void exits.push(code), ...overrides },
    );
    return { exited, ready };
  };
  const send = (signal: NodeJS.Signals = "SIGTERM") => signals.emit(signal, signal);
  return { journal, lines, signals, exits, service, run, send };
}

const never = () => new Promise<void>(() => undefined);

describe("runService", () => {
  it("on SIGTERM stops the services in reverse order and exits 0", async () => {
    const h = harness();
    const { exited, ready } = h.run(async (stack) => {
      await stack.enter(h.service("a"));
      await stack.enter(h.service("b"));
    });
    await ready;
    expect(h.signals.listenerCount("SIGTERM")).toBe(1);
    expect(h.signals.listenerCount("SIGINT")).toBe(1);

    h.send("SIGTERM");

    await expect(exited).resolves.toBe(ExitCode.Ok);
    expect(h.exits).toEqual([0]);
    expect(h.journal).toEqual(["start a", "start b", "stop b", "stop a"]);
    expect(h.signals.listenerCount("SIGTERM")).toBe(0);
    expect(h.signals.listenerCount("SIGINT")).toBe(0);
  });

  it("listens to the signals it is given", async () => {
    const h = harness({ signals: ["SIGUSR2"] });
    const { exited, ready } = h.run(async (stack) => void (await stack.enter(h.service("a"))));
    await ready;
    expect(h.signals.listenerCount("SIGTERM")).toBe(0);

    h.send("SIGUSR2");

    await expect(exited).resolves.toBe(ExitCode.Ok);
    expect(h.signals.listenerCount("SIGUSR2")).toBe(0);
  });

  it("exits 1 when a stop fails, after running the other stops", async () => {
    const h = harness();
    const { exited, ready } = h.run(async (stack) => {
      await stack.enter(h.service("a"));
      await stack.enter(h.service("b", () => Promise.reject(new Error("b cannot stop"))));
    });
    await ready;

    h.send();

    await expect(exited).resolves.toBe(ExitCode.Failed);
    expect(h.journal).toEqual(["start a", "start b", "stop b", "stop a"]);
    expect(h.lines).toContainEqual(
      expect.objectContaining({ message: "shutdown finished with failed stops" }),
    );
  });

  it("when build() throws, rolls back what it entered and exits 1 with the error logged", async () => {
    const h = harness();
    const { exited } = h.run(async (stack) => {
      await stack.enter(h.service("a"));
      await stack.enter(h.service("b"));
      throw new Error("config is wrong");
    });

    await expect(exited).resolves.toBe(ExitCode.Failed);
    expect(h.journal).toEqual(["start a", "start b", "stop b", "stop a"]);
    expect(h.lines).toContainEqual({
      level: "error",
      message: "build failed, rolling back",
      fields: { err: new Error("config is wrong") },
    });
  });

  it("exits 124 when the shutdown deadline expires, naming the service that had not stopped", async () => {
    // A short stopTimeoutMs too, so the shutdown left running after the recorded exit ends within the test.
    const h = harness({ shutdownTimeoutMs: 50, stopTimeoutMs: 100 });
    let built: ServiceStack | undefined;
    const { exited, ready } = h.run(async (stack) => {
      built = stack;
      await stack.enter(h.service("a"));
      await stack.enter(h.service("stuck", never));
      await stack.enter(h.service("c"));
    });
    await ready;

    h.send();

    await expect(exited).resolves.toBe(ExitCode.DeadlineExpired);
    expect(h.lines).toContainEqual({
      level: "error",
      message: "shutdown deadline expired, forcing exit",
      fields: { shutdownTimeoutMs: 50, stopping: ["stuck"], pending: ["a"], starting: [] },
    });
    expect(h.signals.listenerCount("SIGTERM")).toBe(0);
    await built?.close().catch(() => undefined);
  });

  it("exits 130 on a second signal during shutdown, naming the service that had not stopped", async () => {
    const h = harness({ stopTimeoutMs: 100 });
    let built: ServiceStack | undefined;
    let stopping: () => void = () => undefined;
    const stopBegan = new Promise<void>((resolve) => (stopping = resolve));
    const { exited, ready } = h.run(async (stack) => {
      built = stack;
      await stack.enter(h.service("a"));
      await stack.enter(
        h.service("slow", () => {
          stopping();
          return never();
        }),
      );
    });
    await ready;

    h.send("SIGTERM");
    await stopBegan;
    h.send("SIGINT");

    await expect(exited).resolves.toBe(ExitCode.SecondSignal);
    expect(h.exits).toEqual([130]);
    expect(h.lines).toContainEqual({
      level: "error",
      message: "second signal during shutdown, forcing exit",
      fields: { signal: "SIGINT", stopping: ["slow"], pending: ["a"], starting: [] },
    });
    await built?.close().catch(() => undefined);
  });

  it("on a signal during build() stops what started, waits for the start in flight, then exits 0", async () => {
    const h = harness();
    let finishStart: () => void = () => undefined;
    let startBegan: () => void = () => undefined;
    const starting = new Promise<void>((resolve) => (startBegan = resolve));
    const { exited } = h.run(async (stack) => {
      await stack.enter(h.service("a"));
      await stack.enter({
        name: "slow-start",
        start: () => {
          startBegan();
          return new Promise<void>((resolve) => (finishStart = resolve));
        },
        stop: async () => void h.journal.push("stop slow-start"),
      });
    });
    await starting;

    h.send();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.journal).toEqual(["start a", "stop a"]);
    expect(h.exits).toEqual([]);
    finishStart();

    await expect(exited).resolves.toBe(ExitCode.Ok);
    expect(h.journal).toEqual(["start a", "stop a", "stop slow-start"]);
    expect(h.lines).toContainEqual(
      expect.objectContaining({ message: "build did not complete before shutdown" }),
    );
  });

  it("leaves no timer armed after it exits", async () => {
    const timers = trackTimers();
    const baseline = countTimeouts();
    try {
      const h = harness({ shutdownTimeoutMs: 60_000 });
      const { exited, ready } = h.run(async (stack) => void (await stack.enter(h.service("a"))));
      await ready;
      // The keep-alive interval, which holds the process up while it waits for a signal.
      expect(await timers.live(1)).toBe(1);

      h.send();

      await expect(exited).resolves.toBe(ExitCode.Ok);
      expect(await timers.live(0)).toBe(0);
      expect(countTimeouts()).toBeLessThanOrEqual(baseline);
    } finally {
      timers.stop();
    }
  });

  it("rejects a shutdownTimeoutMs that a timer cannot honour", () => {
    const h = harness({ shutdownTimeoutMs: Infinity });
    expect(() => h.run(async () => undefined)).toThrow(RangeError);
  });
});
