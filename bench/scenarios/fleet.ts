// B4 (scale 1 → 3 workers while publishing) and B5 (`kill -9` one of 3 under load), through real worker processes
// started by the CLI. The bench publishes `rate` events/s for `seconds` with the publish time in each event; every
// worker's agent appends "<index> <time>" per callback to its own file (bench/fixtures/recording-agents.js), so loss
// is counted exactly over the union. B4: at a third of the run two more workers start; figures: seconds from their
// spawn until each first completes a delivery, lost, duplicates, longest time without completions. B5: three
// workers, one is SIGKILLed at a third of the run; figures: lost, duplicates, the longest publish → completion
// latency of the events published after the kill (how long the dead worker's partitions waited), against the
// configured session timeout.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import type { BenchContext } from "../lib/context";
import { readFleetLogs, summarizeFleet, type FleetSummary } from "../lib/fleet-log";
import type { Row } from "../lib/report";
import { sleep } from "@omnidaemon/lifecycle";
import { WorkerProcess } from "../lib/worker-process";
import { fleetWorkerEnv, publishPaced, type ScenarioOutcome } from "./common";

export interface FleetOptions {
  rate: number;
  seconds: number;
  sessionTimeoutMs: number;
  /** The Kafka client of every worker process. */
  client: KafkaClientName;
}

const FIXTURE = join(__dirname, "..", "fixtures", "recording-agents.js");
const PARTITIONS = 12;

const one = (median: number) => ({ median, min: median, max: median, n: 1 });
const noBaseline = { ideal: Number.NaN, label: "no baseline" };

async function runFleet(
  ctx: BenchContext,
  id: "B4" | "B5",
  options: FleetOptions,
): Promise<{
  summary: FleetSummary;
  eventAt: number;
  publishedAt: Float64Array;
  extra: Record<string, number>;
}> {
  const topic = ctx.topicName(`${id.toLowerCase()}-${options.client}`);
  const agent = `${id.toLowerCase()}-agent`;
  await ctx.createTopic(topic, PARTITIONS);
  await ctx.createAgent(topic, agent, PARTITIONS);
  const logDir = mkdtempSync(join(tmpdir(), `bench-${id.toLowerCase()}-`));
  const env = fleetWorkerEnv(topic, agent, logDir, options.sessionTimeoutMs);
  const start = () => WorkerProcess.start(FIXTURE, ctx.brokers, options.client, env);
  const workers: WorkerProcess[] = [];
  const total = options.rate * options.seconds;
  const publishedAt = new Float64Array(total);
  const extra: Record<string, number> = {};
  let eventAt = Number.NaN;
  try {
    for (let i = 0; i < (id === "B4" ? 1 : 3); i++) workers.push(await start());
    await Promise.all(workers.map((w) => w.ready(120_000)));
    await sleep(2000);
    let event: Promise<void> | undefined;
    await publishPaced(ctx, topic, { total, rate: options.rate, publishedAt }, (sent) => {
      if (event === undefined && sent >= total / 3) {
        eventAt = Date.now();
        event =
          id === "B4"
            ? (async () => {
                const added = [await start(), await start()];
                workers.push(...added);
                extra.addedPids = added.length;
                extra.readyAfterMs = Math.max(...(await Promise.all(added.map((w) => w.ready(120_000)))));
              })()
            : (workers[0] as WorkerProcess).kill();
        extra.eventPid = id === "B5" ? (workers[0] as WorkerProcess).pid : Number.NaN;
      }
    });
    await event;
    // Wait for the stragglers: up to the session timeout plus a rebalance after the last publish.
    const deadline = Date.now() + options.sessionTimeoutMs + 60_000;
    let summary = summarizeFleet(total, readFleetLogs(logDir));
    while (summary.lost > 0 && Date.now() < deadline) {
      await sleep(500);
      summary = summarizeFleet(total, readFleetLogs(logDir));
    }
    if (id === "B4") {
      const newPids = workers.slice(1).map((w) => String(w.pid));
      extra.newWorkersFirstMs = Math.max(
        ...newPids.map((pid) => (summary.firstByPid[pid] ?? Number.NaN) - eventAt),
      );
    }
    return { summary, eventAt, publishedAt, extra };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    rmSync(logDir, { recursive: true, force: true });
  }
}

export async function runB4(ctx: BenchContext, options: FleetOptions): Promise<ScenarioOutcome> {
  const { summary, extra } = await runFleet(ctx, "B4", options);
  const seconds = (extra.newWorkersFirstMs as number) / 1000;
  console.log(
    `  B4: new workers processing ${seconds.toFixed(1)} s after their spawn, lost ${summary.lost}, duplicates ${summary.duplicates}, longest gap without completions ${(summary.longestGapMs / 1000).toFixed(2)} s`,
  );
  const rows: Row[] = [
    {
      scenario: `B4 scale 1 → 3 workers at ${options.rate} ev/s: seconds from spawn until both new workers process (ratio = 10 s target ÷ measured)`,
      driver: options.client,
      measured: one(seconds),
      baseline: { ideal: 10, label: "target" },
      ratio: one(10 / seconds),
      target: 1,
      unit: "s",
    },
    {
      scenario: `B4 events lost (of ${summary.published.toLocaleString("en-US")}; target 0), duplicates ${summary.duplicates}, longest gap without completions ${(summary.longestGapMs / 1000).toFixed(2)} s`,
      driver: options.client,
      measured: one(summary.lost),
      baseline: noBaseline,
      ratio: one(Number.NaN),
      target: undefined,
      unit: "events",
    },
  ];
  const { handledAt: _handled, ...rest } = summary;
  return { id: "B4", rows, details: { ...options, ...extra, summary: rest } };
}

export async function runB5(ctx: BenchContext, options: FleetOptions): Promise<ScenarioOutcome> {
  const { summary, eventAt, publishedAt } = await runFleet(ctx, "B5", options);
  // How long the events published after the kill waited at most: the dead worker's partitions wait for the
  // session timeout to expire and the group to rebalance.
  let worstMs = 0;
  for (let i = 0; i < publishedAt.length; i++) {
    const at = summary.handledAt[i] as number;
    if ((publishedAt[i] as number) >= eventAt && !Number.isNaN(at))
      worstMs = Math.max(worstMs, at - (publishedAt[i] as number));
  }
  console.log(
    `  B5: lost ${summary.lost}, duplicates ${summary.duplicates}, worst wait after the kill ${(worstMs / 1000).toFixed(1)} s (session timeout ${(options.sessionTimeoutMs / 1000).toFixed(0)} s), longest gap ${(summary.longestGapMs / 1000).toFixed(2)} s`,
  );
  const rows: Row[] = [
    {
      scenario: `B5 kill -9 one of 3 workers at ${options.rate} ev/s: events lost (of ${summary.published.toLocaleString("en-US")}; target 0), duplicates ${summary.duplicates}`,
      driver: options.client,
      measured: one(summary.lost),
      baseline: noBaseline,
      ratio: one(Number.NaN),
      target: undefined,
      unit: "events",
    },
    {
      scenario:
        "B5 recovery: worst publish → completion wait of an event published after the kill (ratio = ÷ session timeout)",
      driver: options.client,
      measured: one(worstMs / 1000),
      baseline: { ideal: options.sessionTimeoutMs / 1000, label: "session timeout" },
      ratio: one(worstMs / options.sessionTimeoutMs),
      target: undefined,
      unit: "s",
    },
  ];
  const { handledAt: _handled, ...rest } = summary;
  return { id: "B5", rows, details: { ...options, worstWaitAfterKillMs: worstMs, summary: rest } };
}
