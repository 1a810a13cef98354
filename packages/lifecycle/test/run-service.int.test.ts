import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

const PACKAGE_DIR = path.join(__dirname, "..");
const FIXTURE = path.join(__dirname, "fixtures", "service-app.ts");
// Generous: the first run of tsx compiles the fixture; every wait is still bounded.
const WAIT_MS = 20_000;

/** The fixture running as a real process, its stdout collected line by line. */
class App {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child: ChildProcess;
  #onLine: (() => void) | undefined;

  constructor(scenario: string) {
    this.#child = spawn(process.execPath, ["--import", "tsx", FIXTURE, scenario], {
      cwd: PACKAGE_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) =>
      this.#child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const collect = (stream: NodeJS.ReadableStream) =>
      createInterface({ input: stream }).on("line", (line) => {
        this.lines.push(line);
        this.#onLine?.();
      });
    collect(this.#child.stdout!);
    collect(this.#child.stderr!);
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Resolves once a line equal to `line` has been printed. */
  waitForLine(line: string): Promise<void> {
    const printed = new Promise<void>((resolve) => {
      const check = () => {
        if (this.lines.includes(line)) resolve();
      };
      this.#onLine = check;
      check();
    });
    return this.#bounded(`line "${line}"`, printed);
  }

  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#bounded("exit", this.exited);
  }

  /** The lines the services printed, without the log lines. */
  get journal(): string[] {
    return this.lines.filter((line) => /^(start|stop) /.test(line));
  }

  /** The JSON log lines whose message is `msg`. */
  logs(msg: string): Record<string, unknown>[] {
    return this.lines
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === msg);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child.kill("SIGKILL");
    await this.exited;
  }

  async #bounded<T>(what: string, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no ${what} within ${WAIT_MS} ms; output:\n${this.lines.join("\n")}`)),
        WAIT_MS,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

describe("runService in a real process", () => {
  let app: App | undefined;

  afterEach(async () => {
    await app?.kill();
    app = undefined;
  });

  it.each(["SIGTERM", "SIGINT"] as const)(
    "on %s stops services in reverse order and exits 0",
    async (signal) => {
      app = new App("graceful");
      await app.waitForLine("ready");

      app.signal(signal);

      expect(await app.waitForExit()).toEqual({ code: 0, signal: null });
      expect(app.journal).toEqual(["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
    },
  );

  it("exits 124 when a stop hangs past shutdownTimeoutMs, and names the service that did not stop", async () => {
    app = new App("hanging-stop");
    await app.waitForLine("ready");

    app.signal("SIGTERM");

    expect(await app.waitForExit()).toEqual({ code: 124, signal: null });
    expect(app.journal).toEqual(["start a", "start stuck", "start c", "stop c", "stop stuck"]);
    expect(app.logs("shutdown deadline expired, forcing exit")).toEqual([
      expect.objectContaining({ stopping: ["stuck"], pending: ["a"] }),
    ]);
  });

  it("exits 130 on a second SIGTERM during a slow shutdown", async () => {
    app = new App("slow-stop");
    await app.waitForLine("ready");

    app.signal("SIGTERM");
    await app.waitForLine("stop slow");
    app.signal("SIGTERM");

    expect(await app.waitForExit()).toEqual({ code: 130, signal: null });
    expect(app.logs("second signal during shutdown, forcing exit")).toEqual([
      expect.objectContaining({ signal: "SIGTERM", stopping: ["slow"], pending: ["a"] }),
    ]);
  });

  it("when build() throws, stops the services started before it and exits 1", async () => {
    app = new App("failing-start");

    expect(await app.waitForExit()).toEqual({ code: 1, signal: null });
    expect(app.journal).toEqual(["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
    expect(app.logs("build failed, rolling back")).toEqual([
      expect.objectContaining({ err: "c cannot connect" }),
    ]);
    expect(app.lines).not.toContain("ready");
  });
});
