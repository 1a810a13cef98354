// B7: the rebalance cost of scaling 1 → 3 → 1 under load, per Kafka client, through real CLI-started worker
// processes. The bench publishes `rate` events/s for `seconds` (publish time kept per event); one worker runs from the
// start, two more are spawned at a third of the run, and those two are stopped with SIGTERM (graceful: drain, final
// commit, leave the group) at two thirds. Every callback appends "<index> <time> <partition>" to its process's file
// (bench/fixtures/recording-agents.js); rebalance-cost.ts turns the files into, per scale event: the longest time no
// callback completed in the agent's group (stop-the-world), the longest pause of one partition, seconds until the
// fleet after the event is complete (every worker completing, every partition served), re-runs, exact loss, and the
// worst publish → completion wait. The steady first third is the same run's reference. Each round runs one cycle per
// client (a fresh topic each), in rotated order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import { rotation } from "../lib/clients";
import type { Comparison } from "../lib/compare";
import type { BenchContext } from "../lib/context";
import { parseFleetLogs, readFleetLogs } from "../lib/fleet-log";
import {
  rebalanceCost,
  rebalanceTable,
  type EventCost,
  type RebalanceCost,
  type ScaleEvent,
} from "../lib/rebalance-cost";
import { spread, type Row } from "../lib/report";
import { sleep } from "@omnidaemon/lifecycle";
import { WorkerProcess } from "../lib/worker-process";
import { fleetWorkerEnv, perClient, publishPaced, type ScenarioOutcome } from "./common";

export interface B7Options {
  rate: number;
  seconds: number;
  rounds: number;
  sessionTimeoutMs: number;
  clients: KafkaClientName[];
}

const FIXTURE = join(__dirname, "..", "fixtures", "recording-agents.js");
const PARTITIONS = 12;
const READY_TIMEOUT_MS = 120_000;
const UP = "scale 1 → 3";
const DOWN = "scale 3 → 1";

interface Cycle {
  client: KafkaClientName;
  round: number;
  topic: string;
  cost: RebalanceCost;
  published: number;
  /** Spawn → /readyz 200 of the two added workers (NaN: not ready before they were stopped). */
  addedReadyMs: number[];
  /** SIGTERM → exit of the two added workers. */
  addedStopMs: number[];
}

async function scaleCycle(
  ctx: BenchContext,
  client: KafkaClientName,
  round: number,
  options: B7Options,
): Promise<Cycle> {
  const topic = ctx.topicName(`b7-${client}-${round}`);
  const agent = "b7-agent";
  await ctx.createTopic(topic, PARTITIONS);
  await ctx.createAgent(topic, agent, PARTITIONS);
  const logDir = mkdtempSync(join(tmpdir(), "bench-b7-"));
  const env = fleetWorkerEnv(topic, agent, logDir, options.sessionTimeoutMs);
  const start = () => WorkerProcess.start(FIXTURE, ctx.brokers, client, env);
  const workers: WorkerProcess[] = [];
  const total = options.rate * options.seconds;
  const publishedAt = new Float64Array(total);
  try {
    const first = await start();
    workers.push(first);
    await first.ready(READY_TIMEOUT_MS);
    await sleep(2000);
    const events: ScaleEvent[] = [];
    let added: WorkerProcess[] = [];
    let addedReady: Promise<number[]> = Promise.resolve([]);
    let addedStopped: Promise<number[]> = Promise.resolve([]);
    await publishPaced(ctx, topic, { total, rate: options.rate, publishedAt }, async (sent) => {
      if (events.length === 0 && sent >= total / 3) {
        const at = Date.now();
        added = [await start(), await start()];
        workers.push(...added);
        events.push({ name: UP, at, fleetAfter: workers.map((w) => String(w.pid)) });
        // A worker stopped before it was ready counts as never ready, not as a failed run.
        addedReady = Promise.all(added.map((w) => w.ready(READY_TIMEOUT_MS).catch(() => Number.NaN)));
      }
      if (events.length === 1 && sent >= (2 * total) / 3) {
        const at = Date.now();
        events.push({ name: DOWN, at, fleetAfter: [String(first.pid)] });
        addedStopped = Promise.all(
          added.map(async (w) => {
            const signalled = Date.now();
            await w.stop();
            return Date.now() - signalled;
          }),
        );
      }
    });
    const addedStopMs = await addedStopped;
    const addedReadyMs = await addedReady;
    // Wait for the backlog: up to a session timeout plus a rebalance after the last publish.
    const deadline = Date.now() + options.sessionTimeoutMs + 60_000;
    const read = () => parseFleetLogs(total, readFleetLogs(logDir));
    let completions = read();
    const unique = (list: typeof completions) => new Set(list.map((c) => c.index)).size;
    while (unique(completions) < total && Date.now() < deadline) {
      await sleep(500);
      completions = read();
    }
    const cost = rebalanceCost({
      completions,
      publishedAt,
      publishStart: publishedAt[0] as number,
      publishEnd: publishedAt[total - 1] as number,
      events,
      partitions: PARTITIONS,
    });
    return { client, round, topic, cost, published: total, addedReadyMs, addedStopMs };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    rmSync(logDir, { recursive: true, force: true });
  }
}

const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "never");

