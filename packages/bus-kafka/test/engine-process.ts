// Starts test/fixtures/engine-process.ts as a child process and follows what its callbacks ran.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./support";

export interface EngineProcessSettings {
  topic: string;
  agent: string;
  outFile: string;
  handlerDelayMs?: number;
  /** A file holding the callback's delay in ms, read on every run. */
  handlerDelayFile?: string;
  maxBufferedRecords?: number;
  concurrency?: number;
  maxRetries?: number;
  sessionTimeoutMs?: number;
}

export class EngineProcess {
  readonly child: ChildProcess;
  private output = "";

  constructor(readonly settings: EngineProcessSettings) {
    this.child = spawn(
      process.execPath,
      ["--import", "tsx", join(__dirname, "fixtures", "engine-process.ts")],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, OMNI_TEST_ENGINE: JSON.stringify(settings) },
      },
    );
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
      // The process's logs (TEST_LOG_LEVEL), kept next to its runs for a look after a failure.
      appendFileSync(`${settings.outFile}.stdout`, chunk);
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stdout(): string {
    return this.output;
  }

  async ready(): Promise<void> {
    await waitFor("the engine process to join its group", () => {
      if (!this.alive)
        throw new Error(`the engine process exited (${this.child.exitCode ?? this.child.signalCode})`);
      return this.output.includes("ready");
    });
  }

  /** Every callback run so far: task id and attempt. */
  runs(): Array<{ id: string; attempt: number }> {
    if (!existsSync(this.settings.outFile)) return [];
    return readFileSync(this.settings.outFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id, attempt] = line.split(" ");
        return { id: id as string, attempt: Number(attempt) };
      });
  }

  /** The engine's buffered-record count, sampled every 100 ms. */
  bufferedSamples(): Array<{ at: number; buffered: number }> {
    const file = `${this.settings.outFile}.status`;
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [at, buffered] = line.split(" ").map(Number);
        return { at: at as number, buffered: buffered as number };
      });
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (!this.alive) return this.child.exitCode;
    const exit = new Promise<number | null>((resolve) => this.child.once("exit", (code) => resolve(code)));
    this.child.kill(signal);
    return exit;
  }
}
