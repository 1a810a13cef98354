import pino from "pino";
import type { Envelope } from "../envelope";
import { DeadlineExceededError } from "../handler-errors";
import type { InboundRecord } from "./dead-letter";
import { Delivery, type DeliveryScope } from "./delivery";
import { FairScheduler } from "./limits/fair-scheduler";
import { Partitions } from "./partitions";
import { DeliveryScheduler, type DeliverySchedulerOptions } from "./scheduler";

const logger = pino({ level: "silent" });

function record(key: string, offset: number, partition = 0, topic = "t"): InboundRecord {
  return {
    tp: `${topic}:${partition}`,
    topic,
    partition,
    offset,
    kafkaKey: key,
    value: null,
    message: { headers: () => ({}) } as unknown as InboundRecord["message"],
    retry: false,
    attempt: 1,
    waits: 0,
    replays: 0,
    tenant: "",
    key,
  };
}

/** A deliver function whose runs end when the test says so. */
function controlledDeliver(): {
  deliver: (record: InboundRecord) => Promise<void>;
  started: InboundRecord[];
  finish: (offset: number) => void;
} {
  const started: InboundRecord[] = [];
  const finishers = new Map<number, () => void>();
  return {
    started,
    deliver: (r) => {
      started.push(r);
      return new Promise<void>((resolve) => finishers.set(r.offset, resolve));
    },
    finish: (offset) => finishers.get(offset)?.(),
  };
}

