// The CLI's own helpers for its integration suites, on top of @omnidaemon/testkit: the BUILT binary
// (packages/cli/dist/bin.js; `npm run build` first) run as a subprocess against a real coordinator, itself started as
// a subprocess through the same binary (testkit's startCoordinatorProcess), on real Kafka and Postgres. Each suite has
// its own Postgres schema, topics and agents, and removes them.
//
// Isolation caveat (as in apps/coordinator/test/support.ts): the coordinator's task-events consumer group is a fixed
// name, so another coordinator on the same broker may take task events meant for ours. reportTaskEvent() therefore
// writes to a partition assigned to *our* coordinator (found by its unique Kafka client id).
import { spawn } from "node:child_process";
import { COORDINATOR_GROUP, SYSTEM_TOPICS, taskEventRecord } from "@omnidaemon/bus-kafka";
import type { TaskEvent } from "@omnidaemon/protocol";
import {
  CLI,
  KafkaLeftovers,
  ROOT,
  childEnv,
  delay,
  httpRequest,
  runProcess,
  withBusAdmin,
  withProducer,
  type RunOptions,
  type RunResult,
} from "@omnidaemon/testkit";

export const TOKEN = "cli-integration-token-0123456789";

export type CliOptions = Pick<RunOptions, "input" | "timeoutMs" | "onStderr"> & {
  /** Replaces the default environment (URL and token of the suite's coordinator). */
  env?: Record<string, string | undefined>;
};

/** Runs `omnidaemon <args>` (the built binary) in a clean environment and resolves with its exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: CliOptions = {},
): Promise<RunResult> {
  const { env: replaced, ...run } = options;
  return runProcess(process.execPath, [CLI, ...args], { ...run, env: childEnv(replaced ?? env) });
}

/**
 * Runs the binary on a pseudo-terminal (util-linux `script`), so stdin and stdout are TTYs: for the confirmation
 * question and colours. `input` is typed after a short pause. Output has \r\n line ends.
 */
export function runOnTerminal(
  args: string[],
  env: Record<string, string | undefined>,
  input = "",
): Promise<RunResult> {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(" ");
  return new Promise<RunResult>((resolveRun, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    // Typed once the question is on screen (the prompt ends with "[y/N] ").
    const typeWhenAsked = setInterval(() => {
      if (input !== "" && stdout.includes("[y/N]")) {
        child.stdin.write(input);
        input = "";
      }
    }, 20);
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(typeWhenAsked);
      clearTimeout(timer);
      child.stdin.destroy();
      resolveRun({ code, stdout, stderr });
    });
  });
}

export function hasScript(): Promise<boolean> {
  return new Promise((resolveHas) => {
    const child = spawn("script", ["--version"], { stdio: "ignore" });
    child.once("error", () => resolveHas(false));
    child.once("close", (code) => resolveHas(code === 0));
  });
}

/** A request to the API with the suite's token, for setting up what the CLI then reads. */
export async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
): Promise<{ status: number; body: any }> {
  const answer = await httpRequest(`${url}${path}`, method, { json: body, token: TOKEN });
  return { status: answer.status, body: answer.text ? answer.body : null };
}

/** Partitions of the task-events topic assigned to the coordinator whose Kafka client id is `clientId`. */
export async function partitionsOf(clientId: string): Promise<number[]> {
  return withBusAdmin(async (admin) => {
    const group = await admin.describeGroup(COORDINATOR_GROUP);
    return group.members
      .filter((member) => member.clientId === clientId)
      .flatMap((member) => member.assignments[SYSTEM_TOPICS.taskEvents] ?? []);
  });
}

/**
 * Reports task events as a worker does, to a partition our coordinator consumes, and waits until `settled` says
 * the coordinator has them; a rebalance in between (another coordinator on the broker) is retried.
 */
export async function reportTaskEvents(
  coordinatorClientId: string,
  events: TaskEvent[],
  settled: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  await withProducer(async (producer) => {
    for (;;) {
      const partitions = await partitionsOf(coordinatorClientId);
      const partition = partitions[0];
      if (partition !== undefined) {
        for (const event of events) await producer.send({ ...taskEventRecord(event), partition });
        const until = Date.now() + 5_000;
        while (Date.now() < until) {
          if (await settled()) return;
          await delay(100);
        }
      }
      if (Date.now() > deadline)
        throw new Error("the coordinator did not ingest the task events within 30 s");
      await delay(500);
    }
  });
}

/** Removes what a suite made on the broker: agents' topics (main, retry, DLQ), groups and control records. */
export async function cleanKafka(agents: Array<{ topic: string; agent: string }>): Promise<void> {
  const leftovers = new KafkaLeftovers();
  for (const { topic, agent } of agents) leftovers.agent(topic, agent);
  await leftovers.clean();
}
