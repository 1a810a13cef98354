// The counters repository against the real Postgres: atomic increments under concurrency (one store and two
// "coordinators"), latency buckets and the percentiles read from them.
import { LATENCY_BUCKET_BOUNDS_MS, type PgStore } from "../src";
import { dropSchema } from "@omnidaemon/testkit";
import { newSchema, startStore } from "./support";

const schema = newSchema("counters");
let store: PgStore;
let second: PgStore;

beforeAll(async () => {
  store = await startStore(schema);
  second = await startStore(schema); // another coordinator on the same database
});

afterAll(async () => {
  await second?.stop();
  await store?.stop();
  await dropSchema(schema);
});

describe("counters repository", () => {
  it("counts 50 parallel increments exactly", async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.counters.apply("orders", "billing", {
          received: 1,
          succeeded: i % 5 === 0 ? 0 : 1,
          failed: i % 5 === 0 ? 1 : 0,
          retried: i % 10 === 0 ? 1 : 0,
          deadLettered: i === 0 ? 1 : 0,
          latencyMs: 10,
        }),
      ),
    );
    const [summary] = await store.counters.summary({ topic: "orders" });
    expect(summary).toMatchObject({
      topic: "orders",
      agent: "billing",
      received: 50,
      succeeded: 40,
      failed: 10,
      retried: 5,
      deadLettered: 1,
    });
    expect(summary!.latency.count).toBe(50);
    expect(summary!.latency.sumMs).toBe(500);
    expect(summary!.latency.meanMs).toBe(10);
  });

  it("counts exactly when two coordinators add to the same agent at once", async () => {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 === 0 ? store : second).counters.apply("shared", "agent", {
          received: 1,
          latenciesMs: [5, 500],
        }),
      ),
    );
    const [summary] = await second.counters.summary({ topic: "shared" });
    expect(summary?.received).toBe(60);
    expect(summary?.latency.count).toBe(120);
    expect(summary?.latency.sumMs).toBe(60 * 505);
  });

  it("reads sensible percentiles from the buckets", async () => {
    // 90 fast (20 ms), 9 slow (2 s), 1 very slow (60 s).
    const samples = [...new Array<number>(90).fill(20), ...new Array<number>(9).fill(2000), 60_000];
    await store.counters.apply("latency", "agent", { latenciesMs: samples.slice(0, 50) });
    for (const latencyMs of samples.slice(50)) await store.counters.apply("latency", "agent", { latencyMs });

    const [summary] = await store.counters.summary({ topic: "latency" });
    const { latency } = summary!;
    expect(latency.count).toBe(100);
    expect(latency.p50Ms!).toBeGreaterThan(20 / 1.5);
    expect(latency.p50Ms!).toBeLessThanOrEqual(20 * 1.5);
    expect(latency.p95Ms!).toBeGreaterThan(2000 / 1.5);
    expect(latency.p95Ms!).toBeLessThanOrEqual(2000 * 1.5);
    expect(latency.p99Ms!).toBeGreaterThanOrEqual(latency.p95Ms!);
    expect(latency.p99Ms!).toBeLessThanOrEqual(60_000 * 1.5);
  });

  it("reports an agent without latency samples with null percentiles", async () => {
    await store.counters.apply("quiet", "agent", { received: 3 });
    const [summary] = await store.counters.summary({ topic: "quiet" });
    expect(summary).toMatchObject({
      received: 3,
      succeeded: 0,
      latency: { count: 0, sumMs: 0, meanMs: null, p50Ms: null, p95Ms: null, p99Ms: null },
    });
  });

  it("keeps a latency beyond the last bucket in the overflow bucket", async () => {
    await store.counters.apply("overflow", "agent", { latencyMs: 10 * 60 * 60 * 1000 });
    const [summary] = await store.counters.summary({ topic: "overflow" });
    expect(summary?.latency.p50Ms).toBe(LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1]);
  });

  it("lists every agent ordered by topic and agent without a topic filter", async () => {
    const keys = (await store.counters.summary()).map((s) => `${s.topic}/${s.agent}`);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual(expect.arrayContaining(["orders/billing", "shared/agent", "latency/agent"]));
  });

  it("rejects negative counts and latencies, naming the field", async () => {
    await expect(store.counters.apply("t", "a", { received: -1 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      field: "received",
    });
    await expect(store.counters.apply("t", "a", { latencyMs: -5 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      field: "latencyMs",
    });
  });
});
