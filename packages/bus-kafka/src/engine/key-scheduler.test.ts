import { KeyScheduler } from "./key-scheduler";

function drain<T>(scheduler: KeyScheduler<T>): Array<{ key: string; item: T }> {
  const started: Array<{ key: string; item: T }> = [];
  for (let next = scheduler.next(); next; next = scheduler.next()) started.push(next);
  return started;
}

describe("KeyScheduler", () => {
  it("never starts two items of the same key at once, and keeps a key's items in order", () => {
    const scheduler = new KeyScheduler<number>(10);
    scheduler.enqueue("a", 1);
    scheduler.enqueue("a", 2);
    scheduler.enqueue("b", 3);
    expect(drain(scheduler).map((s) => s.item)).toEqual([1, 3]);
    expect(scheduler.next()).toBeUndefined();
    scheduler.release("a");
    expect(drain(scheduler).map((s) => s.item)).toEqual([2]);
  });

  it("caps items in flight at the concurrency and starts more as slots free up", () => {
    const scheduler = new KeyScheduler<string>(2);
    for (const key of ["k1", "k2", "k3", "k4"]) scheduler.enqueue(key, key);
    expect(drain(scheduler).map((s) => s.key)).toEqual(["k1", "k2"]);
    expect(scheduler.inFlight).toBe(2);
    expect(scheduler.buffered).toBe(2);
    scheduler.release("k2");
    expect(drain(scheduler).map((s) => s.key)).toEqual(["k3"]);
  });

  it("runs different keys beyond any partition count: 300 keys start at once with concurrency 300", () => {
    const scheduler = new KeyScheduler<number>(300);
    for (let i = 0; i < 300; i++) scheduler.enqueue(`key-${i}`, i);
    expect(drain(scheduler)).toHaveLength(300);
  });

  it("drops waiting items that match a predicate (a revoked partition) and keeps counts right", () => {
    const scheduler = new KeyScheduler<{ tp: string }>(1);
    scheduler.enqueue("a", { tp: "t:0" });
    scheduler.enqueue("b", { tp: "t:1" });
    scheduler.enqueue("c", { tp: "t:0" });
    const first = scheduler.next();
    expect(first?.key).toBe("a");
    expect(scheduler.drop((item) => item.tp === "t:0")).toBe(1);
    expect(scheduler.buffered).toBe(1);
    scheduler.release("a");
    expect(drain(scheduler).map((s) => s.key)).toEqual(["b"]);
  });

  it("lets a key be re-used after its queue was dropped and refilled", () => {
    const scheduler = new KeyScheduler<number>(5);
    scheduler.enqueue("a", 1);
    scheduler.drop(() => true);
    scheduler.enqueue("a", 2);
    expect(drain(scheduler).map((s) => s.item)).toEqual([2]);
    expect(scheduler.buffered).toBe(0);
  });

  it("rejects a concurrency below 1", () => {
    expect(() => new KeyScheduler(0)).toThrow(/concurrency/);
  });
});
