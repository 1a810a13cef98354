import { createEnvelope, type KafkaClientName } from "@omnidaemon/bus-kafka";
import { sleep } from "@omnidaemon/lifecycle";
import type { BenchContext } from "../lib/context";
import type { Comparison } from "../lib/compare";
import type { Row } from "../lib/report";
import type { TrialResult } from "../lib/types";

export interface ScenarioOutcome {
  id: string;
  rows: Row[];
  /** Figures measured on every client of the run, for the "Kafka clients side by side" table. */
  comparisons?: Comparison[];
  /** Markdown sections of the scenario's own (e.g. B7's table per scale event), printed after the main table. */
  sections?: string[];
  /** Configuration and every trial's raw numbers, for the JSON results file. */
  details: Record<string, unknown>;
}

/** One empty list per client, for results collected round by round. */
export function perClient<T>(clients: readonly KafkaClientName[]): Record<KafkaClientName, T[]> {
  return Object.fromEntries(clients.map((client) => [client, [] as T[]])) as Record<KafkaClientName, T[]>;
}

const fmt = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";

export function logTrial(result: TrialResult, indent = "  "): void {
  console.log(
    `${indent}${result.label.padEnd(24)} steady ${fmt(result.steadyRate).padStart(7)} ev/s` +
      `  end-to-end ${fmt(result.endToEndRate).padStart(7)} ev/s` +
      `  handled ${fmt(result.handled)}${result.windowed ? " (window)" : ""}` +
      `  first after ${fmt(result.firstMs)} ms  total ${(result.totalMs / 1000).toFixed(2)} s` +
      `  stop ${fmt(result.stopMs)} ms  peak RSS ${fmt(result.peakRssMiB)} MiB` +
      (result.duplicates > 0 ? `  DUPLICATES ${result.duplicates}` : ""),
  );
}

/**
 * Publishes events 0 … total-1 to `topic` at `rate` per second (catching up after a stall), keyed by `i % 1000`, and
 * notes when each went out in `publishedAt`. `between(sent)` runs after every round (a scale event, a kill), and is
 * awaited before the next; resolves once every publish was acknowledged.
 */
export async function publishPaced(
  ctx: BenchContext,
  topic: string,
  options: { total: number; rate: number; publishedAt: Float64Array },
  between: (sent: number) => void | Promise<void>,
): Promise<void> {
  const { total, rate, publishedAt } = options;
  const started = performance.now();
  let sent = 0;
  const sends: Array<Promise<void>> = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent++) {
      publishedAt[sent] = Date.now();
      sends.push(
        ctx.producer.publish(
          createEnvelope({ topic, content: { i: sent }, correlationId: `k${sent % 1000}` }),
        ),
      );
    }
    await between(sent);
    await sleep(5);
  }
  await Promise.all(sends);
}

/** A bench fleet worker's environment: the fixture's topic, agent and log dir, and the session timeout under test. */
export function fleetWorkerEnv(
  topic: string,
  agent: string,
  logDir: string,
  sessionTimeoutMs: number,
): Record<string, string> {
  return {
    BENCH_TOPIC: topic,
    BENCH_AGENT: agent,
    BENCH_LOG_DIR: logDir,
    OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
    OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: String(Math.max(100, Math.floor(sessionTimeoutMs / 10))),
  };
}
