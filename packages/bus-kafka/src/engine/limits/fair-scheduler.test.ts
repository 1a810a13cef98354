import { FairScheduler, type AdmissionGate } from "./fair-scheduler";

// The reference model: the per-key scheduler the engine ran before tenant fairness (FairScheduler replaced it). Kept
// here, test-only, as the oracle of the differential test below and of the contract both keep.
/**
 * Runs work items with at most `concurrency` in flight and never two with the same key at once. Items of one key
 * run in arrival order; different keys interleave fairly (round robin over ready keys), so a hot key cannot starve
 * the others. Pure bookkeeping: the caller starts what `next()` returns and calls `release(key)` when it is done.
 */
interface KeyQueue<T> {
  items: T[];
  active: boolean;
  ready: boolean;
}

class KeyScheduler<T> {
  private readonly keys = new Map<string, KeyQueue<T>>();
  private readyKeys: string[] = [];
  private readyHead = 0;
  private running = 0;
  private queued = 0;

  constructor(private concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
    }
  }

  get inFlight(): number {
    return this.running;
  }

  /** Items waiting to start. */
  get buffered(): number {
    return this.queued;
  }

  enqueue(key: string, item: T): void {
    let queue = this.keys.get(key);
    if (!queue) {
      queue = { items: [], active: false, ready: false };
      this.keys.set(key, queue);
    }
    queue.items.push(item);
    this.queued++;
    this.markReady(key, queue);
  }

  /** The next item allowed to start, or undefined (at capacity, or every waiting key is busy). */
  next(): { key: string; item: T } | undefined {
    if (this.running >= this.concurrency) return undefined;
    while (this.readyHead < this.readyKeys.length) {
      const key = this.readyKeys[this.readyHead++] as string;
      const queue = this.keys.get(key);
      // A key can sit in the ready list twice (dropped and re-added); only the entry that is still `ready` counts.
      if (!queue?.ready) continue;
      queue.ready = false;
      if (queue.active || queue.items.length === 0) continue;
      const item = queue.items.shift() as T;
      queue.active = true;
      this.queued--;
      this.running++;
      this.compactReady();
      return { key, item };
    }
    this.compactReady();
    return undefined;
  }

  /** The item of `key` finished; the key's next item (if any) becomes ready. */
  release(key: string): void {
    const queue = this.keys.get(key);
    if (!queue?.active) return;
    queue.active = false;
    this.running--;
    if (queue.items.length === 0) this.keys.delete(key);
    else this.markReady(key, queue);
  }

  /** Drops waiting items that match (e.g. records of a revoked partition). Returns how many were dropped. */
  drop(predicate: (item: T) => boolean): number {
    let dropped = 0;
    for (const [key, queue] of this.keys) {
      const kept = queue.items.filter((item) => !predicate(item));
      dropped += queue.items.length - kept.length;
      queue.items = kept;
      if (kept.length === 0 && !queue.active) this.keys.delete(key);
    }
    this.queued -= dropped;
    return dropped;
  }

  private markReady(key: string, queue: KeyQueue<T>): void {
    if (queue.active || queue.ready || queue.items.length === 0) return;
    queue.ready = true;
    this.readyKeys.push(key);
  }

  private compactReady(): void {
    if (this.readyHead > 1024 && this.readyHead * 2 > this.readyKeys.length) {
      this.readyKeys = this.readyKeys.slice(this.readyHead);
      this.readyHead = 0;
    }
  }
}

interface Item {
  tenant: string;
  n: number;
  tp?: string;
}

type Scheduler<T> = Pick<KeyScheduler<T>, "enqueue" | "next" | "release" | "drop" | "inFlight" | "buffered">;

function drain<T>(scheduler: Scheduler<T>): Array<{ key: string; item: T }> {
  const started: Array<{ key: string; item: T }> = [];
  for (let next = scheduler.next(); next; next = scheduler.next()) started.push(next);
  return started;
}

const byTenant = { tenantOf: (item: Item) => item.tenant };

/** Runs one item at a time to completion and returns the tenants in start order. */
function serveOneByOne(scheduler: FairScheduler<Item>, count: number): string[] {
  const order: string[] = [];
  for (let i = 0; i < count; i++) {
    const next = scheduler.next();
    if (!next) break;
    order.push(next.item.tenant);
    scheduler.release(next.key);
  }
  return order;
}

