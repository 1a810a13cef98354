// B1e: B1's no-op agent through the real worker process (CLI-started, with the SDK's task-event reporting and the
// worker's metrics), against the engine alone (AgentConsumer in a bare process) over the same pre-loaded records,
// in the same run. Rate = records ÷ (first callback → last callback), for both sides; the worker's peak RSS is
// sampled from /proc while it runs (B6 "under B1e"). No coordinator runs here: "until the coordinator holds every
// result" is the ingestion scenario's (perf-a's bench) to measure.
// The throttling overhead (issue 17): the same worker with fleet-wide limits that never bind (a rate and an
// in-flight cap far above what one worker reaches, 8 tenants in the records, so every start goes through the token
// bucket and the tenant-fair queue) against the worker without limits, over the same records, same rounds.
import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import type { BenchContext } from "../lib/context";
import { spread, type Row } from "../lib/report";
import type { TrialResult } from "../lib/types";
import { runCountingWorker, type WorkerRun } from "../lib/worker-process";
import { logTrial, type ScenarioOutcome } from "./common";

export interface B1eOptions {
  events: number;
  rounds: number;
  /** Write a V8 CPU profile of each worker process into this directory. */
  profileDir: string | undefined;
  /** The Kafka client of the engine and of the worker process. */
  client: KafkaClientName;
}

const PARTITIONS = 12;
const VALUE_BYTES = 1024;
const TENANTS = 8;
/** Limits no single worker reaches on this box: every start is admitted, but only after the throttle's checks. */
const UNBINDING_LIMITS = { rateLimit: { perSecond: 1_000_000, burst: 1_000_000 }, maxInFlight: 100_000 };

export async function runB1e(ctx: BenchContext, options: B1eOptions): Promise<ScenarioOutcome> {
  const topic = ctx.topicName(`b1e-${options.client}`);
  await ctx.createTopic(topic, PARTITIONS);
  const engineAgents = Array.from({ length: options.rounds }, (_, i) => `b1e-engine-${i + 1}`);
  const workerAgents = Array.from({ length: options.rounds }, (_, i) => `b1e-worker-${i + 1}`);
  const limitedAgents = Array.from({ length: options.rounds }, (_, i) => `b1e-limited-${i + 1}`);
  for (const agent of engineAgents) await ctx.createAgent(topic, agent, PARTITIONS);
  for (const agent of [...workerAgents, ...limitedAgents]) ctx.noteAgent(topic, agent);
  console.log(`B1e: pre-loading ${options.events.toLocaleString("en-US")} events of ~1 KiB into ${topic}`);
  await ctx.preload(topic, options.events, VALUE_BYTES, TENANTS);
  const engine: TrialResult[] = [];
  const worker: WorkerRun[] = [];
  const limited: WorkerRun[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const result = await ctx.trial({
      kind: "engine",
      client: options.client,
      label: `B1e engine #${round}`,
      brokers: ctx.brokers,
      topic,
      agent: engineAgents[round - 1] as string,
      expected: options.events,
      handlerDelayMs: 0,
      commitIntervalMs: 1000,
      maxWaitTimeMs: 100,
      timeoutMs: 300_000,
    });
    logTrial(result);
    engine.push(result);
    const side =
      (name: string, agents: string[], limits?: Record<string, unknown>) => (): Promise<WorkerRun> =>
        runCountingWorker({
          brokers: ctx.brokers,
          client: options.client,
          topic,
          agent: agents[round - 1] as string,
          events: options.events,
          label: `B1e ${name} #${round}`,
          profileDir: options.profileDir,
          ...(limits === undefined ? {} : { limits }),
        });
    const plain = side("worker", workerAgents);
    const withLimits = side("limited", limitedAgents, UNBINDING_LIMITS);
    // The two worker sides take turns going first, so neither always runs on the warmer broker.
    const [run, limitedRun] =
      round % 2 === 1
        ? [await plain(), await withLimits()]
        : await withLimits().then(async (first) => [await plain(), first] as const);
    for (const side of [run, limitedRun]) {
      console.log(
        `  ${side.label.padEnd(24)} first→last ${Math.round(side.rate).toLocaleString("en-US")} ev/s  ready after ${(side.readyMs / 1000).toFixed(1)} s  peak RSS ${side.peakRssMiB.toFixed(0)} MiB${side.duplicates > 0 ? `  duplicates ${side.duplicates}` : ""}`,
      );
    }
    worker.push(run);
    limited.push(limitedRun);
  }
  // The engine's first→last rate, the same definition as the worker's.
  const engineRate = (r: TrialResult): number => r.handled / (Math.max(1, r.totalMs - r.firstMs) / 1000);
  const measured = spread(worker.map((r) => r.rate));
  const base = spread(engine.map(engineRate));
  const rows: Row[] = [
    {
      scenario:
        "B1e no-op agent through the real worker process (CLI), first → last callback, vs the engine alone",
      driver: options.client,
      measured,
      baseline: base,
      ratio: {
        ...spread(worker.map((r, i) => r.rate / engineRate(engine[i] as TrialResult))),
        median: measured.median / base.median,
      },
      target: 0.6,
      unit: "ev/s",
    },
    {
      scenario: `B1e throttling overhead: the worker with limits that never bind (${TENANTS} tenants) vs without limits`,
      driver: options.client,
      measured: spread(limited.map((r) => r.rate)),
      baseline: measured,
      ratio: {
        ...spread(limited.map((r, i) => r.rate / (worker[i] as WorkerRun).rate)),
        median: spread(limited.map((r) => r.rate)).median / measured.median,
      },
      target: undefined,
      unit: "ev/s",
      note: `limits ${JSON.stringify(UNBINDING_LIMITS)}`,
    },
    {
      scenario: "B6 worker peak RSS under B1e",
      driver: options.client,
      measured: spread(worker.map((r) => r.peakRssMiB)),
      baseline: { ideal: Number.NaN, label: "no target" },
      ratio: { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 },
      target: undefined,
      unit: "MiB",
    },
  ];
  return {
    id: "B1e",
    rows,
    details: {
      topic,
      client: options.client,
      partitions: PARTITIONS,
      events: options.events,
      valueBytes: VALUE_BYTES,
      tenants: TENANTS,
      limits: UNBINDING_LIMITS,
      engine,
      worker,
      limited,
    },
  };
}
