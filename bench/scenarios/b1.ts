// B1: no-op agent, one consumer process, 12 partitions, 1 KiB events: events/s consumed to completion, against a
// bare kafkajs consumer with the same commit policy over the same records (a separate group on the same topic).
// With several clients (--clients), each round runs the engine once per client, and a bare @platformatic/kafka
// consumer with the same commit policy when platformatic is one of them; the baseline stays the bare kafkajs one.
import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import { rotation } from "../lib/clients";
import { pairedRatio, type Comparison } from "../lib/compare";
import type { BenchContext } from "../lib/context";
import { spread, type Row } from "../lib/report";
import type { GroupProtocol, TrialResult, TrialSpec } from "../lib/types";
import { logTrial, perClient, type ScenarioOutcome } from "./common";

export interface B1Options {
  events: number;
  rounds: number;
  /** The engine runs once per client per round; a bare platformatic consumer joins when platformatic is listed. */
  clients: KafkaClientName[];
  groupProtocol: GroupProtocol;
}

const PARTITIONS = 12;
const VALUE_BYTES = 1024;
const COMMIT_INTERVAL_MS = 1000; // the engine's default commitIntervalMs
const MAX_WAIT_MS = 100; // the engine's default maxWaitTimeMs

export async function runB1(ctx: BenchContext, options: B1Options): Promise<ScenarioOutcome> {
  const topic = ctx.topicName("b1");
  await ctx.createTopic(topic, PARTITIONS);
  const agentOf = (client: KafkaClientName, round: number): string => `b1-engine-${client}-${round}`;
  for (let round = 1; round <= options.rounds; round++)
    for (const client of options.clients) await ctx.createAgent(topic, agentOf(client, round), PARTITIONS);
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
  const engine = perClient<TrialResult>(options.clients);
  const baseline: TrialResult[] = [];
  const decoding: TrialResult[] = [];
  const barePlatformatic: TrialResult[] = [];
  const bare = (round: number | string, extra: Partial<TrialSpec> = {}): TrialSpec => ({
    ...common,
    kind: "baseline",
    client: "kafkajs",
    label: `B1 baseline #${round}`,
    groupId: ctx.baselineGroup(topic, `b1-${round}`),
    baselineMode: "eachBatch-manual-commit",
    ...extra,
  });
  // One unmeasured pass first: right after the pre-load the broker is still busy with the new segments, and the
  // first reader of a topic pays for that.
  logTrial(await ctx.trial(bare("warmup", { label: "B1 warm-up (discarded)" })), "  ");
  const withPlatformatic = options.clients.includes("platformatic");
  for (let round = 1; round <= options.rounds; round++) {
    const sides: Array<() => Promise<void>> = [
      async () => {
        const result = await ctx.trial(bare(round));
        logTrial(result);
        baseline.push(result);
      },
      ...options.clients.map((client) => async () => {
        const result = await ctx.trial({
          ...common,
          kind: "engine",
          client,
          label: `B1 engine ${client} #${round}`,
          agent: agentOf(client, round),
        });
        logTrial(result);
        engine[client].push(result);
      }),
      async () => {
        const result = await ctx.trial(
          bare(`json-${round}`, { label: `B1 kafkajs+JSON #${round}`, decodeJson: true }),
        );
        logTrial(result);
        decoding.push(result);
      },
      ...(withPlatformatic
        ? [
            async () => {
              const result = await ctx.trial(
                bare(`platformatic-${round}`, {
                  label: `B1 bare platformatic #${round}`,
                  client: "platformatic",
                  groupProtocol: options.groupProtocol,
                }),
              );
              logTrial(result);
              barePlatformatic.push(result);
            },
          ]
        : []),
    ];
    // Rotate the order each round (B E J, E J B, J B E, …) so drift in the machine's load hits every side alike.
    for (const side of rotation(sides, round)) await side();
  }

  const all = [...Object.values(engine).flat(), ...baseline, ...decoding, ...barePlatformatic];
  for (const result of all) {
    if (result.handled !== options.events) {
      throw new Error(`${result.label} handled ${result.handled} of ${options.events} events`);
    }
  }

  const row = (
    scenario: string,
    driver: KafkaClientName,
    measuredSide: TrialResult[],
    reference: TrialResult[],
    pick: (r: TrialResult) => number,
    target: number | undefined,
  ): Row => ({
    scenario,
    driver,
    measured: spread(measuredSide.map(pick)),
    baseline: spread(reference.map(pick)),
    ratio: pairedRatio(measuredSide.map(pick), reference.map(pick)),
    target,
    unit: "ev/s",
  });
  const steady = (r: TrialResult): number => r.steadyRate;
  const endToEnd = (r: TrialResult): number => r.endToEndRate;
  const rows: Row[] = options.clients.flatMap((client) => [
    row(
      "B1 no-op agent, 12 partitions, 1 KiB — steady state (10th–90th pct of completions)",
      client,
      engine[client],
      baseline,
      steady,
      0.7,
    ),
    row(
      "B1 same, end to end (consumer start → last handler done, incl. connect + group join)",
      client,
      engine[client],
      baseline,
      endToEnd,
      0.7,
    ),
    row(
      "B1 context: engine vs a kafkajs consumer that also JSON.parses each value (steady state)",
      client,
      engine[client],
      decoding,
      steady,
      undefined,
    ),
  ]);
  if (withPlatformatic) {
    rows.push(
      row(
        "B1 context: bare @platformatic/kafka consumer, the engine's commit policy, vs the bare kafkajs baseline (steady state)",
        "platformatic",
        barePlatformatic,
        baseline,
        steady,
        undefined,
      ),
    );
  }
  const values = (pick: (r: TrialResult) => number) =>
    Object.fromEntries(options.clients.map((client) => [client, engine[client].map(pick)]));
  const kafkajsBaseline = (pick: (r: TrialResult) => number) => ({
    label: "bare kafkajs",
    values: baseline.map(pick),
  });
  const comparisons: Comparison[] = [
    {
      figure: "B1 engine, no-op agent — steady state",
      unit: "ev/s",
      better: "higher",
      values: values(steady),
      baseline: kafkajsBaseline(steady),
    },
    {
      figure: "B1 engine — end to end (incl. connect + group join)",
      unit: "ev/s",
      better: "higher",
      values: values(endToEnd),
      baseline: kafkajsBaseline(endToEnd),
    },
    ...(withPlatformatic
      ? [
          {
            figure: "B1 bare client, the engine's commit policy — steady state",
            unit: "ev/s",
            better: "higher" as const,
            values: { kafkajs: baseline.map(steady), platformatic: barePlatformatic.map(steady) },
            baseline: kafkajsBaseline(steady),
          },
        ]
      : []),
  ];
  return {
    id: "B1",
    rows,
    comparisons,
    details: {
      topic,
      partitions: PARTITIONS,
      events: options.events,
      valueBytes: VALUE_BYTES,
      commitIntervalMs: COMMIT_INTERVAL_MS,
      maxWaitTimeMs: MAX_WAIT_MS,
      clients: options.clients,
      engineConfig: "AgentRuntimeConfig defaults (concurrency 8)",
      baseline:
        "kafkajs eachBatch, autoCommit false, partitionsConsumedConcurrently 1, batch lastOffset+1 committed every commitIntervalMs",
      preload,
      decodingBaseline: "the baseline plus JSON.parse of every record value (context only)",
      ...(withPlatformatic
        ? {
            barePlatformatic: `@platformatic/kafka Consumer, group protocol ${options.groupProtocol}, autocommit off, each record's offset+1 pending per partition, committed every commitIntervalMs`,
          }
        : {}),
      trials: { engine, baseline, decoding, barePlatformatic },
    },
  };
}
