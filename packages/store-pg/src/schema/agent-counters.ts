import { sql } from "drizzle-orm";
import { bigint, doublePrecision, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

export const agentCounters = pgTable(
  "agent_counters",
  {
    topic: text("topic").notNull(),
    agent: text("agent").notNull(),
    received: bigint("received", { mode: "number" }).notNull().default(0),
    succeeded: bigint("succeeded", { mode: "number" }).notNull().default(0),
    failed: bigint("failed", { mode: "number" }).notNull().default(0),
    retried: bigint("retried", { mode: "number" }).notNull().default(0),
    deadLettered: bigint("dead_lettered", { mode: "number" }).notNull().default(0),
    // bigint[] rather than the jsonb the design sketched: the counters upsert adds a delta's bucket counts
    // element-wise in SQL, on the locked row, with no read-modify-write in the application.
    // Element i (1-based in SQL) counts latencies in bucket i - 1 of LATENCY_BUCKET_BOUNDS_MS.
    latencyBuckets: bigint("latency_buckets", { mode: "number" })
      .array()
      .notNull()
      .default(sql`'{}'::bigint[]`),
    latencySumMs: doublePrecision("latency_sum_ms").notNull().default(0),
    latencyCount: bigint("latency_count", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ name: "agent_counters_pkey", columns: [t.topic, t.agent] })],
);
