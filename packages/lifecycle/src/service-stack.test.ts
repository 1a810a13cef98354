import {
  StackCloseError,
  StackClosedError,
  StartRollbackError,
  StopTimeoutError,
  type LifecycleLogger,
  type Service,
} from "./index";
import { ServiceStack } from "./service-stack";
import { countTimeouts, trackTimers } from "../test/timers";

type Behaviour = "ok" | "throw" | "hang";

/** A service that records its starts and stops in a shared journal. */
function recorded(
  journal: string[],
  name: string,
  behaviour: { start?: Behaviour; stop?: Behaviour } = {},
): Service {
  const act = (step: "start" | "stop", how: Behaviour = "ok"): Promise<void> => {
    journal.push(`${step} ${name}`);
    if (how === "throw") return Promise.reject(new Error(`${step} ${name} failed`));
    if (how === "hang") return new Promise(() => undefined);
    return Promise.resolve();
  };
  return { name, start: () => act("start", behaviour.start), stop: () => act("stop", behaviour.stop) };
}

function recordingLogger(): LifecycleLogger & {
  lines: { level: string; fields: object; message: string }[];
} {
  const lines: { level: string; fields: object; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) =>
    void lines.push({ level, fields, message });
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("ServiceStack", () => {
  it("stops services and deferred cleanups in reverse order of entry", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack();
    await stack.enter(recorded(journal, "producer"));
    stack.defer("flush", () => void journal.push("stop flush"));
    await stack.enter(recorded(journal, "consumer"));
    await stack.enter(recorded(journal, "dlq"));

    await stack.close();

    expect(journal).toEqual([
      "start producer",
      "start consumer",
      "start dlq",
      "stop dlq",
      "stop consumer",
      "stop flush",
      "stop producer",
    ]);
  });

  it("returns the entered service", async () => {
    const service = recorded([], "a");
    const stack = new ServiceStack();
    await expect(stack.enter(service)).resolves.toBe(service);
    await stack.close();
  });

  it("reports every failed stop by name and still runs the others", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack();
    await stack.enter(recorded(journal, "a", { stop: "throw" }));
    await stack.enter(recorded(journal, "b"));
    stack.defer("sync-throw", () => {
      throw new Error("sync cleanup failed");
    });
    await stack.enter(recorded(journal, "c", { stop: "throw" }));

    const error = await rejectionOf(stack.close());

    expect(journal.filter((line) => line.startsWith("stop"))).toEqual(["stop c", "stop b", "stop a"]);
    expect(error).toBeInstanceOf(StackCloseError);
    const closeError = error as StackCloseError;
    expect(closeError).toBeInstanceOf(AggregateError);
    expect(closeError.failures.map((failure) => failure.name)).toEqual(["c", "sync-throw", "a"]);
    expect(closeError.failures.map((failure) => (failure.error as Error).message)).toEqual([
      "stop c failed",
      "sync cleanup failed",
      "stop a failed",
    ]);
    expect(closeError.errors).toHaveLength(3);
    expect(closeError.timedOut).toEqual([]);
    expect(closeError.message).toContain("c, sync-throw, a");
  });

  it("cuts a hanging stop at its deadline and still stops the rest", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack({ stopTimeoutMs: 5_000 });
    await stack.enter(recorded(journal, "a"));
    await stack.enter(recorded(journal, "hangs", { stop: "hang" }), { stopTimeoutMs: 30 });
    await stack.enter(recorded(journal, "c"));

    const startedAt = Date.now();
    const error = (await rejectionOf(stack.close())) as StackCloseError;

    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(journal.filter((line) => line.startsWith("stop"))).toEqual(["stop c", "stop hangs", "stop a"]);
    expect(error.timedOut).toEqual(["hangs"]);
    expect(error.failures[0]?.error).toBeInstanceOf(StopTimeoutError);
    expect(error.message).toContain("hangs (timed out)");
  });

  it("applies the stack's stopTimeoutMs to entries that set none", async () => {
    const stack = new ServiceStack({ stopTimeoutMs: 20 });
    stack.defer("hangs", () => new Promise(() => undefined));

    const error = (await rejectionOf(stack.close())) as StackCloseError;

    expect(error.timedOut).toEqual(["hangs"]);
    expect((error.failures[0]?.error as StopTimeoutError).stopTimeoutMs).toBe(20);
  });

  it("logs a stop that fails after its deadline instead of leaving the rejection unhandled", async () => {
    const logger = recordingLogger();
    const stack = new ServiceStack({ logger, stopTimeoutMs: 10 });
    stack.defer("late", () => new Promise((_, reject) => setTimeout(() => reject(new Error("late")), 40)));

    await expect(stack.close()).rejects.toBeInstanceOf(StackCloseError);
    await new Promise((resolve) => setTimeout(resolve, 60));

    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: "warn", message: "service stop failed after its deadline" }),
    );
  });

  it("rolls back a failed start: stops the failed service, then the earlier ones in reverse, and rethrows", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack();
    await stack.enter(recorded(journal, "a"));
    await stack.enter(recorded(journal, "b"));
    const failing = recorded(journal, "c", { start: "throw" });

    const error = await rejectionOf(stack.enter(failing));

    expect((error as Error).message).toBe("start c failed");
    expect(journal).toEqual(["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
    await expect(stack.enter(recorded(journal, "d"))).rejects.toBeInstanceOf(StackClosedError);
    // The rollback closed the stack; closing again stops nothing twice.
    await stack.close();
    expect(journal.filter((line) => line === "stop a")).toHaveLength(1);
  });

  it("wraps the start error in a StartRollbackError when the rollback fails too", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack();
    await stack.enter(recorded(journal, "a", { stop: "throw" }));

    const error = await rejectionOf(stack.enter(recorded(journal, "b", { start: "throw" })));

    expect(error).toBeInstanceOf(StartRollbackError);
    const rollbackError = error as StartRollbackError;
    expect(rollbackError.serviceName).toBe("b");
    expect((rollbackError.cause as Error).message).toBe("start b failed");
    expect(rollbackError.rollback.failures.map((failure) => failure.name)).toEqual(["a"]);
    expect(journal).toEqual(["start a", "start b", "stop b", "stop a"]);
  });

  it("move() hands every cleanup to a new stack and leaves this one empty", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack();
    await stack.enter(recorded(journal, "a"));
    stack.defer("b", () => void journal.push("stop b"));

    const moved = stack.move();
    await stack.close();
    expect(journal).toEqual(["start a"]);
    expect(moved.pending).toEqual(["b", "a"]);

    await moved.close();
    expect(journal).toEqual(["start a", "stop b", "stop a"]);
    expect(() => stack.move()).toThrow(StackClosedError);
  });

  it("supports the await-using + move() pattern: ownership leaves only on success", async () => {
    const journal: string[] = [];
    async function open(failLast: boolean): Promise<ServiceStack> {
      await using stack = new ServiceStack();
      await stack.enter(recorded(journal, "pool"));
      await stack.enter(recorded(journal, "producer", { start: failLast ? "throw" : "ok" }));
      return stack.move();
    }

    await expect(open(true)).rejects.toThrow("start producer failed");
    expect(journal).toEqual(["start pool", "start producer", "stop producer", "stop pool"]);

    journal.length = 0;
    const owned = await open(false);
    expect(journal).toEqual(["start pool", "start producer"]);
    await owned.close();
    expect(journal).toEqual(["start pool", "start producer", "stop producer", "stop pool"]);
  });

  it("close() is idempotent: the same promise, and each stop runs once", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack();
    await stack.enter(recorded(journal, "a"));

    const first = stack.close();
    const second = stack.close();
    const disposed = stack[Symbol.asyncDispose]();

    expect(second).toBe(first);
    expect(disposed).toBe(first);
    await first;
    expect(journal).toEqual(["start a", "stop a"]);
  });

  it("rejects enter() and throws on defer() after close()", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack();
    await stack.close();

    await expect(stack.enter(recorded(journal, "late"))).rejects.toThrow(
      new StackClosedError('cannot enter "late": the stack is closed'),
    );
    expect(() => stack.defer("late", () => undefined)).toThrow(StackClosedError);
    expect(journal).toEqual([]);
  });

  it("resolves close() when nothing was entered", async () => {
    await expect(new ServiceStack().close()).resolves.toBeUndefined();
  });

  it("stops a service whose start finished after close() began, and rejects its enter()", async () => {
    const journal: string[] = [];
    const stack = new ServiceStack();
    await stack.enter(recorded(journal, "a"));
    let finishStart: () => void = () => undefined;
    const slow: Service = {
      name: "slow",
      start: () => new Promise<void>((resolve) => (finishStart = resolve)),
      stop: async () => void journal.push("stop slow"),
    };
    const entering = stack.enter(slow);
    await Promise.resolve();
    expect(stack.starting).toEqual(["slow"]);

    await stack.close();
    expect(journal).toEqual(["start a", "stop a"]);
    finishStart();

    await expect(entering).rejects.toBeInstanceOf(StackClosedError);
    expect(journal).toEqual(["start a", "stop a", "stop slow"]);
    expect(stack.starting).toEqual([]);
  });

  it("refuses to move() while a service is starting", async () => {
    const stack = new ServiceStack();
    let finishStart: () => void = () => undefined;
    const entering = stack.enter({
      name: "slow",
      start: () => new Promise<void>((resolve) => (finishStart = resolve)),
      stop: async () => undefined,
    });
    await Promise.resolve();

    expect(() => stack.move()).toThrow("cannot move a stack while slow is starting");
    finishStart();
    await entering;
    await stack.close();
  });

  it("names what is stopping and what is still to stop while it closes", async () => {
    const stack = new ServiceStack();
    let finishStop: () => void = () => undefined;
    stack.defer("a", () => undefined);
    stack.defer("b", () => new Promise<void>((resolve) => (finishStop = resolve)));
    stack.defer("c", () => undefined);
    expect(stack.pending).toEqual(["c", "b", "a"]);

    const closing = stack.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(stack.stopping).toEqual(["b"]);
    expect(stack.pending).toEqual(["a"]);

    finishStop();
    await closing;
    expect(stack.stopping).toEqual([]);
    expect(stack.pending).toEqual([]);
  });

  it("logs one structured line per start and per stop", async () => {
    const logger = recordingLogger();
    const stack = new ServiceStack({ logger });
    await stack.enter(recorded([], "a"));
    stack.defer("b", () => Promise.reject(new Error("boom")));
    await expect(stack.close()).rejects.toBeInstanceOf(StackCloseError);

    expect(logger.lines).toEqual([
      {
        level: "info",
        message: "service started",
        fields: { service: "a", durationMs: expect.any(Number), outcome: "started" },
      },
      {
        level: "error",
        message: "service stop failed",
        fields: { service: "b", durationMs: expect.any(Number), outcome: "failed", err: new Error("boom") },
      },
      {
        level: "info",
        message: "service stopped",
        fields: { service: "a", durationMs: expect.any(Number), outcome: "stopped" },
      },
    ]);
  });

  it("rejects a stopTimeoutMs that a timer cannot honour", async () => {
    expect(() => new ServiceStack({ stopTimeoutMs: Infinity })).toThrow(RangeError);
    expect(() => new ServiceStack({ stopTimeoutMs: 0 })).toThrow(RangeError);
    const stack = new ServiceStack();
    await expect(stack.enter(recorded([], "a"), { stopTimeoutMs: 2 ** 31 })).rejects.toThrow(RangeError);
    expect(() => stack.defer("b", () => undefined, { stopTimeoutMs: -1 })).toThrow(RangeError);
  });

  it("returns timers to baseline after close, even when a stop was cut at its deadline", async () => {
    const timers = trackTimers();
    const baseline = countTimeouts();
    try {
      // Quick stops under long deadlines are the ones that would leave timers behind if they were not cleared.
      const stack = new ServiceStack({ stopTimeoutMs: 60_000 });
      stack.defer("a", () => undefined);
      stack.defer("hangs", () => new Promise(() => undefined), { stopTimeoutMs: 50 });
      stack.defer("c", async () => undefined);

      const closing = stack.close();
      await new Promise((resolve) => setImmediate(resolve));
      // Only the deadline of the hanging stop is armed now; this shows the tracking can see a timer.
      expect(stack.stopping).toEqual(["hangs"]);
      expect(await timers.live(1)).toBe(1);

      await expect(closing).rejects.toBeInstanceOf(StackCloseError);
      expect(await timers.live(0)).toBe(0);
      // The process-wide count can only have gone down: jest's start-up timers expire meanwhile.
      expect(countTimeouts()).toBeLessThanOrEqual(baseline);
    } finally {
      timers.stop();
    }
  });
});
