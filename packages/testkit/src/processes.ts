// Child processes in tests: the built apps, fixtures run through tsx, scripts. `Proc` starts one and keeps its output
// (bounded) for waits and failure messages; `runProcess` runs one to its end. Every Proc still running is known, so a
// suite's afterEach/afterAll can stop what its tests left (`stopWorkers`, `stopAll`).
import { spawn, type ChildProcess } from "node:child_process";
import { raceDeadline, TIMED_OUT } from "@omnidaemon/lifecycle";
import { kafkaClient } from "./services";
import { ROOT } from "./root";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcOptions {
  /** The whole environment of the child (see {@link childEnv}). */
  env: NodeJS.ProcessEnv;
  /** @default process.execPath (node) */
  command?: string;
  /** @default the repository's root */
  cwd?: string;
  /**
   * Its own process group, so {@link Proc.signalGroup} reaches what it launched (the CLI's app, npx's shell) too,
   * while {@link Proc.term} signals the child alone. @default true
   */
  detached?: boolean;
  /** What {@link stopWorkers} and {@link stopAll} sort by: workers stop first (they deregister). */
  role?: "coordinator" | "worker" | "other";
}

const OUTPUT_CAP = 1 << 20;
const live = new Set<Proc>();

/**
 * A clean environment for a child: nothing from the developer's shell leaks in (API tokens, NODE_OPTIONS, stray
 * OMNIDAEMON_*) but PATH, HOME, TMPDIR, LANG and the Kafka client the suite runs on, so a child coordinator or worker
 * is on the same driver as the test. Entries of `extra` that are undefined are left out.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { OMNIDAEMON_KAFKA_CLIENT: kafkaClient(), HOME: process.env.HOME ?? "/tmp" };
  for (const name of ["PATH", "TMPDIR", "LANG"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

/** A child process whose stdout and stderr are kept (the last MiB of each) for waits and diagnostics. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly role: NonNullable<ProcOptions["role"]>;
  exit: Exit | undefined;
  stdout = "";
  stderr = "";
  private readonly lineListeners = new Set<(line: string) => void>();
  private partial = "";

  constructor(
    readonly label: string,
    args: string[],
    options: ProcOptions,
  ) {
    this.role = options.role ?? "other";
    this.child = spawn(options.command ?? process.execPath, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env,
      detached: options.detached ?? true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this);
    this.child.stdout?.setEncoding("utf8");
    this.child.stderr?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      this.stdout = keepTail(this.stdout + chunk);
      const lines = (this.partial + chunk).split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) for (const listener of this.lineListeners) listener(line);
    });
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr = keepTail(this.stderr + chunk);
    });
    this.exited = new Promise((resolveExit) => {
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolveExit(this.exit);
      });
    });
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.label} has no pid (spawn failed)`);
    return pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The first whole stdout line `match` accepts (already printed or still to come), waiting up to `timeoutMs`. */
  waitForLine<T>(what: string, match: (line: string) => T | undefined, timeoutMs = 30_000): Promise<T> {
    for (const line of this.stdout.split("\n")) {
      const found = match(line);
      if (found !== undefined) return Promise.resolve(found);
    }
    return new Promise((resolveLine, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.lineListeners.delete(listener);
      };
      const listener = (line: string): void => {
        const found = match(line);
        if (found === undefined) return;
        cleanup();
        resolveLine(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.label}: no "${what}" line within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      this.lineListeners.add(listener);
      void this.exited.then((exit) => {
        if (!this.lineListeners.has(listener)) return;
        cleanup();
        reject(new Error(`${this.label} exited (${JSON.stringify(exit)}) before "${what}"\n${this.tail()}`));
      });
    });
  }

  /** The first stdout line that is a JSON log entry (pino) matching `match`, waiting for it. */
  waitForLog(
    what: string,
    match: (entry: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    return this.waitForLine(
      what,
      (line) => {
        const entry = jsonObject(line);
        return entry !== undefined && match(entry) ? entry : undefined;
      },
      timeoutMs,
    );
  }

  /** SIGTERM to the child only (the CLI forwards it to the app once, as a container runtime signals PID 1). */
  term(): void {
    this.signal("SIGTERM");
  }

  /** A signal to the child only. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** A signal to the whole process group (the child and what it launched); needs `detached`. */
  signalGroup(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }

  async waitExit(timeoutMs: number): Promise<Exit> {
    const exit = await raceDeadline(this.exited, timeoutMs);
    if (exit === TIMED_OUT)
      throw new Error(`${this.label} did not exit within ${timeoutMs} ms\n${this.tail()}`);
    return exit;
  }

  /** SIGTERM, bounded by `graceMs`, then SIGKILL to the group. Never throws. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.term();
    try {
      await this.waitExit(graceMs);
    } catch {
      this.signalGroup("SIGKILL");
      // A child without a group of its own is not reached by signalGroup.
      if (this.running) this.child.kill("SIGKILL");
      await this.exited;
    }
  }

  tail(chars = 6000): string {
    return `--- ${this.label} stdout (tail) ---\n${this.stdout.slice(-chars)}\n--- ${this.label} stderr (tail) ---\n${this.stderr.slice(-chars)}`;
  }
}

function keepTail(text: string): string {
  return text.length > OUTPUT_CAP ? text.slice(-OUTPUT_CAP / 2) : text;
}

function jsonObject(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Stops every worker still running: SIGTERM, then SIGKILL after `graceMs`. For afterEach. */
export async function stopWorkers(graceMs = 15_000): Promise<void> {
  await Promise.all([...live].filter((p) => p.role === "worker").map((proc) => proc.stop(graceMs)));
}

/** Stops every child still running, workers first (they deregister from the coordinator). For afterAll. */
export async function stopAll(graceMs = 15_000): Promise<void> {
  await stopWorkers(graceMs);
  await Promise.all([...live].map((proc) => proc.stop(graceMs)));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** @default the repository's root */
  cwd?: string;
  /** Written to stdin, which is a pipe (not a terminal) either way. */
  input?: string;
  /** SIGKILL after this long; the result then has a null code. @default 30000 */
  timeoutMs?: number;
  /** Called with each chunk of stderr while the command runs. */
  onStderr?: (text: string) => void;
}

/** Runs `command args` to its end and resolves with its exit code and output (rejects only if it cannot start). */
export function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise<RunResult>((resolveRun, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      options.onStderr?.(text);
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}
