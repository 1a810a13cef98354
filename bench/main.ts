// `npm run bench [-- B1 B2 INGESTION] [--rounds=3] [--b1-events=N] [--b2-events=N] [--ingestion-events=N] [--profile]`
//
// Runs each scenario against Kafka (OMNIDAEMON_KAFKA_BROKERS, else the local stack, started if needed), writes
// bench/results/<timestamp>.json and bench/results/latest.md, and prints the table. Every speed figure is a ratio
// to a baseline measured in the same run: the machine is shared and noisy. See bench/README.md.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
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
import { runB4, runB5 } from "./scenarios/fleet";
import type { ScenarioOutcome } from "./scenarios/common";
import { formatSummary, summarizeProfile } from "./tools/cpuprofile-top";

const ROOT = join(__dirname, "..");
const RESULTS = join(__dirname, "results");
const SCENARIOS = ["B1", "B1E", "B2", "B3", "B4", "B5", "B6", "INGESTION"] as const;
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
    ingestionEvents: 100_000,
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
    else if (flag === "--profile") args.profile = true;
    else if (SCENARIOS.includes(arg.toUpperCase() as ScenarioId))
      args.scenarios.push(arg.toUpperCase() as ScenarioId);
    else
      throw new Error(
        `unknown argument "${arg}" (scenarios: ${SCENARIOS.join(", ")}; flags: --rounds=N --b1-events=N --b1e-events=N --b2-events=N --b3-rate=N --b3-seconds=N --b6-agents=N --fleet-rate=N --fleet-seconds=N --session-timeout-ms=N --ingestion-events=N --profile)`,
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

function kafkajsVersion(): string {
  const pkg = JSON.parse(readFileSync(require.resolve("kafkajs/package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

function markdown(
  stamp: string,
  env: Record<string, unknown>,
  args: Args,
  rows: Row[],
  notes: string[],
): string {
  return [
    `# Benchmark results — ${stamp}`,
    "",
    `Scenarios ${args.scenarios.join(", ")}, ${args.rounds} rounds each (medians; ranges in parentheses are run to run).`,
    `Commit ${String(env.commit)}${env.dirty ? " (uncommitted changes)" : ""} (engine sources ${String(env.engineSources)}), Node ${String(env.node)}, kafkajs ${String(env.kafkajs)},`,
    `Kafka ${String(env.kafka)}, ${String(env.cpus)} × ${String(env.cpuModel)}, load average at start ${String(env.loadavgStart)}.`,
    "",
    markdownTable(rows),
    "",
    ...notes.map((note) => `- ${note}`),
    "",
  ].join("\n");
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
  const ctx = new BenchContext(stack.connection, profileDir);

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
    kafkajs: kafkajsVersion(),
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
  };
  const outcomes: ScenarioOutcome[] = [];
  let failure: unknown;
  try {
    await ctx.start();
    for (const id of args.scenarios) {
      console.log(`\n== ${id} ==`);
      if (id === "B1") outcomes.push(await runB1(ctx, { events: args.b1Events, rounds: args.rounds }));
      if (id === "B1E")
        outcomes.push(
          await runB1e(ctx, { events: args.b1eEvents, rounds: args.rounds, profileDir: ctx.profileDir }),
        );
      if (id === "B2") outcomes.push(await runB2(ctx, { events: args.b2Events, rounds: args.rounds }));
      if (id === "INGESTION")
        outcomes.push(await runIngestion(ctx, { events: args.ingestionEvents, rounds: args.rounds }));
      if (id === "B3")
        outcomes.push(
          await runB3(ctx, { rate: args.b3Rate, durationMs: args.b3Seconds * 1000, rounds: args.rounds }),
        );
      const fleet = {
        rate: args.fleetRate,
        seconds: args.fleetSeconds,
        sessionTimeoutMs: args.sessionTimeoutMs,
      };
      if (id === "B4") outcomes.push(await runB4(ctx, fleet));
      if (id === "B5") outcomes.push(await runB5(ctx, fleet));
      if (id === "B6") outcomes.push(await runB6(ctx, { agents: args.b6Agents }));
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
  const notes = [
    "ratio: measured ÷ baseline (medians); in parentheses the range of the per-round ratios.",
    "B1 baseline: a bare kafkajs consumer with the engine's commit policy (eachBatch, autoCommit off, last offset + 1 committed every 1 s), separate group, same topic, same records.",
    "B1 steady state: completions between the 10th and 90th percentile ÷ the time between them; end to end: all events ÷ (consumer start → last handler done).",
    "B1 context row: the same baseline plus JSON.parse of each value, i.e. the least any consumer of JSON events pays; ratio = engine ÷ it. No target.",
    "B2: the ratio is to the ideal 2,560 ev/s; the kafkajs eachMessage row is context (ratio there = engine ÷ kafkajs).",
    "INGESTION: real coordinator processes; results/s = catch-up of a pre-filled task-events backlog (first → last result in Postgres); the note gives last produce → all stored for a live burst; baselines are the old one-upsert-per-event path and the batch statement from the bench process (bench/README.md).",
    "B1e: the CLI-started worker process vs the engine alone over the same records, both first → last callback; no coordinator ran.",
    "B3: publish → callback start, publish time in the event, producer in the consumer's process; ratio = bare kafkajs eachMessage (+ JSON.parse) ÷ engine, so above 1 means the engine is faster. Absolute targets: p50 ≤ 5 ms, p99 ≤ 25 ms.",
    "B4/B5: CLI-started workers; loss counted exactly over every worker's record of handled indexes; B5 recovery compared with the configured session timeout.",
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
    scenarios: Object.fromEntries(outcomes.map((outcome) => [outcome.id, outcome.details])),
  };
  writeAtomically(join(RESULTS, `${stamp}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeAtomically(join(RESULTS, "latest.md"), markdown(stamp, env, args, rows, notes));
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
