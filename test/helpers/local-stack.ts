// The local stack (scripts/stack.sh) as tests drive it: whether the services under test are the stack's own (so a
// test may stop and restart them), and its commands — `stop|start|restart kafka|postgres [--kill]` keep the data.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");
const STACK_SCRIPT = join(ROOT, "scripts", "stack.sh");
const STACK_ENV_FILE = join(ROOT, ".stack", "env");

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
export function stackCommand(...args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn("bash", [STACK_SCRIPT, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolveRun();
      else reject(new Error(`scripts/stack.sh ${args.join(" ")} failed (exit code ${code}):\n${output}`));
    });
  });
}
