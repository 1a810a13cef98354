import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadKafkaEnv, type KafkaConnection } from "@omnidaemon/bus-kafka";

const ROOT = join(__dirname, "..", "..");
const STACK_SH = join(ROOT, "scripts", "stack.sh");
const ENV_FILE = join(ROOT, ".stack", "env");

export interface Stack {
  brokers: string[];
  /** From the `OMNIDAEMON_KAFKA_*` variables (TLS, SASL…), parsed by the apps' own schema. Holds secrets. */
  connection: KafkaConnection;
  /** True when this run started the local stack, so it stops it again at the end. */
  startedHere: boolean;
  kafkaVersion: string | undefined;
}

function stackCommand(command: "up" | "down" | "status", quiet: boolean): { code: number; output: string } {
  const result = spawnSync("bash", [STACK_SH, command], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", quiet ? "pipe" : "inherit", quiet ? "pipe" : "inherit"],
  });
  if (result.error) throw result.error;
  return { code: result.status ?? 1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/** `export NAME=value` lines of .stack/env into process.env (what `source .stack/env` does). */
function sourceEnvFile(): void {
  for (const line of readFileSync(ENV_FILE, "utf8").split("\n")) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1] as string] = match[2] as string;
  }
}

/**
 * Kafka from the OMNIDAEMON_KAFKA_* variables (docs/configuration.md); when OMNIDAEMON_KAFKA_BROKERS is unset, from the local stack (scripts/stack.sh), started if
 * needed. The stack is stopped afterwards (`releaseStack`) only if this run started it from nothing: a stack that
 * was (even partly) up belongs to someone else.
 */
export function acquireStack(): Stack {
  let startedHere = false;
  if (!process.env.OMNIDAEMON_KAFKA_BROKERS) {
    const before = stackCommand("status", true);
    const nothingUp = /kafka\s+down/.test(before.output) && /postgres\s+down/.test(before.output);
    if (before.code !== 0) {
      console.log("bench: OMNIDAEMON_KAFKA_BROKERS is unset and the local stack is not up; starting it");
      const up = stackCommand("up", false);
      if (up.code !== 0) throw new Error(`scripts/stack.sh up failed (exit ${up.code})`);
      startedHere = nothingUp;
    }
    sourceEnvFile();
  }
  const { connection } = loadKafkaEnv(process.env, { defaultClientId: "omnidaemon-bench" });
  return {
    brokers: connection.brokers,
    connection,
    startedHere,
    kafkaVersion: process.env.OMNIDAEMON_STACK_KAFKA_VERSION,
  };
}

export function releaseStack(stack: Stack): void {
  if (!stack.startedHere) return;
  console.log("bench: stopping the local stack this run started");
  const down = stackCommand("down", false);
  if (down.code !== 0) console.error(`bench: scripts/stack.sh down failed (exit ${down.code})`);
}
