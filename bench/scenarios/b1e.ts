// B1e: B1's no-op agent through the real worker process (CLI-started, with the SDK's task-event reporting and the
// worker's metrics), against the engine alone (AgentConsumer in a bare process) over the same pre-loaded records,
// in the same run. Rate = records ÷ (first callback → last callback), for both sides; the worker's peak RSS is
// sampled from /proc while it runs (B6 "under B1e"). No coordinator runs here: "until the coordinator holds every
// result" is the ingestion scenario's (perf-a's bench) to measure.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext } from "../lib/context";
import { rssBytes } from "../lib/proc";
import { spread, type Row } from "../lib/report";
import type { TrialResult } from "../lib/types";
import { WorkerProcess, sleep } from "../lib/worker-process";
import { logTrial, type ScenarioOutcome } from "./common";

export interface B1eOptions {
  events: number;
  rounds: number;
  /** Write a V8 CPU profile of each worker process into this directory. */
  profileDir: string | undefined;
}

const PARTITIONS = 12;
const VALUE_BYTES = 1024;
const FIXTURE = join(__dirname, "..", "fixtures", "counting-agents.js");
const MiB = 1024 * 1024;

interface WorkerRun {
  label: string;
  handled: number;
  duplicates: number;
  rate: number;
  readyMs: number;
  peakRssMiB: number;
}

async function runWorker(
  ctx: BenchContext,
  topic: string,
  agent: string,
  events: number,
  label: string,
  profileDir: string | undefined,
): Promise<WorkerRun> {
  const dir = mkdtempSync(join(tmpdir(), "bench-b1e-"));
  const doneFile = join(dir, "done.json");
  const worker = await WorkerProcess.start(
    FIXTURE,
    ctx.brokers,
    { BENCH_TOPIC: topic, BENCH_AGENT: agent, BENCH_EXPECTED: String(events), BENCH_DONE_FILE: doneFile },
    profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
  );
  try {
    const readyMs = await worker.ready(120_000);
    let peak = 0;
    const deadline = Date.now() + 600_000;
    for (;;) {
      peak = Math.max(peak, rssBytes(worker.appPid()) ?? 0);
      try {
        const done = JSON.parse(readFileSync(doneFile, "utf8")) as {
          firstAt: number;
          lastAt: number;
          handled: number;
          duplicates: number;
        };
        return {
          label,
          handled: done.handled,
          duplicates: done.duplicates,
          rate: done.handled / (Math.max(1, done.lastAt - done.firstAt) / 1000),
          readyMs,
          peakRssMiB: peak / MiB,
        };
      } catch {
        if (Date.now() > deadline) throw new Error(`${label}: not every record handled within 600 s`);
        await sleep(100);
      }
    }
  } finally {
    await worker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runB1e(ctx: BenchContext, options: B1eOptions): Promise<ScenarioOutcome> {
  const topic = ctx.topicName("b1e");
  await ctx.createTopic(topic, PARTITIONS);
  const engineAgents = Array.from({ length: options.rounds }, (_, i) => `b1e-engine-${i + 1}`);
  const workerAgents = Array.from({ length: options.rounds }, (_, i) => `b1e-worker-${i + 1}`);
  for (const agent of engineAgents) await ctx.createAgent(topic, agent, PARTITIONS);
  for (const agent of workerAgents) ctx.noteAgent(topic, agent);
  console.log(`B1e: pre-loading ${options.events.toLocaleString("en-US")} events of ~1 KiB into ${topic}`);
  await ctx.preload(topic, options.events, VALUE_BYTES);
  const engine: TrialResult[] = [];
  const worker: WorkerRun[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const result = await ctx.trial({
      kind: "engine",
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
    const run = await runWorker(
      ctx,
      topic,
      workerAgents[round - 1] as string,
      options.events,
      `B1e worker #${round}`,
      options.profileDir,
    );
    console.log(
      `  ${run.label.padEnd(24)} first→last ${Math.round(run.rate).toLocaleString("en-US")} ev/s  ready after ${(run.readyMs / 1000).toFixed(1)} s  peak RSS ${run.peakRssMiB.toFixed(0)} MiB${run.duplicates > 0 ? `  duplicates ${run.duplicates}` : ""}`,
    );
    worker.push(run);
  }
  // The engine's first→last rate, the same definition as the worker's.
  const engineRate = (r: TrialResult): number => r.handled / (Math.max(1, r.totalMs - r.firstMs) / 1000);
  const measured = spread(worker.map((r) => r.rate));
  const base = spread(engine.map(engineRate));
  const rows: Row[] = [
    {
      scenario:
        "B1e no-op agent through the real worker process (CLI), first → last callback, vs the engine alone",
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
      scenario: "B6 worker peak RSS under B1e",
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
      partitions: PARTITIONS,
      events: options.events,
      valueBytes: VALUE_BYTES,
      engine,
      worker,
    },
  };
}
