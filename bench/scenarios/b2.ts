// B2: I/O-bound agent (the handler awaits 100 ms, like an LLM call), one consumer process, concurrency 256, keys
// spread, 12 partitions. The ideal is 256 / 0.1 s = 2,560 events/s: concurrency beyond the partition count. A bare
// kafkajs eachMessage consumer with partitionsConsumedConcurrently 12 (at most 12 × 10 = 120/s) is run for context.
// With several clients (--clients), the engine and the worker process run once per client per round.
import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import { rotation } from "../lib/clients";
import { pairedRatio, type Comparison } from "../lib/compare";
import type { BenchContext } from "../lib/context";
import { spread, type Row } from "../lib/report";
import type { TrialResult, TrialSpec } from "../lib/types";
import { runCountingWorker, type WorkerRun } from "../lib/worker-process";
import { logTrial, perClient, type ScenarioOutcome } from "./common";

export interface B2Options {
  events: number;
  rounds: number;
  /** The engine and the worker process run once per client per round. */
  clients: KafkaClientName[];
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
  const engineAgent = (client: KafkaClientName, round: number) => `b2-engine-${client}-${round}`;
  const workerAgent = (client: KafkaClientName, round: number) => `b2-worker-${client}-${round}`;
  for (let round = 1; round <= options.rounds; round++) {
    for (const client of options.clients) {
      await ctx.createAgent(topic, engineAgent(client, round), PARTITIONS);
      ctx.noteAgent(topic, workerAgent(client, round));
    }
  }
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
  const engine = perClient<TrialResult>(options.clients);
  const worker = perClient<WorkerRun>(options.clients);
  const baseline: TrialResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const runEngine = (client: KafkaClientName) => async (): Promise<void> => {
      const result = await ctx.trial({
        ...common,
        kind: "engine",
        client,
        label: `B2 engine ${client} #${round}`,
        agent: engineAgent(client, round),
        concurrency: CONCURRENCY,
        timeoutMs: 300_000,
      });
      logTrial(result);
      if (result.handled !== options.events) {
        throw new Error(`${result.label} handled ${result.handled} of ${options.events} events`);
      }
      engine[client].push(result);
    };
    const runBaseline = async (): Promise<void> => {
      // At ~120 events/s the whole topic would take minutes: measure a fixed window instead.
      const result = await ctx.trial({
        ...common,
        kind: "baseline",
        client: "kafkajs",
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
    // The same agent through the CLI-started worker process (first → last callback).
    const runWorker = (client: KafkaClientName) => async (): Promise<void> => {
      const run = await runCountingWorker({
        brokers: ctx.brokers,
        client,
        topic,
        agent: workerAgent(client, round),
        events: options.events,
        label: `B2 worker ${client} #${round}`,
        handlerDelayMs: HANDLER_MS,
        concurrency: CONCURRENCY,
      });
      console.log(
        `  ${run.label.padEnd(24)} first→last ${Math.round(run.rate).toLocaleString("en-US")} ev/s`,
      );
      worker[client].push(run);
    };
    const sides = [runBaseline, ...options.clients.map(runEngine), ...options.clients.map(runWorker)];
    for (const side of rotation(sides, round)) await side();
  }

  const ideal = { ideal: IDEAL, label: "ideal 256 / 0.1 s" };
  const steady = (r: TrialResult): number => r.steadyRate;
  const rows: Row[] = options.clients.flatMap((client): Row[] => [
    {
      scenario: "B2 I/O-bound agent (100 ms), concurrency 256, 12 partitions — steady state",
      driver: client,
      measured: spread(engine[client].map(steady)),
      baseline: ideal,
      ratio: spread(engine[client].map((r) => r.steadyRate / IDEAL)),
      target: 0.75,
      unit: "ev/s",
    },
    {
      scenario: "B2 same agent through the real worker process (CLI), first → last callback",
      driver: client,
      measured: spread(worker[client].map((r) => r.rate)),
      baseline: ideal,
      ratio: spread(worker[client].map((r) => r.rate / IDEAL)),
      target: 0.75,
      unit: "ev/s",
    },
    {
      scenario:
        "B2 context: bare kafkajs eachMessage, partitionsConsumedConcurrently 12 (ratio = engine ÷ this)",
      driver: client,
      measured: spread(baseline.map(steady)),
      baseline: { ideal: BASELINE_IDEAL, label: "ideal 12 / 0.1 s" },
      ratio: pairedRatio(engine[client].map(steady), baseline.map(steady)),
      target: undefined,
      unit: "ev/s",
    },
  ]);
  const ideals = { label: "ideal 256 / 0.1 s", values: Array.from({ length: options.rounds }, () => IDEAL) };
  const comparisons: Comparison[] = [
    {
      figure: "B2 engine, 100 ms handler, concurrency 256 — steady state",
      unit: "ev/s",
      better: "higher",
      values: Object.fromEntries(options.clients.map((c) => [c, engine[c].map(steady)])),
      baseline: ideals,
    },
    {
      figure: "B2 the same agent through the worker process — first → last callback",
      unit: "ev/s",
      better: "higher",
      values: Object.fromEntries(options.clients.map((c) => [c, worker[c].map((r) => r.rate)])),
      baseline: ideals,
    },
  ];
  return {
    id: "B2",
    rows,
    comparisons,
    details: {
      topic,
      partitions: PARTITIONS,
      events: options.events,
      valueBytes: VALUE_BYTES,
      handlerMs: HANDLER_MS,
      concurrency: CONCURRENCY,
      ideal: IDEAL,
      clients: options.clients,
      baseline: `kafkajs eachMessage awaiting ${HANDLER_MS} ms, partitionsConsumedConcurrently ${PARTITIONS}, autoCommitInterval 1000, measured over a ${BASELINE_WINDOW_MS} ms window`,
      baselineIdeal: BASELINE_IDEAL,
      preload,
      trials: { engine, baseline, worker },
    },
  };
}