// The behaviour KeyScheduler's own tests pin, run against both: FairScheduler is a drop-in.
describe.each([
  ["KeyScheduler", <T>(concurrency: number): Scheduler<T> => new KeyScheduler<T>(concurrency)],
  ["FairScheduler", <T>(concurrency: number): Scheduler<T> => new FairScheduler<T>(concurrency)],
])("%s (the contract both keep)", (_name, make) => {
  it("never starts two items of the same key at once, and keeps a key's items in order", () => {
    const scheduler = make<number>(10);
    scheduler.enqueue("a", 1);
    scheduler.enqueue("a", 2);
    scheduler.enqueue("b", 3);
    expect(drain(scheduler).map((s) => s.item)).toEqual([1, 3]);
    expect(scheduler.next()).toBeUndefined();
    scheduler.release("a");
    expect(drain(scheduler).map((s) => s.item)).toEqual([2]);
  });

  it("caps items in flight at the concurrency and starts more as slots free up", () => {
    const scheduler = make<string>(2);
    for (const key of ["k1", "k2", "k3", "k4"]) scheduler.enqueue(key, key);
    expect(drain(scheduler).map((s) => s.key)).toEqual(["k1", "k2"]);
    expect(scheduler.inFlight).toBe(2);
    expect(scheduler.buffered).toBe(2);
    scheduler.release("k2");
    expect(drain(scheduler).map((s) => s.key)).toEqual(["k3"]);
  });

  it("drops waiting items that match a predicate (a revoked partition) and keeps counts right", () => {
    const scheduler = make<{ tp: string }>(1);
    scheduler.enqueue("a", { tp: "t:0" });
    scheduler.enqueue("b", { tp: "t:1" });
    scheduler.enqueue("c", { tp: "t:0" });
    expect(scheduler.next()?.key).toBe("a");
    expect(scheduler.drop((item) => item.tp === "t:0")).toBe(1);
    expect(scheduler.buffered).toBe(1);
    scheduler.release("a");
    expect(drain(scheduler).map((s) => s.key)).toEqual(["b"]);
  });

  it("lets a key be re-used after its queue was dropped and refilled", () => {
    const scheduler = make<number>(5);
    scheduler.enqueue("a", 1);
    scheduler.drop(() => true);
    scheduler.enqueue("a", 2);
    expect(drain(scheduler).map((s) => s.item)).toEqual([2]);
    expect(scheduler.buffered).toBe(0);
  });

  it("ignores a release of a key that is not running", () => {
    const scheduler = make<number>(1);
    scheduler.enqueue("a", 1);
    scheduler.release("a");
    expect(scheduler.inFlight).toBe(0);
    expect(drain(scheduler)).toHaveLength(1);
  });

  it("rejects a concurrency below 1", () => {
    expect(() => make(0)).toThrow(/concurrency/);
  });
});

