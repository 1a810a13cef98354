// B3: latency publish → callback start at a steady rate (500 events/s), the engine against a bare kafkajs consumer
// (eachMessage, JSON.parse of each value) in the same run. Each trial gets a fresh topic, so a new group reads only
// what was published for it; the producer runs in the trial's process and stamps the publish time in the event.
// With several clients (--clients), each round runs the engine on each client and a bare consumer of each client's
// library (bare kafkajs, bare @platformatic/kafka), all publishing through the same producer client.
import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import { rotation } from "../lib/clients";
import { pairedRatio, type Comparison } from "../lib/compare";
import type { BenchContext } from "../lib/context";
import type { GroupProtocol, LatencyResult, LatencySpec } from "../lib/types";
import { spread, type Row } from "../lib/report";
import { perClient, type ScenarioOutcome } from "./common";

export interface B3Options {
  rate: number;
  durationMs: number;
  rounds: number;
  /** The engine runs once per client per round, and a bare consumer of each client's library. */
  clients: KafkaClientName[];
  /** The client of the one producer every side publishes through. */
  producerClient: KafkaClientName;
  groupProtocol: GroupProtocol;
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
  const engine = perClient<LatencyResult>(options.clients);
  // The bare consumer of each client's library; kafkajs's is the run's baseline, so it always runs.
  const bareClients: KafkaClientName[] = ["kafkajs", ...options.clients.filter((c) => c !== "kafkajs")];
  const bare = perClient<LatencyResult>(bareClients);
  const trial = async (kind: LatencySpec["kind"], client: KafkaClientName, round: number): Promise<void> => {
    const side = kind === "engine" ? `engine-${client}` : `bare-${client}`;
    const topic = ctx.topicName(`b3-${side}-${round}`);
    await ctx.createTopic(topic, PARTITIONS);
    const agent = `b3-${side}-${round}`;
    if (kind === "engine") await ctx.createAgent(topic, agent, PARTITIONS);
    const result = await ctx.latencyTrial({
      kind,
      client,
      producerClient: options.producerClient,
      ...(client === "platformatic" && kind === "baseline" ? { groupProtocol: options.groupProtocol } : {}),
      label: `B3 ${kind === "engine" ? "engine" : "bare"} ${client} #${round}`,
      brokers: ctx.brokers,
      topic,
      ...(kind === "engine" ? { agent } : { groupId: ctx.baselineGroup(topic, `b3-${side}-${round}`) }),
      rate: options.rate,
      durationMs: options.durationMs,
      maxWaitTimeMs: MAX_WAIT_MS,
      pad: PAD,
    });
    log(result);
    (kind === "engine" ? engine : bare)[client].push(result);
  };
  for (let round = 1; round <= options.rounds; round++) {
    // Rotate which side goes first, so drift in the machine's load hits every side alike.
    const order = rotation(
      [
        ...options.clients.map((client) => ["engine", client] as const),
        ...bareClients.map((client) => ["baseline", client] as const),
      ],
      round,
    );
    for (const [kind, client] of order) await trial(kind, client, round);
  }
  const all = [...Object.values(engine).flat(), ...Object.values(bare).flat()];
  const lost = all.reduce((sum, r) => sum + r.lost, 0);
  const reference = bare.kafkajs;
  const row = (
    name: string,
    driver: KafkaClientName,
    measuredSide: LatencyResult[],
    pick: (r: LatencyResult) => number,
  ): Row => ({
    scenario: name,
    driver,
    measured: spread(measuredSide.map(pick)),
    baseline: spread(reference.map(pick)),
    // A latency ratio is baseline ÷ measured, so that above 1 means the measured side is faster, like the
    // throughput rows.
    ratio: pairedRatio(reference.map(pick), measuredSide.map(pick)),
    target: undefined,
    unit: "ms",
  });
  const percentiles: Array<[string, (r: LatencyResult) => number]> = [
    ["p50", (r) => r.p50],
    ["p99", (r) => r.p99],
    ["p99.9", (r) => r.p999],
  ];
  const rows: Row[] = options.clients.flatMap((client) =>
    percentiles.map(([name, pick]) =>
      row(
        name === "p50"
          ? `B3 latency publish → callback start at ${options.rate} ev/s, engine — p50 (ratio = bare kafkajs ÷ engine)`
          : `B3 same, engine — ${name}`,
        client,
        engine[client],
        pick,
      ),
    ),
  );
  for (const client of bareClients.filter((c) => c !== "kafkajs")) {
    for (const [name, pick] of percentiles) {
      rows.push(
        row(
          `B3 context: bare ${client} consumer — ${name} (ratio = bare kafkajs ÷ bare ${client})`,
          client,
          bare[client],
          pick,
        ),
      );
    }
  }
  const comparisons: Comparison[] = [
    ...percentiles.map(([name, pick]): Comparison => ({
      figure: `B3 engine, latency publish → callback start — ${name}`,
      unit: "ms",
      better: "lower",
      values: Object.fromEntries(options.clients.map((c) => [c, engine[c].map(pick)])),
      baseline: { label: "bare kafkajs", values: reference.map(pick) },
    })),
    ...(bareClients.length > 1
      ? percentiles.map(([name, pick]): Comparison => ({
          figure: `B3 bare client, latency publish → callback start — ${name}`,
          unit: "ms",
          better: "lower",
          values: Object.fromEntries(bareClients.map((c) => [c, bare[c].map(pick)])),
          baseline: { label: "bare kafkajs", values: reference.map(pick) },
        }))
      : []),
  ];
  return {
    id: "B3",
    rows,
    comparisons,
    details: {
      partitions: PARTITIONS,
      rate: options.rate,
      durationMs: options.durationMs,
      maxWaitTimeMs: MAX_WAIT_MS,
      clients: options.clients,
      producer: `the product's KafkaProducer (acks=all) on ${options.producerClient}, in the trial's process, for every side`,
      lost,
      engine: "AgentConsumer, defaults (concurrency 8, commit every 1 s), no-op handler",
      baseline: "bare kafkajs, eachMessage, JSON.parse of each value, default settings but maxWaitTimeInMs",
      ...(bareClients.includes("platformatic")
        ? {
            barePlatformatic: `bare @platformatic/kafka Consumer, group protocol ${options.groupProtocol}, mode committed (new group: latest), autocommit after every fetch, JSON.parse of each value, maxWaitTime ${MAX_WAIT_MS} ms`,
          }
        : {}),
      absoluteTargets:
        "p50 ≤ 5 ms, p99 ≤ 25 ms (product.md §12): compare the engine's absolute figures, and mind the load",
      trials: { engine, bare },
    },
  };
}
