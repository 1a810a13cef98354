import pino from "pino";
import { MembershipWatch, lostAt, stuckAfterMs, type WatchedConsumer } from "./membership-watch";

const SESSION = 6000;
const HEARTBEAT = 500;

/** A consumer whose heartbeat loop is dead (the library bug) until a join succeeds; joins fail while `down`. */
class DeadHeartbeatConsumer implements WatchedConsumer {
  down = true;
  active = false;
  joins = 0;
  failWith: unknown = new Error("Connection to 127.0.0.1:9092 failed.");
  /** Whether another broker answers while joins fail (the coordinator moved), or none does (the cluster is down). */
  clusterUp = false;
  onJoined: (() => void) | undefined;

  isActive(): boolean {
    return this.active;
  }

  joinGroup(): Promise<unknown> {
    this.joins++;
    if (this.down) return Promise.reject(this.failWith);
    this.active = true;
    this.onJoined?.();
    return Promise.resolve("member-1");
  }
}

function watchOf(consumer: DeadHeartbeatConsumer) {
  const events: string[] = [];
  const watch = new MembershipWatch(consumer, {
    sessionTimeoutMs: SESSION,
    heartbeatIntervalMs: HEARTBEAT,
    logger: pino({ level: "silent" }),
    isFatal: (error) => (error as { apiId?: string }).apiId === "GROUP_AUTHORIZATION_FAILED",
    clusterAnswers: () =>
      consumer.clusterUp ? Promise.resolve(true) : Promise.reject(new Error("no broker answers")),
    onLost: () => void events.push(`lost@${Date.now()}`),
    onStuck: () => void events.push(`stuck@${Date.now()}`),
    onFatal: () => void events.push(`fatal@${Date.now()}`),
  });
  // As the driver wires it: the library emits `consumer:group:join` when a join completes.
  consumer.onJoined = () => watch.joined();
  return { watch, events };
}

beforeEach(() => {
  jest.useFakeTimers({ now: 0 });
});

afterEach(() => {
  jest.useRealTimers();
});

describe("lostAt and stuckAfterMs", () => {
  it("count the session from the last heartbeat the broker had, less one heartbeat interval of margin", () => {
    expect(lostAt(1000, SESSION, HEARTBEAT)).toBe(1000 + SESSION - HEARTBEAT);
    // A heartbeat interval close to the session keeps half the session.
    expect(lostAt(0, 6000, 5000)).toBe(3000);
  });

  it("try the same member for twice the session, and at least 30 s", () => {
    expect(stuckAfterMs(6000)).toBe(30_000);
    expect(stuckAfterMs(45_000)).toBe(90_000);
  });
});

describe("MembershipWatch", () => {
  it("reports the membership lost only once the broker may have dropped the member, not at the first failed heartbeat", async () => {
    const consumer = new DeadHeartbeatConsumer();
    const { watch, events } = watchOf(consumer);
    watch.heartbeatSent();
    watch.heartbeatOk();
    await jest.advanceTimersByTimeAsync(1000);
    watch.heartbeatFailed(new Error("Connection closed"));

    await jest.advanceTimersByTimeAsync(SESSION - HEARTBEAT - 1000 - 1);
    expect(events).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(events).toEqual([`lost@${SESSION - HEARTBEAT}`]);
    watch.stop();
  });

  it("joins the group again while the library no longer heartbeats, until the broker takes it back; then reports nothing", async () => {
    const consumer = new DeadHeartbeatConsumer();
    const { watch, events } = watchOf(consumer);
    watch.heartbeatFailed(new Error("Connection closed"));
    await jest.advanceTimersByTimeAsync(HEARTBEAT);
    expect(consumer.joins).toBe(1);
    await jest.advanceTimersByTimeAsync(2000);
    expect(consumer.joins).toBeGreaterThan(1);

    // The broker is back within the session: the next attempt joins, and the member was never reported lost.
    consumer.down = false;
    await jest.advanceTimersByTimeAsync(2500);
    expect(consumer.active).toBe(true);
    const joins = consumer.joins;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumer.joins).toBe(joins);
    expect(events).toEqual([]);
    watch.stop();
  });

  it("leaves a library that heartbeats on alone, and a good heartbeat ends the doubt", async () => {
    const consumer = new DeadHeartbeatConsumer();
    consumer.active = true;
    const { watch, events } = watchOf(consumer);
    watch.heartbeatFailed(new Error("Connection closed"));
    await jest.advanceTimersByTimeAsync(HEARTBEAT * 2);
    watch.heartbeatSent();
    watch.heartbeatOk();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumer.joins).toBe(0);
    expect(events).toEqual([]);
    watch.stop();
  });

  it("gives the member up as stuck when joining again fails for longer than the broker keeps it while the cluster answers (the coordinator moved)", async () => {
    const consumer = new DeadHeartbeatConsumer();
    consumer.clusterUp = true;
    const { watch, events } = watchOf(consumer);
    watch.heartbeatFailed(new Error("Connection closed"));
    await jest.advanceTimersByTimeAsync(stuckAfterMs(SESSION) + 10_000);
    expect(events[0]).toBe(`lost@${SESSION - HEARTBEAT}`);
    expect(events[1]).toMatch(/^stuck@\d+$/);
    const stuckAt = Number(events[1]?.split("@")[1]);
    expect(stuckAt).toBeGreaterThanOrEqual(stuckAfterMs(SESSION));
    const joins = consumer.joins;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumer.joins).toBe(joins);
    expect(events).toHaveLength(2);
  });

  it("keeps joining under the same member id while no broker answers at all, and takes the group back when one does", async () => {
    const consumer = new DeadHeartbeatConsumer();
    const { watch, events } = watchOf(consumer);
    watch.heartbeatFailed(new Error("Connection closed"));
    await jest.advanceTimersByTimeAsync(stuckAfterMs(SESSION) * 3);
    expect(events).toEqual([`lost@${SESSION - HEARTBEAT}`]);
    const joins = consumer.joins;
    consumer.down = false;
    await jest.advanceTimersByTimeAsync(5000);
    expect(consumer.joins).toBe(joins + 1);
    expect(consumer.active).toBe(true);
    expect(events).toEqual([`lost@${SESSION - HEARTBEAT}`]);
    watch.stop();
  });

  it("hands an error no rejoin mends to onFatal at once, and stops", async () => {
    const consumer = new DeadHeartbeatConsumer();
    const { watch, events } = watchOf(consumer);
    watch.heartbeatFailed(Object.assign(new Error("denied"), { apiId: "GROUP_AUTHORIZATION_FAILED" }));
    expect(events).toEqual(["fatal@0"]);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumer.joins).toBe(0);
    expect(events).toEqual(["fatal@0"]);
  });

  it("after stop() reports nothing and joins no more", async () => {
    const consumer = new DeadHeartbeatConsumer();
    const { watch, events } = watchOf(consumer);
    watch.heartbeatFailed(new Error("Connection closed"));
    watch.stop();
    watch.stop();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumer.joins).toBe(0);
    expect(events).toEqual([]);
  });
});
