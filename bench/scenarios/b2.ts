// B2: I/O-bound agent (the handler awaits 100 ms, like an LLM call), one consumer process, concurrency 256, keys
// spread, 12 partitions. The ideal is 256 / 0.1 s = 2,560 events/s: concurrency beyond the partition count. A bare
// kafkajs eachMessage consumer with partitionsConsumedConcurrently 12 (at most 12 × 10 = 120/s) is run for context.
import type { BenchContext } from "../lib/context";
import { spread, type Row } from "../lib/report";
import type { TrialResult, TrialSpec } from "../lib/types";
import { runCountingWorker, type WorkerRun } from "../lib/worker-process";
import { logTrial, type ScenarioOutcome } from "./common";

export interface B2Options {
  events: number;
  rounds: number;
}

const PARTITIONS = 12;
const VALUE_BYTES = 1024;
const HANDLER_MS = 100;
const CONCURRENCY = 256;
const IDEAL = CONCURRENCY / (HANDLER_MS / 1000);
const BASELINE_IDEAL = PARTITIONS / (HANDLER_MS / 1000);
const BASELINE_WINDOW_MS = 6000;

export async function runB2(ctx: BenchContext, options: B2Options): Promise<ScenarioOutcome> {
  const topic = ctx.topicName("b2");
  await ctx.createTopic(topic, PARTITIONS);
  const agents = Array.from({ length: options.rounds }, (_, i) => `b2-engine-${i + 1}`);
  for (const agent of agents) await ctx.createAgent(topic, agent, PARTITIONS);
  const workerAgents = Array.from({ length: options.rounds }, (_, i) => `b2-worker-${i + 1}`);
  for (const agent of workerAgents) ctx.noteAgent(topic, agent);
  console.log(`B2: pre-loading ${options.events.toLocaleString("en-US")} events of ~1 KiB into ${topic}`);
  const preload = await ctx.preload(topic, options.events, VALUE_BYTES);
  console.log(`B2: pre-loaded in ${(preload.ms / 1000).toFixed(1)} s`);

  const common = {
    brokers: ctx.brokers,
    topic,
    expected: options.events,
    handlerDelayMs: HANDLER_MS,
    commitIntervalMs: 1000,
    maxWaitTimeMs: 100,
  } satisfies Partial<TrialSpec>;
  const engine: TrialResult[] = [];
  const baseline: TrialResult[] = [];
  const worker: WorkerRun[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const runEngine = async (): Promise<void> => {
      const result = await ctx.trial({
        ...common,
        kind: "engine",
        label: `B2 engine #${round}`,
        agent: agents[round - 1] as string,
        concurrency: CONCURRENCY,
        timeoutMs: 300_000,
      });
      logTrial(result);
      if (result.handled !== options.events) {
        throw new Error(`${result.label} handled ${result.handled} of ${options.events} events`);
      }
      engine.push(result);
    };
    const runBaseline = async (): Promise<void> => {
      // At ~120 events/s the whole topic would take minutes: measure a fixed window instead.
      const result = await ctx.trial({
        ...common,
        kind: "baseline",
        label: `B2 kafkajs #${round}`,
        groupId: ctx.baselineGroup(topic, `b2-${round}`),
        baselineMode: "eachMessage",
        partitionsConsumedConcurrently: PARTITIONS,
        maxMeasureMs: BASELINE_WINDOW_MS,
        timeoutMs: 120_000,
      });
      logTrial(result);
      baseline.push(result);
    };
    if (round % 2 === 1) {
      await runBaseline();
      await runEngine();
    } else {
      await runEngine();
      await runBaseline();
    }
    // The same agent through the CLI-started worker process (first → last callback).
    const run = await runCountingWorker({
      brokers: ctx.brokers,
      topic,
      agent: workerAgents[round - 1] as string,
      events: options.events,
      label: `B2 worker #${round}`,
      handlerDelayMs: HANDLER_MS,
      concurrency: CONCURRENCY,
    });
    console.log(`  ${run.label.padEnd(24)} first→last ${Math.round(run.rate).toLocaleString("en-US")} ev/s`);
    worker.push(run);
  }

  const measured = spread(engine.map((r) => r.steadyRate));
  const base = spread(baseline.map((r) => r.steadyRate));
  const rows: Row[] = [
    {
      scenario: "B2 I/O-bound agent (100 ms), concurrency 256, 12 partitions — steady state",
      measured,
      baseline: { ideal: IDEAL, label: "ideal 256 / 0.1 s" },
      ratio: spread(engine.map((r) => r.steadyRate / IDEAL)),
      target: 0.75,
      unit: "ev/s",
    },
    {
      scenario: "B2 same agent through the real worker process (CLI), first → last callback",
      measured: spread(worker.map((r) => r.rate)),
      baseline: { ideal: IDEAL, label: "ideal 256 / 0.1 s" },
      ratio: spread(worker.map((r) => r.rate / IDEAL)),
      target: 0.75,
      unit: "ev/s",
    },
    {
      scenario:
        "B2 context: bare kafkajs eachMessage, partitionsConsumedConcurrently 12 (ratio = engine ÷ this)",
      measured: base,
      baseline: { ideal: BASELINE_IDEAL, label: "ideal 12 / 0.1 s" },
      ratio: {
        ...spread(engine.map((r, i) => r.steadyRate / (baseline[i] as TrialResult).steadyRate)),
        median: measured.median / base.median,
      },
      target: undefined,
      unit: "ev/s",
    },
  ];
  return {
    id: "B2",
    rows,
    details: {
      topic,
      partitions: PARTITIONS,
      events: options.events,
      valueBytes: VALUE_BYTES,
      handlerMs: HANDLER_MS,
      concurrency: CONCURRENCY,
      ideal: IDEAL,
      baseline: `kafkajs eachMessage awaiting ${HANDLER_MS} ms, partitionsConsumedConcurrently ${PARTITIONS}, autoCommitInterval 1000, measured over a ${BASELINE_WINDOW_MS} ms window`,
      baselineIdeal: BASELINE_IDEAL,
      preload,
      trials: { engine, baseline, worker },
    },
  };
}
