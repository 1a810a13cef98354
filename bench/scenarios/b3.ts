// B3: latency publish → callback start at a steady rate (500 events/s), the engine against a bare kafkajs consumer
// (eachMessage, JSON.parse of each value) in the same run. Each trial gets a fresh topic, so a new group reads only
// what was published for it; the producer runs in the trial's process and stamps the publish time in the event.
import type { BenchContext } from "../lib/context";
import type { LatencyResult, LatencySpec } from "../lib/types";
import { spread, type Row } from "../lib/report";
import type { ScenarioOutcome } from "./common";

export interface B3Options {
  rate: number;
  durationMs: number;
  rounds: number;
}

const PARTITIONS = 12;
const MAX_WAIT_MS = 100; // the engine's default maxWaitTimeMs
const PAD = "x".repeat(900); // about 1 KiB per value, like B1

const fmt = (ms: number): string => (Number.isFinite(ms) ? ms.toFixed(1) : "n/a");

function log(result: LatencyResult): void {
  console.log(
    `  ${result.label.padEnd(24)} p50 ${fmt(result.p50).padStart(7)} ms  p99 ${fmt(result.p99).padStart(7)} ms` +
      `  p99.9 ${fmt(result.p999).padStart(7)} ms  max ${fmt(result.max)} ms  lost ${result.lost}`,
  );
}

export async function runB3(ctx: BenchContext, options: B3Options): Promise<ScenarioOutcome> {
  const engine: LatencyResult[] = [];
  const baseline: LatencyResult[] = [];
  const trial = async (kind: LatencySpec["kind"], round: number): Promise<void> => {
    const topic = ctx.topicName(`b3-${kind}-${round}`);
    await ctx.createTopic(topic, PARTITIONS);
    const agent = `b3-engine-${round}`;
    if (kind === "engine") await ctx.createAgent(topic, agent, PARTITIONS);
    const result = await ctx.latencyTrial({
      kind,
      label: `B3 ${kind} #${round}`,
      brokers: ctx.brokers,
      topic,
      ...(kind === "engine" ? { agent } : { groupId: ctx.baselineGroup(topic, `b3-${round}`) }),
      rate: options.rate,
      durationMs: options.durationMs,
      maxWaitTimeMs: MAX_WAIT_MS,
      pad: PAD,
    });
    log(result);
    (kind === "engine" ? engine : baseline).push(result);
  };
  for (let round = 1; round <= options.rounds; round++) {
    // Alternate which side goes first, so drift in the machine's load hits both alike.
    const order: Array<LatencySpec["kind"]> =
      round % 2 === 1 ? ["engine", "baseline"] : ["baseline", "engine"];
    for (const kind of order) await trial(kind, round);
  }
  const lost = [...engine, ...baseline].reduce((sum, r) => sum + r.lost, 0);
  const row = (name: string, pick: (r: LatencyResult) => number, target: number | undefined): Row => {
    const measured = spread(engine.map(pick));
    const base = spread(baseline.map(pick));
    // A latency ratio is baseline ÷ engine, so that above 1 means the engine is faster, like the throughput rows.
    const perRound = engine.map((r, i) => pick(baseline[i] as LatencyResult) / pick(r));
    return {
      scenario: name,
      measured,
      baseline: base,
      ratio: { ...spread(perRound), median: base.median / measured.median },
      target,
      unit: "ms",
    };
  };
  return {
    id: "B3",
    rows: [
      row(
        `B3 latency publish → callback start at ${options.rate} ev/s — p50 (ratio = kafkajs ÷ engine)`,
        (r) => r.p50,
        undefined,
      ),
      row("B3 same — p99", (r) => r.p99, undefined),
      row("B3 same — p99.9", (r) => r.p999, undefined),
    ],
    details: {
      partitions: PARTITIONS,
      rate: options.rate,
      durationMs: options.durationMs,
      maxWaitTimeMs: MAX_WAIT_MS,
      lost,
      engine: "AgentConsumer, defaults (concurrency 8, commit every 1 s), no-op handler",
      baseline: "bare kafkajs, eachMessage, JSON.parse of each value, default settings but maxWaitTimeInMs",
      absoluteTargets:
        "p50 ≤ 5 ms, p99 ≤ 25 ms (product.md §12): compare the engine's absolute figures, and mind the load",
      trials: { engine, baseline },
    },
  };
}
