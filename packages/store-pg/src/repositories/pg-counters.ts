import { asc, eq, sql } from "drizzle-orm";
import { StoreError } from "../errors";
import { latencyBucketIndex, LATENCY_BUCKET_COUNT, summarizeLatency } from "../latency-buckets";
import { agentCounters } from "../schema";
import { requireCount, requireText, run, type DbAccess } from "./context";
import type { CounterDelta, CounterSummary, CountersRepository } from "./counters";

const COUNTS = ["received", "succeeded", "failed", "retried", "deadLettered"] as const;

function latencySamples(delta: CounterDelta): number[] {
  if (delta.latenciesMs !== undefined && !Array.isArray(delta.latenciesMs)) {
    throw new StoreError("INVALID_INPUT", "latenciesMs must be an array of numbers", {
      field: "latenciesMs",
    });
  }
  return [...(delta.latencyMs === undefined ? [] : [delta.latencyMs]), ...(delta.latenciesMs ?? [])];
}

export class PgCountersRepository implements CountersRepository {
  constructor(private readonly access: DbAccess) {}

  async apply(topic: string, agent: string, delta: CounterDelta): Promise<void> {
    requireText("topic", topic);
    requireText("agent", agent);
    const [received, succeeded, failed, retried, deadLettered] = COUNTS.map((field) =>
      requireCount(field, delta[field] ?? 0),
    );
    // The delta's own histogram: counts per bucket for the samples of this call.
    const buckets = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
    let sumMs = 0;
    const samples = latencySamples(delta);
    for (const latencyMs of samples) {
      let index: number;
      try {
        index = latencyBucketIndex(latencyMs);
      } catch (error) {
        throw new StoreError("INVALID_INPUT", (error as Error).message, { field: "latencyMs", cause: error });
      }
      buckets[index] = (buckets[index] ?? 0) + 1;
      sumMs += latencyMs;
    }
    const bucketsLiteral = `{${buckets.join(",")}}`;
    // Plain SQL because the bucket sum (element-wise, over arrays that may differ in length if buckets are ever
    // added) is beyond drizzle's builder. Every SET expression reads the row as locked by the upsert, so two
    // coordinators adding at once both count.
    return run(this.access, "updating agent counters", async (db) => {
      await db.execute(sql`
        insert into ${agentCounters} as c (topic, agent, received, succeeded, failed, retried, dead_lettered,
          latency_buckets, latency_sum_ms, latency_count)
        values (${topic}, ${agent}, ${received}, ${succeeded}, ${failed}, ${retried}, ${deadLettered},
          ${bucketsLiteral}::bigint[], ${sumMs}, ${samples.length})
        on conflict (topic, agent) do update set
          received = c.received + excluded.received,
          succeeded = c.succeeded + excluded.succeeded,
          failed = c.failed + excluded.failed,
          retried = c.retried + excluded.retried,
          dead_lettered = c.dead_lettered + excluded.dead_lettered,
          latency_buckets = array(
            select coalesce(c.latency_buckets[i], 0) + coalesce(excluded.latency_buckets[i], 0)
            from generate_series(1, greatest(cardinality(c.latency_buckets), cardinality(excluded.latency_buckets))) as i
            order by i),
          latency_sum_ms = c.latency_sum_ms + excluded.latency_sum_ms,
          latency_count = c.latency_count + excluded.latency_count`);
    });
  }

  async summary(options: { topic?: string } = {}): Promise<CounterSummary[]> {
    return run(this.access, "reading agent counters", async (db) => {
      const rows = await db
        .select()
        .from(agentCounters)
        .where(options.topic === undefined ? undefined : eq(agentCounters.topic, options.topic))
        .orderBy(asc(agentCounters.topic), asc(agentCounters.agent));
      return rows.map((row) => ({
        topic: row.topic,
        agent: row.agent,
        received: row.received,
        succeeded: row.succeeded,
        failed: row.failed,
        retried: row.retried,
        deadLettered: row.deadLettered,
        latency: summarizeLatency(
          row.latencyBuckets.map((count) => Number(count ?? 0)),
          row.latencySumMs,
        ),
      }));
    });
  }
}
