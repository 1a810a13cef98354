// Restarts the local stack's Kafka broker (scripts/stack.sh) from a test, keeping its data: the pid and the exact
// command line are read from .stack/, the broker gets SIGTERM (Kafka's controlled shutdown) and is started again
// with the same command, and .stack/kafka/pid is updated so `npm run stack -- down` still stops it.
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, readlinkSync, writeFileSync, closeSync } from "node:fs";
import { join, resolve } from "node:path";
import { kafkaBrokers } from "../../../test/helpers";

const ROOT = resolve(__dirname, "..", "..", "..");
const PID_FILE = join(ROOT, ".stack", "kafka", "pid");
const LOG_FILE = join(ROOT, ".stack", "logs", "kafka.log");

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForKafka } = require("../../../scripts/wait-kafka.js") as {
  waitForKafka: (options: { brokers: string[]; timeoutMs: number }) => Promise<unknown>;
};

interface BrokerProcess {
  pid: number;
  argv: string[];
  cwd: string;
}

function commandOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** The local stack's broker, when the tests run against it (not testcontainers or someone else's cluster). */
export function localBroker(): BrokerProcess | undefined {
  if (!existsSync(PID_FILE)) return undefined;
  const pid = Number(readFileSync(PID_FILE, "utf8").trim());
  const argv = commandOf(pid);
  const properties = argv.at(-1);
  if (argv.at(-2) !== "kafka.Kafka" || properties === undefined || !existsSync(properties)) return undefined;
  const port = /^advertised\.listeners=PLAINTEXT:\/\/127\.0\.0\.1:(\d+)$/m.exec(
    readFileSync(properties, "utf8"),
  )?.[1];
  if (!kafkaBrokers().includes(`127.0.0.1:${port}`)) return undefined;
  return { pid, argv, cwd: readlinkSync(`/proc/${pid}/cwd`) };
}

async function exited(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A zombie keeps its /proc entry with an empty command line until its parent reaps it: that counts as gone.
  while (commandOf(pid).length > 0) {
    if (Date.now() > deadline) throw new Error(`the broker (pid ${pid}) did not exit within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Stops the broker (SIGTERM: Kafka's controlled shutdown); returns how to start it again with its data. */
export async function stopLocalBroker(): Promise<BrokerProcess> {
  const broker = localBroker();
  if (!broker) throw new Error("the tests do not run against the local stack's broker");
  process.kill(broker.pid, "SIGTERM");
  await exited(broker.pid, 60_000);
  return broker;
}

/** Starts a broker stopped by `stopLocalBroker` with the same command and waits until it serves. */
export async function startLocalBroker(broker: BrokerProcess): Promise<void> {
  const log = openSync(LOG_FILE, "a");
  const [command, ...args] = broker.argv as [string, ...string[]];
  const child = spawn(command, args, { cwd: broker.cwd, detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(PID_FILE, `${child.pid}\n`);
  await waitForKafka({ brokers: kafkaBrokers(), timeoutMs: 90_000 });
}

/** Stops the broker, keeps it down for `downMs`, starts it again and waits until it serves. */
export async function restartLocalBroker(downMs = 0): Promise<void> {
  const broker = await stopLocalBroker();
  if (downMs > 0) await new Promise((done) => setTimeout(done, downMs));
  await startLocalBroker(broker);
}
