// A real worker process for the bench, started the way users start it: `node packages/cli/dist/bin.js worker
// --agents <module>` (needs `npm run build`). The CLI loads the app in its own process (launch-app.ts); `appPid()`
// still looks for a child first, in case a launcher ever forks.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { request } from "node:http";
import net from "node:net";
import { join } from "node:path";
import type { KafkaClientName } from "@omnidaemon/bus-kafka";
import { clientEnv } from "./clients";
import { childPids, rssBytes } from "./proc";
import { sleep } from "@omnidaemon/lifecycle";

const ROOT = join(__dirname, "..", "..");
const CLI = join(ROOT, "packages", "cli", "dist", "bin.js");
const COUNTING_FIXTURE = join(ROOT, "bench", "fixtures", "counting-agents.js");
const MiB = 1024 * 1024;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export class WorkerProcess {
  readonly startedAt = Date.now();
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  private constructor(
    modulePath: string,
    brokers: string[],
    readonly client: KafkaClientName,
    readonly probePort: number,
    env: Record<string, string>,
    nodeArgs: string[],
  ) {
    this.child = spawn(process.execPath, [...nodeArgs, CLI, "worker", "--agents", modulePath], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        NODE_OPTIONS: "",
        OMNIDAEMON_KAFKA_BROKERS: brokers.join(","),
        // No coordinator: a worker starts, processes and stops without one (it is not on the data path).
        OMNIDAEMON_COORDINATOR_URL: process.env.BENCH_COORDINATOR_URL ?? "http://127.0.0.1:9",
        OMNIDAEMON_METRICS_PORT: String(probePort),
        OMNIDAEMON_LOG_LEVEL: "warn",
        ...env,
        // Last: the client under test wins over an OMNIDAEMON_KAFKA_CLIENT in the bench's own environment.
        ...clientEnv(client),
      },
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  /** Spawns `omnidaemon worker --agents <modulePath>` on the Kafka client `client` (OMNIDAEMON_KAFKA_CLIENT). */
  static async start(
    modulePath: string,
    brokers: string[],
    client: KafkaClientName,
    env: Record<string, string>,
    nodeArgs: string[] = [],
  ): Promise<WorkerProcess> {
    return new WorkerProcess(modulePath, brokers, client, await freePort(), env, nodeArgs);
  }

  /** Waits for /readyz 200 (every active agent a member of its group); returns ms since spawn. */
  async ready(timeoutMs: number): Promise<number> {
    while ((await httpStatus(this.probePort, "/readyz")) !== 200) {
      if (this.child.exitCode !== null) throw new Error("worker exited before it was ready");
      if (Date.now() - this.startedAt > timeoutMs) throw new Error(`worker not ready within ${timeoutMs} ms`);
      await sleep(50);
    }
    return Date.now() - this.startedAt;
  }

  /** The worker app's pid (the CLI's child), else the CLI's. */
  appPid(): number {
    return childPids(this.child.pid as number)[0] ?? (this.child.pid as number);
  }

  /** The process id the CLI runs as (the worker app runs inside it). */
  get pid(): number {
    return this.child.pid as number;
  }

  /** `kill -9`: no drain, no commit, no leaving the group. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM (graceful), SIGKILL after 60 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 60_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface WorkerRun {
  label: string;
  handled: number;
  duplicates: number;
  /** Records ÷ (first callback → last callback). */
  rate: number;
  readyMs: number;
  peakRssMiB: number;
}

/**
 * One worker process running bench/fixtures/counting-agents.js over a pre-loaded topic until its agent has seen
 * `events` unique records (B1e, B2 through the worker). Peak RSS is sampled every 100 ms.
 */
export async function runCountingWorker(options: {
  brokers: string[];
  client: KafkaClientName;
  topic: string;
  agent: string;
  events: number;
  label: string;
  profileDir?: string | undefined;
  handlerDelayMs?: number;
  concurrency?: number;
  /** Fleet-wide limit keys added to the agent's config (docs/rate-limits.md). */
  limits?: Record<string, unknown>;
}): Promise<WorkerRun> {
  const dir = mkdtempSync(join(tmpdir(), "bench-worker-"));
  const doneFile = join(dir, "done.json");
  const worker = await WorkerProcess.start(
    COUNTING_FIXTURE,
    options.brokers,
    options.client,
    {
      BENCH_TOPIC: options.topic,
      BENCH_AGENT: options.agent,
      BENCH_EXPECTED: String(options.events),
      BENCH_DONE_FILE: doneFile,
      BENCH_DELAY_MS: String(options.handlerDelayMs ?? 0),
      ...(options.concurrency === undefined ? {} : { BENCH_CONCURRENCY: String(options.concurrency) }),
      ...(options.limits === undefined ? {} : { BENCH_LIMITS: JSON.stringify(options.limits) }),
    },
    options.profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`],
  );
  try {
    const readyMs = await worker.ready(120_000);
    let peak = 0;
    const deadline = Date.now() + 600_000;
    for (;;) {
      peak = Math.max(peak, rssBytes(worker.appPid()) ?? 0);
      try {
        const done = JSON.parse(readFileSync(doneFile, "utf8")) as {
          firstAt: number;
          lastAt: number;
          handled: number;
          duplicates: number;
        };
        return {
          label: options.label,
          handled: done.handled,
          duplicates: done.duplicates,
          rate: done.handled / (Math.max(1, done.lastAt - done.firstAt) / 1000),
          readyMs,
          peakRssMiB: peak / MiB,
        };
      } catch {
        if (Date.now() > deadline) throw new Error(`${options.label}: not every record handled within 600 s`);
        await sleep(100);
      }
    }
  } finally {
    await worker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
