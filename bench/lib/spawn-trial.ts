import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type {
  LatencyMessage,
  LatencyResult,
  LatencySpec,
  ProbeMessage,
  ProbeResult,
  ProbeSpec,
  TrialMessage,
  TrialResult,
  TrialSpec,
} from "./types";
import { raceDeadline } from "@omnidaemon/lifecycle";

const ROOT = join(__dirname, "..", "..");
const TRIAL = join(__dirname, "trial.ts");
const LATENCY_TRIAL = join(__dirname, "latency-trial.ts");
const CLIENT_PROBE = join(__dirname, "client-probe.ts");

/** Children still running; main.ts kills these (by pid) when the bench is interrupted. */
export const liveChildren = new Set<ChildProcess>();

/** Asks every running trial to stop (SIGTERM: it stops its consumer cleanly) and waits for them to exit. */
export async function stopChildren(timeoutMs = 20_000): Promise<void> {
  const exits = [...liveChildren].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  );
  await raceDeadline(Promise.all(exits), timeoutMs);
  for (const child of liveChildren) child.kill("SIGKILL");
}

export interface SpawnOptions {
  /** Directory for a V8 CPU profile of this child (node --cpu-prof), or undefined for none. */
  cpuProfDir?: string;
}

/** Runs one trial in a fresh Node process (tsx loads the TypeScript sources) and returns its result. */
export function runTrial(spec: TrialSpec, options: SpawnOptions = {}): Promise<TrialResult> {
  return runChild<TrialMessage, TrialResult>(TRIAL, spec, options);
}

/** Runs one B3 latency trial (bench/lib/latency-trial.ts) in a fresh Node process. */
export function runLatencyTrial(spec: LatencySpec, options: SpawnOptions = {}): Promise<LatencyResult> {
  return runChild<LatencyMessage, LatencyResult>(
    LATENCY_TRIAL,
    { ...spec, timeoutMs: spec.durationMs + 90_000 },
    options,
  );
}

/** Runs the client probe (bench/lib/client-probe.ts) in a fresh Node process. */
export function runClientProbe(spec: ProbeSpec): Promise<ProbeResult> {
  return runChild<ProbeMessage, ProbeResult>(CLIENT_PROBE, spec, {});
}

function runChild<M extends { type: "result"; result: R } | { type: "error"; message: string }, R>(
  script: string,
  spec: { label: string; timeoutMs: number },
  options: SpawnOptions,
): Promise<R> {
  const nodeArgs = [
    ...(options.cpuProfDir === undefined
      ? []
      : [
          "--cpu-prof",
          "--cpu-prof-dir",
          options.cpuProfDir,
          "--cpu-prof-name",
          `${slug(spec.label)}.cpuprofile`,
        ]),
    "--import",
    "tsx",
    script,
    JSON.stringify(spec),
  ];
  return new Promise<R>((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    liveChildren.add(child);
    let message: M | undefined;
    // The child must finish within its own timeout; this is the backstop if it hangs while closing.
    const killTimer = setTimeout(() => {
      process.stderr.write(`bench: ${spec.label} did not exit in time; killing pid ${child.pid}\n`);
      child.kill("SIGKILL");
    }, spec.timeoutMs + 60_000);
    child.on("message", (received: M) => {
      message = received;
    });
    child.on("error", (error) => {
      clearTimeout(killTimer);
      liveChildren.delete(child);
      reject(error);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(killTimer);
      liveChildren.delete(child);
      if (message?.type === "result") resolve(message.result);
      else if (message?.type === "error") reject(new Error(`${spec.label} failed: ${message.message}`));
      else reject(new Error(`${spec.label} exited (code ${code}, signal ${signal}) without a result`));
    });
  });
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}