function logCycle(cycle: Cycle): void {
  const { cost } = cycle;
  console.log(
    `  B7 ${cycle.client} #${cycle.round}: steady: longest gap ${s(cost.steady.groupStopMs)}, partition pause ${s(cost.steady.partitionPauseMs)}`,
  );
  for (const event of cost.events) {
    console.log(
      `    ${event.name}: no completion for ${s(event.groupStopMs)}, partition pause ${s(event.partitionPauseMs)},` +
        ` settled after ${s(event.settledMs)}, re-run ${event.duplicates}, lost ${event.lost}, worst wait ${s(event.worstWaitMs)}`,
    );
  }
  console.log(
    `    lost ${cost.lost} of ${cycle.published}, re-run ${cost.duplicates}; added workers ready after ${cycle.addedReadyMs.map(s).join(", ")}, stopped in ${cycle.addedStopMs.map(s).join(", ")}`,
  );
}

export async function runB7(ctx: BenchContext, options: B7Options): Promise<ScenarioOutcome> {
  const cycles = perClient<Cycle>(options.clients);
  for (let round = 1; round <= options.rounds; round++) {
    for (const client of rotation(options.clients, round)) {
      const cycle = await scaleCycle(ctx, client, round, options);
      logCycle(cycle);
      cycles[client].push(cycle);
    }
  }
  const costs = (client: KafkaClientName): RebalanceCost[] => cycles[client].map((c) => c.cost);
  const eventOf = (name: string) => (cost: RebalanceCost) =>
    cost.events.find((e) => e.name === name) as EventCost;
  const title = `at ${options.rate.toLocaleString("en-US")} ev/s`;
  const rows: Row[] = options.clients.flatMap((client): Row[] => {
    const steadyStop = spread(costs(client).map((c) => c.steady.groupStopMs / 1000));
    const eventRows = [UP, DOWN].flatMap((name): Row[] => {
      const events = costs(client).map(eventOf(name));
      const stop = events.map((e) => e.groupStopMs / 1000);
      return [
        {
          scenario: `B7 ${name} ${title}: longest time with no completion in the group (ratio = ÷ the steady third's longest gap)`,
          driver: client,
          measured: spread(stop),
          baseline: steadyStop,
          ratio: spread(
            stop.map((v, i) => v / ((costs(client)[i] as RebalanceCost).steady.groupStopMs / 1000)),
          ),
          target: undefined,
          unit: "s",
        },
        {
          scenario: `B7 ${name}: seconds until every worker completes deliveries and every partition is served; re-run ${events.map((e) => e.duplicates).join("/")}`,
          driver: client,
          measured: spread(events.map((e) => e.settledMs / 1000)),
          baseline: { ideal: Number.NaN, label: "no baseline" },
          ratio: { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 },
          target: undefined,
          unit: "s",
        },
      ];
    });
    return [
      ...eventRows,
      {
        scenario: `B7 events lost over the cycle (exact; must be 0), of ${(options.rate * options.seconds).toLocaleString("en-US")} per cycle`,
        driver: client,
        measured: spread(costs(client).map((c) => c.lost)),
        baseline: { ideal: 0, label: "must be" },
        ratio: { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 },
        target: undefined,
        unit: "events",
      },
    ];
  });
  const per = (pick: (cost: RebalanceCost) => number) =>
    Object.fromEntries(options.clients.map((client) => [client, costs(client).map(pick)]));
  const comparisons: Comparison[] = [UP, DOWN].flatMap((name): Comparison[] => {
    const at = eventOf(name);
    return [
      {
        figure: `B7 ${name}: longest time with no completion in the group`,
        unit: "s",
        better: "lower",
        values: per((c) => at(c).groupStopMs / 1000),
      },
      {
        figure: `B7 ${name}: longest pause of one partition`,
        unit: "s",
        better: "lower",
        values: per((c) => at(c).partitionPauseMs / 1000),
      },
      {
        figure: `B7 ${name}: until every worker completes deliveries`,
        unit: "s",
        better: "lower",
        values: per((c) => at(c).settledMs / 1000),
      },
      {
        figure: `B7 ${name}: events re-run`,
        unit: "events",
        better: "lower",
        values: per((c) => at(c).duplicates),
      },
      {
        figure: `B7 ${name}: worst publish → completion wait`,
        unit: "s",
        better: "lower",
        values: per((c) => at(c).worstWaitMs / 1000),
      },
    ];
  });
  comparisons.push({
    figure: "B7 events lost over the cycle (must be 0)",
    unit: "events",
    better: "lower",
    values: per((c) => c.lost),
  });
  const section = [
    `### B7 rebalance cost: scale 1 → 3 → 1 ${title} for ${options.seconds} s`,
    "",
    `One worker, two more spawned at ${(options.seconds / 3).toFixed(0)} s, those two stopped with SIGTERM at ${((2 * options.seconds) / 3).toFixed(0)} s; ${options.rounds} round(s) per driver; session timeout ${options.sessionTimeoutMs / 1000} s.`,
    "",
    rebalanceTable(Object.fromEntries(options.clients.map((client) => [client, costs(client)]))),
  ].join("\n");
  return {
    id: "B7",
    rows,
    comparisons,
    sections: [section],
    details: {
      ...options,
      partitions: PARTITIONS,
      heartbeatIntervalMs: Math.max(100, Math.floor(options.sessionTimeoutMs / 10)),
      cycles,
    },
  };
}
