// Long on purpose (about 480 lines): the bench's one entry point — its arguments, the run lock, the scenarios per Kafka
// client and the report files — read top to bottom as one run; each scenario lives in bench/scenarios/.
//
// `npm run bench [-- B1 B2 INGESTION] [--rounds=3] [--clients=kafkajs,platformatic] [--b1-events=N] … [--profile]`
//
// Runs each scenario against Kafka (OMNIDAEMON_KAFKA_BROKERS, else the local stack, started if needed), writes
// bench/results/<timestamp>.json and bench/results/latest.md, and prints the table. Every speed figure is a ratio
// to a baseline measured in the same run: the machine is shared and noisy. With several Kafka clients
// (`--clients`), every scenario runs on each (B1, B2, B3 and B7 interleave them round by round) and the results
// gain a side-by-side table. See bench/README.md.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { KAFKA_CLIENTS, type KafkaClientName } from "@omnidaemon/bus-kafka";
import { parseClients } from "./lib/clients";
import { compareClients, sideBySideTable, type ComparedLine } from "./lib/compare";
import { BenchContext } from "./lib/context";
import { markdownTable, verdict, type Row } from "./lib/report";
import { stopChildren } from "./lib/spawn-trial";
import { acquireStack, releaseStack, type Stack } from "./lib/stack";
import { runB1 } from "./scenarios/b1";
import { runB1e } from "./scenarios/b1e";
import { runB2 } from "./scenarios/b2";
import { runIngestion } from "./scenarios/ingestion";
import { runB3 } from "./scenarios/b3";
import { runB6 } from "./scenarios/b6";
import { runB7 } from "./scenarios/b7";
import { runB4, runB5 } from "./scenarios/fleet";
import type { ScenarioOutcome } from "./scenarios/common";
import type { GroupProtocol, ProbeResult } from "./lib/types";
import { formatSummary, summarizeProfile } from "./tools/cpuprofile-top";

const ROOT = join(__dirname, "..");
const RESULTS = join(__dirname, "results");
const SCENARIOS = ["B1", "B1E", "B2", "B3", "B4", "B5", "B6", "B7", "INGESTION"] as const;
/** Scenarios that interleave the clients round by round; the others run once per client, one after the other. */
const INTERLEAVED: readonly ScenarioId[] = ["B1", "B2", "B3", "B7"];
type ScenarioId = (typeof SCENARIOS)[number];

interface Args {
  scenarios: ScenarioId[];
  rounds: number;
  b1Events: number;
  b1eEvents: number;
  b2Events: number;
  ingestionEvents: number;
  b3Rate: number;
  b3Seconds: number;
  b6Agents: number;
  fleetRate: number;
  fleetSeconds: number;
  sessionTimeoutMs: number;
  b7Rate: number;
  b7Seconds: number;
  b7Rounds: number;
  /** Undefined: the one client OMNIDAEMON_KAFKA_CLIENT selects (kafkajs when unset). */
  clients: KafkaClientName[] | undefined;
  /** The client of every producer that generates load (set-up, pre-loads, B3, B4/B5/B7 publishing). */
  producerClient: KafkaClientName;
  groupProtocol: GroupProtocol;
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    scenarios: [],
    rounds: 3,
    b1Events: 300_000,
    b1eEvents: 20_000,
    b2Events: 15_000,
    b3Rate: 500,
    b3Seconds: 10,
    b6Agents: 50,
    fleetRate: 1000,
    fleetSeconds: 30,
    sessionTimeoutMs: 10_000,
    b7Rate: 1000,
    b7Seconds: 45,
    b7Rounds: 1,
    ingestionEvents: 100_000,
    clients: undefined,
    producerClient: "kafkajs",
    groupProtocol: "consumer",
    profile: false,
  };
  for (const arg of argv) {
    const [flag, value] = arg.split("=", 2);
    const int = (): number => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new Error(`${flag} needs a positive integer, got "${value}"`);
      return n;
    };
    if (flag === "--rounds") args.rounds = int();
    else if (flag === "--b1-events") args.b1Events = int();
    else if (flag === "--b2-events") args.b2Events = int();
    else if (flag === "--ingestion-events") args.ingestionEvents = int();
    else if (flag === "--b1e-events") args.b1eEvents = int();
    else if (flag === "--b3-rate") args.b3Rate = int();
    else if (flag === "--b3-seconds") args.b3Seconds = int();
    else if (flag === "--b6-agents") args.b6Agents = int();
    else if (flag === "--fleet-rate") args.fleetRate = int();
    else if (flag === "--fleet-seconds") args.fleetSeconds = int();
    else if (flag === "--session-timeout-ms") args.sessionTimeoutMs = int();
    else if (flag === "--b7-rate") args.b7Rate = int();
    else if (flag === "--b7-seconds") args.b7Seconds = int();
    else if (flag === "--b7-rounds") args.b7Rounds = int();
    else if (flag === "--clients") args.clients = parseClients(value);
    else if (flag === "--producer-client") {
      const [client, ...more] = parseClients(value);
      if (client === undefined || more.length > 0)
        throw new Error(`--producer-client needs one of ${KAFKA_CLIENTS.join(", ")}, got "${value}"`);
      args.producerClient = client;
    } else if (flag === "--platformatic-group-protocol") {
      if (value !== "consumer" && value !== "classic")
        throw new Error(`--platformatic-group-protocol needs consumer or classic, got "${value}"`);
      args.groupProtocol = value;
    } else if (flag === "--profile") args.profile = true;
    else if (SCENARIOS.includes(arg.toUpperCase() as ScenarioId))
      args.scenarios.push(arg.toUpperCase() as ScenarioId);
    else
      throw new Error(
        `unknown argument "${arg}" (scenarios: ${SCENARIOS.join(", ")}; flags: --clients=kafkajs,platformatic --producer-client=NAME --platformatic-group-protocol=consumer|classic --rounds=N --b1-events=N --b1e-events=N --b2-events=N --b3-rate=N --b3-seconds=N --b6-agents=N --fleet-rate=N --fleet-seconds=N --session-timeout-ms=N --b7-rate=N --b7-seconds=N --b7-rounds=N --ingestion-events=N --profile)`,
      );
  }
  if (args.scenarios.length === 0) args.scenarios = [...SCENARIOS];
  return args;
}

