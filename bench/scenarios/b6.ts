// B6 (footprint) and start-up at scale, through the real worker process: `omnidaemon worker` started by the CLI with
// 1 no-op agent and with N (default 50) on one topic. Measured: spawn → /readyz 200 (every agent a member of its
// group), then after 3 s idle the app process's RSS and its established connections to the broker. Per agent =
// (N-agent figure − 1-agent figure) ÷ (N − 1). No coordinator runs: a worker does not need one to start.
import { join } from "node:path";
import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import type { BenchContext } from "../lib/context";
import { connectionsTo, rssBytes } from "../lib/proc";
import type { Row } from "../lib/report";
import { sleep } from "@omnidaemon/lifecycle";
import { WorkerProcess } from "../lib/worker-process";
import type { ScenarioOutcome } from "./common";

export interface B6Options {
  agents: number;
  /** The Kafka client of the worker process. */
  client: KafkaClientName;
}

const FIXTURE = join(__dirname, "..", "fixtures", "noop-agents.js");
const READY_TIMEOUT_MS = 180_000;
const MiB = 1024 * 1024;

interface WorkerFootprint {
  agents: number;
  readyMs: number;
  rssMiB: number;
  brokerConnections: number;
}

async function measureWorker(
  ctx: BenchContext,
  client: KafkaClientName,
  topic: string,
  names: string[],
): Promise<WorkerFootprint> {
  const brokerPort = Number((ctx.brokers[0] as string).split(":").pop());
  const worker = await WorkerProcess.start(FIXTURE, ctx.brokers, client, {
    BENCH_AGENTS: JSON.stringify(names.map((name) => ({ topic, name }))),
  });
  try {
    const readyMs = await worker.ready(READY_TIMEOUT_MS);
    await sleep(3000);
    const app = worker.appPid();
    return {
      agents: names.length,
      readyMs,
      rssMiB: (rssBytes(app) ?? Number.NaN) / MiB,
      brokerConnections: connectionsTo(app, brokerPort),
    };
  } finally {
    await worker.stop();
  }
}

export async function runB6(ctx: BenchContext, options: B6Options): Promise<ScenarioOutcome> {
  const topic = ctx.topicName(`b6-${options.client}`);
  await ctx.createTopic(topic, 12);
  const one = [`b6-one`];
  const many = Array.from({ length: options.agents }, (_, i) => `b6-many-${i + 1}`);
  // The agents' topics and groups are noted for cleanup; the worker creates the topics itself when it starts.
  for (const agent of [...one, ...many]) ctx.noteAgent(topic, agent);
  const single = await measureWorker(ctx, options.client, topic, one);
  console.log(
    `  worker, 1 agent     ready after ${(single.readyMs / 1000).toFixed(1)} s, RSS ${single.rssMiB.toFixed(0)} MiB, ${single.brokerConnections} broker connections`,
  );
  const fleet = await measureWorker(ctx, options.client, topic, many);
  console.log(
    `  worker, ${options.agents} agents   ready after ${(fleet.readyMs / 1000).toFixed(1)} s, RSS ${fleet.rssMiB.toFixed(0)} MiB, ${fleet.brokerConnections} broker connections`,
  );
  const per = (pick: (f: WorkerFootprint) => number): number =>
    (pick(fleet) - pick(single)) / Math.max(1, options.agents - 1);
  const value = (median: number) => ({ median, min: median, max: median, n: 1 });
  const readySeconds = fleet.readyMs / 1000;
  const rows: Row[] = [
    {
      scenario: `Start-up: worker process with ${options.agents} agents, spawn → /readyz 200 (s; ratio = 15 s target ÷ measured)`,
      driver: options.client,
      measured: value(readySeconds),
      baseline: { ideal: 15, label: "target" },
      ratio: value(15 / readySeconds),
      target: 1,
      unit: "s",
    },
    {
      scenario:
        "B6 worker RSS idle, 1 agent (context: 1-agent worker ready after " +
        (single.readyMs / 1000).toFixed(1) +
        " s)",
      driver: options.client,
      measured: value(single.rssMiB),
      baseline: { ideal: Number.NaN, label: "no target" },
      ratio: value(Number.NaN),
      target: undefined,
      unit: "MiB",
    },
    {
      scenario: `B6 worker RSS idle, ${options.agents} agents; per agent ${per((f) => f.rssMiB).toFixed(2)} MiB and ${per((f) => f.brokerConnections).toFixed(2)} broker connections (${fleet.brokerConnections} in all)`,
      driver: options.client,
      measured: value(fleet.rssMiB),
      baseline: { ideal: Number.NaN, label: "no target" },
      ratio: value(Number.NaN),
      target: undefined,
      unit: "MiB",
    },
  ];
  return {
    id: "B6",
    rows,
    details: {
      topic,
      client: options.client,
      single,
      fleet,
      perAgent: { rssMiB: per((f) => f.rssMiB), brokerConnections: per((f) => f.brokerConnections) },
      agentStartConcurrency: "SDK default (8)",
      note: "No coordinator ran; RSS and connections of the worker app process 3 s after /readyz turned 200.",
    },
  };
}
