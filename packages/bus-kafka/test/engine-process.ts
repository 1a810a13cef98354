// Starts test/fixtures/engine-process.ts as a child process (testkit's Proc) and follows what its callbacks ran.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Proc } from "@omnidaemon/testkit";

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
  readonly proc: Proc;

  constructor(readonly settings: EngineProcessSettings) {
    this.proc = new Proc(
      "the engine process",
      ["--import", "tsx", join(__dirname, "fixtures", "engine-process.ts")],
      {
        env: { ...process.env, OMNI_TEST_ENGINE: JSON.stringify(settings) },
        detached: false,
      },
    );
    // The process's logs (TEST_LOG_LEVEL), kept next to its runs for a look after a failure.
    this.proc.child.stdout?.on("data", (chunk: string) =>
      appendFileSync(`${settings.outFile}.stdout`, chunk),
    );
  }

  get alive(): boolean {
    return this.proc.running;
  }

  get stdout(): string {
    return this.proc.stdout;
  }

  /** Waits until the engine joined its group (its "ready" line); rejects at once if the process exits first. */
  async ready(): Promise<void> {
    await this.proc.waitForLine("ready", (line) => (line.includes("ready") ? true : undefined));
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

  /** Sends `signal` and resolves with the exit code once the process is gone. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    this.proc.signal(signal);
    return (await this.proc.exited).code;
  }
}