function git(...command: string[]): string | undefined {
  const result = spawnSync("git", command, { cwd: ROOT, encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Hash of the engine's sources: a change while the bench runs (someone editing) makes the results mixed. */
function engineFingerprint(): string {
  const hash = createHash("sha1");
  const dir = join(ROOT, "packages", "bus-kafka", "src");
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) hash.update(file).update(readFileSync(file));
  return hash.digest("hex").slice(0, 12);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One bench run per checkout at a time: on a 2-core machine two runs skew each other's numbers. A lock left by a
 * run that died is taken over. Returns the release function.
 */
function takeRunLock(): () => void {
  mkdirSync(RESULTS, { recursive: true });
  const lock = join(RESULTS, "run.lock.tmp"); // *.tmp under bench/results is git-ignored
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lock, "utf8"));
      if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
        throw new Error(
          `another bench run (pid ${holder}) is running in this checkout; both would measure each other's load. Wait for it to finish.`,
        );
      }
      rmSync(lock, { force: true });
    }
  }
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** What each requested client really ran on, from the probes: a line per client for the report. */
function clientsInEffect(probes: ProbeResult[]): { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const probe of probes) {
    if (probe.client === "platformatic" && !probe.platformaticLoaded) {
      lines.push("platformatic → **kafkajs** (@platformatic/kafka was not loaded)");
      warnings.push(
        "WARNING: OMNIDAEMON_KAFKA_CLIENT=platformatic did not load @platformatic/kafka in the bus (its driver is not in this checkout): every engine and worker figure labelled platformatic ran on kafkajs, i.e. kafkajs was measured twice. Only the bare platformatic baselines used @platformatic/kafka. Do not read these as platformatic figures.",
      );
    } else {
      lines.push(
        `${probe.client} → ${probe.client === "platformatic" || !probe.platformaticLoaded ? probe.client : "kafkajs (+ @platformatic/kafka loaded)"}`,
      );
    }
  }
  return { lines, warnings };
}

function markdown(
  stamp: string,
  env: Record<string, unknown>,
  args: Args,
  clients: KafkaClientName[],
  rows: Row[],
  compared: ComparedLine[],
  sections: string[],
  notes: string[],
  warnings: string[],
): string {
  return [
    `# Benchmark results — ${stamp}`,
    "",
    `Scenarios ${args.scenarios.join(", ")}, ${args.rounds} rounds each (medians; ranges in parentheses are run to run).`,
    `Commit ${String(env.commit)}${env.dirty ? " (uncommitted changes)" : ""} (engine sources ${String(env.engineSources)}), Node ${String(env.node)}, kafkajs ${String(env.kafkajs)}, @platformatic/kafka ${String(env.platformatic)},`,
    `Kafka ${String(env.kafka)}, ${String(env.cpus)} × ${String(env.cpuModel)}, load average at start ${String(env.loadavgStart)}.`,
    `Kafka clients: ${clients.join(", ")} (requested → what the bus ran: ${(env.clientsInEffect as string[]).join("; ")}); load produced through the KafkaProducer on ${args.producerClient}.`,
    ...warnings.flatMap((warning) => ["", `**${warning}**`]),
    "",
    markdownTable(rows),
    ...(compared.length === 0
      ? []
      : [
          "",
          "## Kafka clients side by side",
          "",
          'Medians over the rounds (range in parentheses). Ratios are plain quotients of the values (for ms, s and event counts lower is better); in parentheses the range of the per-round ratios, rounds being interleaved. "better": the client that did better in every round (with their count), "mixed" when rounds disagree.',
          "",
          sideBySideTable(compared, clients),
        ]),
    ...sections.flatMap((section) => ["", section]),
    "",
    ...notes.map((note) => `- ${note}`),
    "",
  ].join("\n");
}