describe("FairScheduler", () => {
  it("with one tenant, starts exactly what KeyScheduler starts, in the same order (random operations)", () => {
    let seed = 42;
    const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (let run = 0; run < 20; run++) {
      const concurrency = 1 + random(6);
      const fair = new FairScheduler<number>(concurrency);
      const plain = new KeyScheduler<number>(concurrency);
      const running: string[] = [];
      for (let step = 0; step < 500; step++) {
        const op = random(10);
        if (op < 5) {
          const key = `k${random(8)}`;
          fair.enqueue(key, step);
          plain.enqueue(key, step);
        } else if (op < 8) {
          const started = fair.next();
          expect(started).toEqual(plain.next());
          if (started) running.push(started.key);
        } else if (running.length > 0) {
          const key = running.splice(random(running.length), 1)[0] as string;
          fair.release(key);
          plain.release(key);
        }
        expect(fair.buffered).toBe(plain.buffered);
        expect(fair.inFlight).toBe(plain.inFlight);
      }
    }
  });

  // With drops, KeyScheduler can serve a re-added key at the place of an entry left from before the drop; the
  // fair scheduler serves it in its new place. The rules both keep are checked instead, with several tenants.
  it("keeps the per-key rules and loses nothing under random enqueues, starts, releases and drops", () => {
    let seed = 7;
    const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (let run = 0; run < 20; run++) {
      const concurrency = 1 + random(6);
      const weights = [1, 2, 0.5];
      const scheduler = new FairScheduler<{ n: number; tp: number; tenant: string }>(concurrency, {
        tenantOf: (item) => item.tenant,
        weightOf: (tenant) => weights[Number(tenant.slice(1))] ?? 1,
      });
      const running = new Map<string, number>();
      const lastStarted = new Map<string, number>();
      const waiting = new Set<number>();
      for (let step = 0; step < 600; step++) {
        const op = random(10);
        if (op < 5) {
          const key = `k${random(8)}`;
          scheduler.enqueue(key, { n: step, tp: random(3), tenant: `t${random(3)}` });
          waiting.add(step);
        } else if (op < 8) {
          const started = scheduler.next();
          if (started) {
            expect(running.has(started.key)).toBe(false);
            expect(started.item.n).toBeGreaterThan(lastStarted.get(started.key) ?? -1);
            lastStarted.set(started.key, started.item.n);
            running.set(started.key, started.item.n);
            expect(waiting.delete(started.item.n)).toBe(true);
          } else if (running.size === 0) {
            // Nothing running holds a key or a slot: whatever waits could start.
            expect(scheduler.buffered).toBe(0);
          }
        } else if (op < 9 && running.size > 0) {
          const key = [...running.keys()][random(running.size)] as string;
          running.delete(key);
          scheduler.release(key);
        } else {
          const tp = random(3);
          scheduler.drop((item) => {
            const match = item.tp === tp;
            if (match) waiting.delete(item.n);
            return match;
          });
        }
        expect(scheduler.inFlight).toBe(running.size);
        expect(scheduler.inFlight).toBeLessThanOrEqual(concurrency);
        expect(scheduler.buffered).toBe(waiting.size);
        const depths = [...scheduler.queueDepths().values()].reduce((a, b) => a + b, 0);
        expect(depths).toBe(waiting.size);
      }
      // Everything still waiting starts once the running keys are released.
      for (;;) {
        for (const key of running.keys()) scheduler.release(key);
        running.clear();
        let started = scheduler.next();
        if (!started) break;
        for (; started; started = scheduler.next()) {
          running.set(started.key, started.item.n);
          waiting.delete(started.item.n);
        }
      }
      expect(waiting.size).toBe(0);
      expect(scheduler.buffered).toBe(0);
    }
  });

  it("does not make a small tenant wait behind a big one: B's 100 start within the next 200 starts", () => {
    const scheduler = new FairScheduler<Item>(1, byTenant);
    for (let n = 0; n < 10_000; n++) scheduler.enqueue(`a-${n}`, { tenant: "A", n });
    // A has been running for a while when B's events arrive.
    expect(serveOneByOne(scheduler, 500).every((t) => t === "A")).toBe(true);
    for (let n = 0; n < 100; n++) scheduler.enqueue(`b-${n}`, { tenant: "B", n });
    const order = serveOneByOne(scheduler, 200);
    expect(order.filter((t) => t === "B")).toHaveLength(100);
    // Taking turns: B never waits for more than one of A's between two of its own.
    expect(order.slice(0, 2).sort()).toEqual(["A", "B"]);
  });

  it("gives tenants starts in proportion to their weights, A at most ⌊wA/wB⌋ + 1 between two of B's", () => {
    const weights: Record<string, number> = { A: 3, B: 1, C: 0.5 };
    const scheduler = new FairScheduler<Item>(1, { ...byTenant, weightOf: (t) => weights[t] ?? 1 });
    for (let n = 0; n < 1000; n++) {
      for (const tenant of ["A", "B", "C"]) scheduler.enqueue(`${tenant}-${n}`, { tenant, n });
    }
    const order = serveOneByOne(scheduler, 900);
    const counts = { A: 0, B: 0, C: 0 } as Record<string, number>;
    for (const tenant of order) counts[tenant] = (counts[tenant] ?? 0) + 1;
    expect(counts.A).toBeGreaterThanOrEqual(Math.floor((900 * 3) / 4.5) - 2);
    expect(counts.A).toBeLessThanOrEqual(Math.ceil((900 * 3) / 4.5) + 2);
    expect(counts.C).toBeGreaterThanOrEqual(Math.floor((900 * 0.5) / 4.5) - 2);
    let sinceB = 0;
    for (const tenant of order) {
      if (tenant === "B") sinceB = 0;
      else if (tenant === "A") expect(++sinceB).toBeLessThanOrEqual(Math.floor(3 / 1) + 1);
    }
  });

  it("lets a tenant that gets work after idling go next, without credit for the idle time", () => {
    const scheduler = new FairScheduler<Item>(1, byTenant);
    for (let n = 0; n < 100; n++) scheduler.enqueue(`a-${n}`, { tenant: "A", n });
    serveOneByOne(scheduler, 50);
    scheduler.enqueue("b-0", { tenant: "B", n: 0 });
    scheduler.enqueue("b-1", { tenant: "B", n: 1 });
    scheduler.enqueue("b-2", { tenant: "B", n: 2 });
    expect(serveOneByOne(scheduler, 6)).toEqual(["B", "A", "B", "A", "B", "A"]);
  });

  it("keeps a key's items in arrival order even when they belong to different tenants", () => {
    const scheduler = new FairScheduler<Item>(4, byTenant);
    scheduler.enqueue("shared", { tenant: "A", n: 1 });
    scheduler.enqueue("shared", { tenant: "B", n: 2 });
    scheduler.enqueue("shared", { tenant: "A", n: 3 });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = drain(scheduler);
      expect(started).toHaveLength(1);
      seen.push((started[0] as { item: Item }).item.n);
      scheduler.release("shared");
    }
    expect(seen).toEqual([1, 2, 3]);
  });

  it("skips a tenant whose keys are all busy and serves the others", () => {
    const scheduler = new FairScheduler<Item>(10, byTenant);
    scheduler.enqueue("a", { tenant: "A", n: 1 });
    scheduler.enqueue("a", { tenant: "A", n: 2 });
    scheduler.enqueue("b1", { tenant: "B", n: 1 });
    scheduler.enqueue("b2", { tenant: "B", n: 2 });
    expect(drain(scheduler).map((s) => s.item.n)).toEqual([1, 1, 2]);
  });

  it("counts waiting items per tenant and forgets tenants with none", () => {
    const scheduler = new FairScheduler<Item>(1, byTenant);
    scheduler.enqueue("a1", { tenant: "A", n: 1, tp: "t:0" });
    scheduler.enqueue("a2", { tenant: "A", n: 2, tp: "t:1" });
    scheduler.enqueue("b1", { tenant: "B", n: 1, tp: "t:0" });
    expect(Object.fromEntries(scheduler.queueDepths())).toEqual({ A: 2, B: 1 });
    const first = scheduler.next();
    expect(first?.item.tenant).toBe("A");
    expect(Object.fromEntries(scheduler.queueDepths())).toEqual({ A: 1, B: 1 });
    scheduler.drop((item) => item.tp === "t:0");
    expect(Object.fromEntries(scheduler.queueDepths())).toEqual({ A: 1 });
    scheduler.release(first?.key as string);
    drain(scheduler);
    expect(scheduler.queueDepths().size).toBe(0);
  });

  it("caps concurrency live with setConcurrency", () => {
    const scheduler = new FairScheduler<number>(1);
    for (let n = 0; n < 5; n++) scheduler.enqueue(`k${n}`, n);
    expect(drain(scheduler)).toHaveLength(1);
    scheduler.setConcurrency(3);
    expect(drain(scheduler)).toHaveLength(2);
    expect(() => scheduler.setConcurrency(0)).toThrow(RangeError);
  });

  describe("with a gate", () => {
    /** A gate that admits the tenants in `open` (or everyone with "*"), refusing the others for `waitMs`. */
    function gate(options: {
      perTenant: boolean;
      open: Set<string>;
      waitMs?: number;
      inFlightLimit?: number;
    }) {
      const asked: string[] = [];
      const g: AdmissionGate & { asked: string[]; inFlightLimit: number } = {
        asked,
        perTenant: options.perTenant,
        inFlightLimit: options.inFlightLimit ?? Number.POSITIVE_INFINITY,
        admit(tenant) {
          asked.push(tenant);
          return options.open.has(tenant) || options.open.has("*") ? 0 : (options.waitMs ?? 100);
        },
      };
      return g;
    }

    it("stops the round when the gate refuses agent-wide, and says how long to wait", () => {
      const open = new Set<string>();
      const g = gate({ perTenant: false, open, waitMs: 250 });
      const scheduler = new FairScheduler<Item>(10, { ...byTenant, gate: g, now: () => 0 });
      scheduler.enqueue("a", { tenant: "A", n: 1 });
      scheduler.enqueue("b", { tenant: "B", n: 1 });
      expect(scheduler.next()).toBeUndefined();
      expect(scheduler.throttledForMs).toBe(250);
      expect(g.asked).toEqual(["A"]); // one refusal is enough: it is agent-wide
      expect(scheduler.buffered).toBe(2);
      open.add("*");
      expect(drain(scheduler)).toHaveLength(2);
      expect(scheduler.throttledForMs).toBeUndefined();
    });

    it("skips a tenant refused per tenant, serves the others, and asks it again once its wait is over", () => {
      let clock = 1000;
      const g = gate({ perTenant: true, open: new Set(["B"]), waitMs: 500 });
      const scheduler = new FairScheduler<Item>(10, { ...byTenant, gate: g, now: () => clock });
      scheduler.enqueue("a1", { tenant: "A", n: 1 });
      scheduler.enqueue("b1", { tenant: "B", n: 1 });
      scheduler.enqueue("b2", { tenant: "B", n: 2 });
      expect(drain(scheduler).map((s) => s.key)).toEqual(["b1", "b2"]);
      expect(scheduler.throttledForMs).toBe(500);
      g.asked.length = 0;
      clock = 1200; // A is asleep: not asked again before its wait is over
      expect(scheduler.next()).toBeUndefined();
      expect(g.asked).toEqual([]);
      expect(scheduler.throttledForMs).toBe(300);
      clock = 1500;
      expect(scheduler.next()).toBeUndefined();
      expect(g.asked).toEqual(["A"]);
    });

    it("asks a sleeping tenant again at once after wake()", () => {
      const open = new Set<string>();
      const g = gate({ perTenant: true, open, waitMs: 60_000 });
      const scheduler = new FairScheduler<Item>(10, { ...byTenant, gate: g, now: () => 0 });
      scheduler.enqueue("a1", { tenant: "A", n: 1 });
      expect(scheduler.next()).toBeUndefined();
      open.add("A");
      expect(scheduler.next()).toBeUndefined(); // still asleep
      scheduler.wake();
      expect(scheduler.next()?.key).toBe("a1");
    });

    it("lets a refused tenant go next once admitted, then take turns (no catch-up burst for its wait)", () => {
      let clock = 0;
      const open = new Set(["B"]);
      const g = gate({ perTenant: true, open, waitMs: 10 });
      const scheduler = new FairScheduler<Item>(1, { ...byTenant, gate: g, now: () => clock });
      for (let n = 0; n < 10; n++) {
        scheduler.enqueue(`a-${n}`, { tenant: "A", n });
        scheduler.enqueue(`b-${n}`, { tenant: "B", n });
      }
      expect(serveOneByOne(scheduler, 3)).toEqual(["B", "B", "B"]);
      open.add("A");
      clock = 10;
      expect(serveOneByOne(scheduler, 4)).toEqual(["A", "B", "A", "B"]);
    });

    it("runs at most the gate's in-flight limit, below its own concurrency", () => {
      const g = gate({ perTenant: false, open: new Set(["*"]), inFlightLimit: 2 });
      const scheduler = new FairScheduler<number>(10, { gate: g, now: () => 0 });
      for (let n = 0; n < 5; n++) scheduler.enqueue(`k${n}`, n);
      expect(drain(scheduler)).toHaveLength(2);
      expect(scheduler.throttledForMs).toBeUndefined(); // a release, not a timer, starts the next
      g.inFlightLimit = 0; // owns no partition any more
      scheduler.release("k0");
      expect(scheduler.next()).toBeUndefined();
    });
  });
});