function scheduler(overrides: Partial<DeliverySchedulerOptions> & { concurrency?: number } = {}): {
  scheduler: DeliveryScheduler;
  syncs: () => number;
} {
  let syncs = 0;
  const { concurrency = 2, ...rest } = overrides;
  const scheduler = new DeliveryScheduler({
    queue: new FairScheduler<InboundRecord>(concurrency),
    maxBuffered: 100,
    reclaimIdleMs: 60_000,
    abortGraceMs: 1000,
    logger,
    deliver: () => Promise.resolve(),
    mayStart: () => true,
    syncPauses: () => void syncs++,
    pausesUnknown: () => false,
    onInFlight: () => undefined,
    onCallbackAbandoned: () => undefined,
    ...rest,
  });
  return { scheduler, syncs: () => syncs };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const scope: DeliveryScope = {
  agent: "a",
  logger,
  followUp: () => Promise.resolve("id"),
};
const envelope = { id: "task-1", topic: "t" } as Envelope;

describe("DeliveryScheduler: pump", () => {
  it("starts up to concurrency, never two of one key, and starts the next when a run ends", async () => {
    const runs = controlledDeliver();
    const { scheduler: s } = scheduler({ deliver: runs.deliver });
    s.enqueue(record("a", 1));
    s.enqueue(record("a", 2));
    s.enqueue(record("b", 3));
    s.enqueue(record("c", 4));
    s.pump();
    expect(runs.started.map((r) => r.offset)).toEqual([1, 3]);
    expect(s.inFlight).toBe(2);
    expect(s.buffered).toBe(2);
    runs.finish(1);
    await flush();
    // Key "a" is free again, and fairness takes the waiting keys in turn.
    expect(runs.started.map((r) => r.offset)).toEqual([1, 3, 4]);
    runs.finish(3);
    await flush();
    expect(runs.started.map((r) => r.offset)).toEqual([1, 3, 4, 2]);
  });

  it("starts nothing while starts are not allowed (a crash until the next assignment)", async () => {
    let allowed = false;
    const runs = controlledDeliver();
    const { scheduler: s } = scheduler({ deliver: runs.deliver, mayStart: () => allowed });
    s.enqueue(record("a", 1));
    s.pump();
    expect(runs.started).toEqual([]);
    allowed = true;
    s.pump();
    expect(runs.started.map((r) => r.offset)).toEqual([1]);
  });

  it("releases the key of a run that crashed, logs it, and goes on", async () => {
    const { scheduler: s } = scheduler({
      concurrency: 1,
      deliver: (r) => (r.offset === 1 ? Promise.reject(new Error("bug")) : Promise.resolve()),
    });
    s.enqueue(record("a", 1));
    s.enqueue(record("a", 2));
    s.pump();
    await flush();
    await flush();
    expect(s.inFlight).toBe(0);
    expect(s.buffered).toBe(0);
  });

  it("reports in-flight after each start and each end", async () => {
    const seen: number[] = [];
    const runs = controlledDeliver();
    const { scheduler: s } = scheduler({ deliver: runs.deliver, onInFlight: (n) => seen.push(n) });
    s.enqueue(record("a", 1));
    s.pump();
    runs.finish(1);
    await flush();
    expect(seen).toEqual([1, 0, 0]);
  });
});

describe("DeliveryScheduler: back-pressure", () => {
  it("turns on at maxBuffered and off at half of it, asking for the fetch pauses only when it changes", async () => {
    const runs = controlledDeliver();
    const { scheduler: s, syncs } = scheduler({ concurrency: 1, maxBuffered: 4, deliver: runs.deliver });
    for (let offset = 1; offset <= 5; offset++) s.enqueue(record(`k${offset}`, offset));
    s.pump();
    expect(s.buffered).toBe(4);
    expect(s.backpressured).toBe(true);
    expect(syncs()).toBe(1);
    s.pump();
    expect(syncs()).toBe(1);
    runs.finish(1); // 3 waiting: still above half
    await flush();
    expect(s.backpressured).toBe(true);
    runs.finish(2); // 2 waiting: half
    await flush();
    expect(s.backpressured).toBe(false);
    expect(syncs()).toBe(2);
  });

  it("applies the fetch pauses again whenever the consumer's pause state is unknown", () => {
    const { scheduler: s, syncs } = scheduler({ pausesUnknown: () => true });
    s.pump();
    s.pump();
    expect(syncs()).toBe(2);
  });

  it("forgets back-pressure when the consumer goes idle", () => {
    const { scheduler: s } = scheduler({ concurrency: 1, maxBuffered: 1, mayStart: () => false });
    s.enqueue(record("a", 1));
    s.pump();
    expect(s.backpressured).toBe(true);
    s.idle();
    expect(s.backpressured).toBe(false);
  });
});

describe("DeliveryScheduler: parked retry partitions", () => {
  it("parks a retry partition until its head is due, then asks for the fetch pauses again", async () => {
    const { scheduler: s, syncs } = scheduler();
    s.park(3, Date.now() + 30);
    s.park(3, Date.now() + 10_000); // already parked: kept as it is
    expect(s.isParked(3)).toBe(true);
    expect([...s.parkedRetryPartitions]).toEqual([3]);
    expect(s.delayed).toBe(1);
    expect(syncs()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(s.isParked(3)).toBe(false);
    expect(syncs()).toBe(2);
  });

  it("unparks at once on revocation and on a drain, and the old timer no longer fires", async () => {
    const { scheduler: s, syncs } = scheduler();
    s.park(1, Date.now() + 20);
    s.park(2, Date.now() + 20);
    s.unpark(1);
    expect([...s.parkedRetryPartitions]).toEqual([2]);
    s.dropWaiting();
    expect(s.delayed).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(syncs()).toBe(2);
  });
});

describe("DeliveryScheduler: dropping waiting records", () => {
  it("drops only the revoked partition's records", () => {
    const runs = controlledDeliver();
    const { scheduler: s } = scheduler({ concurrency: 1, deliver: runs.deliver, mayStart: () => false });
    s.enqueue(record("a", 1, 0));
    s.enqueue(record("b", 2, 1));
    s.enqueue(record("c", 3, 0));
    s.dropPartition("t:0");
    expect(s.buffered).toBe(1);
    s.dropWaiting();
    expect(s.buffered).toBe(0);
  });
});

describe("DeliveryScheduler: drain", () => {
  it("resolves true once every run ended, false when the deadline passes first", async () => {
    const runs = controlledDeliver();
    const { scheduler: s } = scheduler({ deliver: runs.deliver });
    s.enqueue(record("a", 1));
    s.pump();
    expect(s.activeRuns).toBe(1);
    expect(await s.drained(20)).toBe(false);
    setTimeout(() => runs.finish(1), 10);
    expect(await s.drained(5000)).toBe(true);
    expect(s.activeRuns).toBe(0);
  });
});

describe("DeliveryScheduler: in-flight accounting", () => {
  it("aborts a delivery past reclaimIdleMs with DeadlineExceededError; the attempt counts (not abandoned)", async () => {
    const { scheduler: s } = scheduler({ reclaimIdleMs: 20 });
    const partitions = new Partitions();
    const state = partitions.stateFor("t", 0);
    const delivery = new Delivery(scope, envelope, record("a", 1), 1, performance.now());
    s.started(delivery, state);
    s.startDeadlineSweep();
    const outcome = delivery.run(() => new Promise(() => undefined)).catch((error: unknown) => error);
    try {
      expect(await outcome).toBeInstanceOf(DeadlineExceededError);
      expect(delivery.abandoned).toBe(false);
      expect(delivery.signal.aborted).toBe(true);
    } finally {
      s.idle();
    }
  });

  it("aborts every running delivery on a forced shutdown, as abandoned", async () => {
    const { scheduler: s } = scheduler();
    const state = new Partitions().stateFor("t", 0);
    const delivery = new Delivery(scope, envelope, record("a", 1), 1, performance.now());
    s.started(delivery, state);
    expect(state.running.has(delivery)).toBe(true);
    const outcome = delivery.run(() => new Promise(() => undefined)).catch((error: unknown) => error);
    s.abortAll(new Error("forced"));
    expect(await outcome).toMatchObject({ message: "forced" });
    expect(delivery.abandoned).toBe(true);
  });

  it("holds the key of an aborted callback until it settles", async () => {
    const { scheduler: s } = scheduler();
    const state = new Partitions().stateFor("t", 0);
    const inbound = record("a", 1);
    const delivery = new Delivery(scope, envelope, inbound, 1, performance.now());
    s.started(delivery, state);
    let settle: () => void = () => undefined;
    void delivery.run(() => new Promise<void>((resolve) => (settle = resolve))).catch(() => undefined);
    delivery.abort(new Error("deadline"), false);
    s.ended(delivery, state, inbound);
    expect(state.running.has(delivery)).toBe(false);
    const held = s.untilSettled(inbound);
    expect(held).toBeDefined();
    let released = false;
    void held?.then(() => (released = true));
    await flush();
    expect(released).toBe(false);
    settle();
    await flush();
    await flush();
    expect(released).toBe(true);
    expect(s.untilSettled(inbound)).toBeUndefined();
  });

  it("gives up on a deaf callback after abortGraceMs and reports it", async () => {
    const abandoned: string[] = [];
    const { scheduler: s } = scheduler({
      abortGraceMs: 20,
      onCallbackAbandoned: (d) => abandoned.push(d.taskId),
    });
    const state = new Partitions().stateFor("t", 0);
    const inbound = record("a", 1);
    const delivery = new Delivery(scope, envelope, inbound, 1, performance.now());
    s.started(delivery, state);
    void delivery.run(() => new Promise(() => undefined)).catch(() => undefined);
    delivery.abort(new Error("deadline"), false);
    s.ended(delivery, state, inbound);
    await s.untilSettled(inbound);
    expect(abandoned).toEqual(["task-1"]);
  });

  it("allocates nothing for a record without an aborted callback", () => {
    const { scheduler: s } = scheduler();
    expect(s.untilSettled(record("a", 1))).toBeUndefined();
  });
});