/** An installed package's version, from its package.json (@platformatic/kafka's exports map hides it). */
function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return "unknown";
  }
}

/** A scenario that runs once per client, one client after the other (no side-by-side figures). */
function runPerClient(
  ctx: BenchContext,
  id: ScenarioId,
  args: Args,
  client: KafkaClientName,
): Promise<ScenarioOutcome> {
  const fleet = {
    rate: args.fleetRate,
    seconds: args.fleetSeconds,
    sessionTimeoutMs: args.sessionTimeoutMs,
    client,
  };
  switch (id) {
    case "B1E":
      return runB1e(ctx, { events: args.b1eEvents, rounds: args.rounds, profileDir: ctx.profileDir, client });
    case "INGESTION":
      return runIngestion(ctx, { events: args.ingestionEvents, rounds: args.rounds, client });
    case "B4":
      return runB4(ctx, fleet);
    case "B5":
      return runB5(ctx, fleet);
    case "B6":
      return runB6(ctx, { agents: args.b6Agents, client });
    default:
      throw new Error(`scenario ${id} interleaves its clients and does not run per client`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const releaseLock = takeRunLock();
  let stack: Stack;
  try {
    stack = acquireStack();
  } catch (error) {
    releaseLock();
    throw error;
  }
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
  const profileDir = args.profile ? join(__dirname, "profiles", stamp) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const clients = args.clients ?? [stack.connection.client];
  const ctx = new BenchContext({ ...stack.connection, client: args.producerClient }, profileDir);

  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      await stopChildren();
      await ctx.close();
      releaseStack(stack);
      releaseLock();
    })();
    return closing;
  };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A Ctrl-C reaches both this process and bench/run.js, which forwards it: clean up once.
    if (interrupted) return;
    interrupted = true;
    console.error(`bench: ${signal}: cleaning up`);
    void shutdown().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const env = {
    node: process.version,
    kafkajs: packageVersion("kafkajs"),
    platformatic: packageVersion("@platformatic/kafka"),
    kafka: stack.kafkaVersion ?? "unknown",
    brokers: stack.brokers,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadavgStart: loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    loadavgEnd: "",
    commit: git("rev-parse", "--short", "HEAD") ?? "unknown",
    dirty: (git("status", "--porcelain", "--", "packages", "apps") ?? "") !== "",
    engineSources: engineFingerprint(),
    engineSourcesChangedDuringRun: false,
    clients,
    producerClient: args.producerClient,
    platformaticGroupProtocol: args.groupProtocol,
    clientsInEffect: [] as string[],
    clientProbes: [] as ProbeResult[],
  };
  const outcomes: ScenarioOutcome[] = [];
  let failure: unknown;
  try {
    await ctx.start();
    for (const client of clients) env.clientProbes.push(await ctx.probeClient(client));
    env.clientsInEffect = clientsInEffect(env.clientProbes).lines;
    console.log(`bench: Kafka clients (requested → what the bus ran): ${env.clientsInEffect.join("; ")}`);
    for (const id of args.scenarios) {
      console.log(`\n== ${id} ==`);
      const perRun = { rounds: args.rounds, clients, groupProtocol: args.groupProtocol };
      if (id === "B1") outcomes.push(await runB1(ctx, { ...perRun, events: args.b1Events }));
      if (id === "B2") outcomes.push(await runB2(ctx, { ...perRun, events: args.b2Events }));
      if (id === "B3")
        outcomes.push(
          await runB3(ctx, {
            ...perRun,
            rate: args.b3Rate,
            durationMs: args.b3Seconds * 1000,
            producerClient: args.producerClient,
          }),
        );
      if (id === "B7")
        outcomes.push(
          await runB7(ctx, {
            clients,
            rate: args.b7Rate,
            seconds: args.b7Seconds,
            rounds: args.b7Rounds,
            sessionTimeoutMs: args.sessionTimeoutMs,
          }),
        );
      if (INTERLEAVED.includes(id)) continue;
      for (const client of clients) {
        if (clients.length > 1) console.log(`-- ${id} on ${client} --`);
        const outcome = await runPerClient(ctx, id, args, client);
        outcomes.push(clients.length > 1 ? { ...outcome, id: `${outcome.id}:${client}` } : outcome);
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    await shutdown();
  }
  env.loadavgEnd = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  env.engineSourcesChangedDuringRun = engineFingerprint() !== env.engineSources;
  if (failure !== undefined) throw failure;

  const rows = outcomes.flatMap((outcome) => outcome.rows);
  const compared =
    clients.length > 1
      ? outcomes.flatMap((outcome) => outcome.comparisons ?? []).map((c) => compareClients(c, clients))
      : [];
  const sections = outcomes.flatMap((outcome) => outcome.sections ?? []);
  const { warnings } = clientsInEffect(env.clientProbes);
  const notes = [
    "driver: the Kafka client the measured side ran on (OMNIDAEMON_KAFKA_CLIENT of the engine or worker process; for a bare-client row, its library).",
    "ratio: measured ÷ baseline (medians); in parentheses the range of the per-round ratios.",
    "B1 baseline: a bare kafkajs consumer with the engine's commit policy (eachBatch, autoCommit off, last offset + 1 committed every 1 s), separate group, same topic, same records.",
    "B1 steady state: completions between the 10th and 90th percentile ÷ the time between them; end to end: all events ÷ (consumer start → last handler done).",
    "B1 context row: the same baseline plus JSON.parse of each value, i.e. the least any consumer of JSON events pays; ratio = engine ÷ it. No target.",
    "B2: the ratio is to the ideal 2,560 ev/s; the kafkajs eachMessage row is context (ratio there = engine ÷ kafkajs).",
    "INGESTION: real coordinator processes; results/s = catch-up of a pre-filled task-events backlog (first → last result in Postgres); the note gives last produce → all stored for a live burst; baselines are the old one-upsert-per-event path and the batch statement from the bench process (bench/README.md).",
    "B1e: the CLI-started worker process vs the engine alone over the same records, both first → last callback; no coordinator ran.",
    "B3: publish → callback start, publish time in the event, producer in the consumer's process; ratio = bare kafkajs eachMessage (+ JSON.parse) ÷ engine, so above 1 means the engine is faster. Absolute targets: p50 ≤ 5 ms, p99 ≤ 25 ms.",
    "B4/B5: CLI-started workers; loss counted exactly over every worker's record of handled indexes; B5 recovery compared with the configured session timeout.",
    "B7: CLI-started workers, scale 1 → 3 → 1 under a steady publish rate; per scale event: the longest time no callback completed in the agent's group, the longest pause of one partition, until every worker completes deliveries and every partition is served, re-runs, exact loss (docs/performance.md).",
    "B6: RSS and established broker connections of the worker process from /proc, 3 s after /readyz turned 200; no coordinator ran.",
    "See docs/performance.md for what each figure means and where the time goes. Figures taken on a shared 2-core box: check the load average above.",
    ...(env.engineSourcesChangedDuringRun
      ? [
          "WARNING: packages/bus-kafka/src changed while this run was going: trials may have run different code.",
        ]
      : []),
    ...(args.profile
      ? ["PROFILED RUN: --cpu-prof slows every trial; absolute numbers and ratios are not comparable."]
      : []),
  ];
  const table = markdownTable(rows);
  console.log(`\n${table}\n`);
  if (compared.length > 0)
    console.log(`Kafka clients side by side:\n\n${sideBySideTable(compared, clients)}\n`);
  for (const section of sections) console.log(`${section}\n`);
  for (const warning of warnings) console.error(`bench: ${warning}`);
  if (env.engineSourcesChangedDuringRun) {
    console.error(
      "bench: WARNING: packages/bus-kafka/src changed during the run; trials may have run different code",
    );
  }
  if (args.profile && profileDir) {
    for (const file of readdirSync(profileDir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .sort()) {
      console.log(formatSummary(summarizeProfile(join(profileDir, file), 20)));
      console.log("");
    }
    console.log(`bench: --profile run: results not written (profiles in ${profileDir})`);
    return;
  }
  mkdirSync(RESULTS, { recursive: true });
  const json = {
    stamp,
    args,
    env,
    rows: rows.map((row) => ({ ...row, result: verdict(row) })),
    sideBySide: compared,
    scenarios: Object.fromEntries(outcomes.map((outcome) => [outcome.id, outcome.details])),
  };
  writeAtomically(join(RESULTS, `${stamp}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeAtomically(
    join(RESULTS, "latest.md"),
    markdown(stamp, env, args, clients, rows, compared, sections, notes, warnings),
  );
  console.log(`bench: wrote bench/results/${stamp}.json and bench/results/latest.md`);
}

main().then(
  () => {
    // Everything is closed by now; this only reports a leak instead of hanging on it.
    setTimeout(() => {
      console.error("bench: something kept the process alive after cleanup; exiting");
      process.exit(process.exitCode ?? 0);
    }, 10_000).unref();
  },
  (error: unknown) => {
    console.error(
      `bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 1;
  },
);
