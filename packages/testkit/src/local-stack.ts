// The local stack (scripts/stack.sh) as tests drive it: whether the services under test are the stack's own (so a
// test may stop and restart them), and its commands — `stop|start|restart kafka|postgres [--kill]` keep the data
// (SIGTERM is Kafka's controlled shutdown; the pid files stay right, so `npm run stack -- down` still stops them).
// Works in the stack's secure mode too.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "./processes";
import { ROOT } from "./root";
import { kafkaBrokers } from "./services";
import { delay } from "./wait";

const STACK_SCRIPT = join(ROOT, "scripts", "stack.sh");
const STACK_ENV_FILE = join(ROOT, ".stack", "env");

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script of the repository
const { waitForKafka } = require("../../../scripts/wait-kafka.js") as {
  waitForKafka: (options: { brokers: string[]; timeoutMs: number }) => Promise<unknown>;
};

/** What `.stack/env` names, when the stack is up. */
function stackServices(): { brokers?: string; database?: string } {
  const env = existsSync(STACK_ENV_FILE) ? readFileSync(STACK_ENV_FILE, "utf8") : "";
  return {
    brokers: /^export OMNIDAEMON_KAFKA_BROKERS=(.*)$/m.exec(env)?.[1],
    database: /^export OMNIDAEMON_DATABASE_URL=(.*)$/m.exec(env)?.[1],
  };
}

/**
 * True when the stack is up and the tests use its services (not testcontainers or someone else's cluster), so
 * stopping and restarting them through the script is safe.
 */
export function onLocalStack(env: NodeJS.ProcessEnv = process.env): boolean {
  const status = spawnSync("bash", [STACK_SCRIPT, "status"], { cwd: ROOT, stdio: "ignore" }).status;
  const { brokers, database } = stackServices();
  return status === 0 && brokers === env.OMNIDAEMON_KAFKA_BROKERS && database === env.OMNIDAEMON_DATABASE_URL;
}

/** `bash scripts/stack.sh <args>`, without blocking the event loop (load and watchers keep running meanwhile). */
export async function stackCommand(...args: string[]): Promise<void> {
  const { code, stdout, stderr } = await runProcess("bash", [STACK_SCRIPT, ...args], { timeoutMs: 300_000 });
  if (code !== 0) {
    throw new Error(`scripts/stack.sh ${args.join(" ")} failed (exit code ${code}):\n${stdout}${stderr}`);
  }
}

/** Stops the local stack's broker (SIGTERM: Kafka's controlled shutdown) and waits until it has exited. */
export async function stopLocalBroker(): Promise<void> {
  if (!onLocalStack()) throw new Error("the tests do not run against the local stack's broker");
  await stackCommand("stop", "kafka");
}

/** Starts the broker stopped by `stopLocalBroker`, with its data, and waits until it serves. */
export async function startLocalBroker(): Promise<void> {
  await stackCommand("start", "kafka");
  await waitForKafka({ brokers: kafkaBrokers(), timeoutMs: 90_000 });
}

/** Stops the broker, keeps it down for `downMs`, starts it again and waits until it serves. */
export async function restartLocalBroker(downMs = 0): Promise<void> {
  await stopLocalBroker();
  if (downMs > 0) await delay(downMs);
  await startLocalBroker();
}
