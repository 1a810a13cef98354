// B1: no-op agent, one consumer process, 12 partitions, 1 KiB events: events/s consumed to completion, against a
// bare kafkajs consumer with the same commit policy over the same records (a separate group on the same topic).
import type { BenchContext } from "../lib/context";
import { spread, type Row } from "../lib/report";
import type { TrialResult, TrialSpec } from "../lib/types";
import { logTrial, type ScenarioOutcome } from "./common";

export interface B1Options {
  events: number;
  rounds: number;
}

const PARTITIONS = 12;
const VALUE_BYTES = 1024;
const COMMIT_INTERVAL_MS = 1000; // the engine's default commitIntervalMs
const MAX_WAIT_MS = 100; // the engine's default maxWaitTimeMs

export async function runB1(ctx: BenchContext, options: B1Options): Promise<ScenarioOutcome> {
  const topic = ctx.topicName("b1");
  await ctx.createTopic(topic, PARTITIONS);
  const agents = Array.from({ length: options.rounds }, (_, i) => `b1-engine-${i + 1}`);
  for (const agent of agents) await ctx.createAgent(topic, agent, PARTITIONS);
  console.log(`B1: pre-loading ${options.events.toLocaleString("en-US")} events of ~1 KiB into ${topic}`);
  const preload = await ctx.preload(topic, options.events, VALUE_BYTES);
  console.log(
    `B1: pre-loaded in ${(preload.ms / 1000).toFixed(1)} s (${Math.round(preload.rate).toLocaleString("en-US")} events/s, mean value ${Math.round(preload.meanValueBytes)} B)`,
  );

  const common = {
    brokers: ctx.brokers,
    topic,
    expected: options.events,
    handlerDelayMs: 0,
    commitIntervalMs: COMMIT_INTERVAL_MS,
    maxWaitTimeMs: MAX_WAIT_MS,
    timeoutMs: 300_000,
  } satisfies Partial<TrialSpec>;
  const engine: TrialResult[] = [];
  const baseline: TrialResult[] = [];
  const decoding: TrialResult[] = [];
  const bare = (round: number | string, extra: Partial<TrialSpec> = {}): TrialSpec => ({
    ...common,
    kind: "baseline",
    label: `B1 baseline #${round}`,
    groupId: ctx.baselineGroup(topic, `b1-${round}`),
    baselineMode: "eachBatch-manual-commit",
    ...extra,
  });
  // One unmeasured pass first: right after the pre-load the broker is still busy with the new segments, and the
  // first reader of a topic pays for that.
  logTrial(await ctx.trial(bare("warmup", { label: "B1 warm-up (discarded)" })), "  ");
  for (let round = 1; round <= options.rounds; round++) {
    const sides: Array<() => Promise<void>> = [
      async () => {
        const result = await ctx.trial(bare(round));
        logTrial(result);
        baseline.push(result);
      },
      async () => {
        const result = await ctx.trial({
          ...common,
          kind: "engine",
          label: `B1 engine #${round}`,
          agent: agents[round - 1] as string,
        });
        logTrial(result);
        engine.push(result);
      },
      async () => {
        const result = await ctx.trial(
          bare(`json-${round}`, { label: `B1 kafkajs+JSON #${round}`, decodeJson: true }),
        );
        logTrial(result);
        decoding.push(result);
      },
    ];
    // Rotate the order each round (B E J, E J B, J B E, …) so drift in the machine's load hits every side alike.
    for (let i = 0; i < sides.length; i++)
      await (sides[(i + round - 1) % sides.length] as () => Promise<void>)();
  }

  for (const result of [...engine, ...baseline, ...decoding]) {
    if (result.handled !== options.events) {
      throw new Error(`${result.label} handled ${result.handled} of ${options.events} events`);
    }
  }

  const row = (
    scenario: string,
    reference: TrialResult[],
    pick: (r: TrialResult) => number,
    target: number | undefined,
  ): Row => {
    const measured = spread(engine.map(pick));
    const base = spread(reference.map(pick));
    const perRound = engine.map((result, i) => pick(result) / pick(reference[i] as TrialResult));
    return {
      scenario,
      measured,
      baseline: base,
      ratio: { ...spread(perRound), median: measured.median / base.median },
      target,
      unit: "ev/s",
    };
  };
  return {
    id: "B1",
    rows: [
      row(
        "B1 no-op agent, 12 partitions, 1 KiB — steady state (10th–90th pct of completions)",
        baseline,
        (r) => r.steadyRate,
        0.7,
      ),
      row(
        "B1 same, end to end (consumer start → last handler done, incl. connect + group join)",
        baseline,
        (r) => r.endToEndRate,
        0.7,
      ),
      row(
        "B1 context: engine vs a kafkajs consumer that also JSON.parses each value (steady state)",
        decoding,
        (r) => r.steadyRate,
        undefined,
      ),
    ],
    details: {
      topic,
      partitions: PARTITIONS,
      events: options.events,
      valueBytes: VALUE_BYTES,
      commitIntervalMs: COMMIT_INTERVAL_MS,
      maxWaitTimeMs: MAX_WAIT_MS,
      engineConfig: "AgentRuntimeConfig defaults (concurrency 8)",
      baseline:
        "kafkajs eachBatch, autoCommit false, partitionsConsumedConcurrently 1, batch lastOffset+1 committed every commitIntervalMs",
      preload,
      decodingBaseline: "the baseline plus JSON.parse of every record value (context only)",
      trials: { engine, baseline, decoding },
    },
  };
}
