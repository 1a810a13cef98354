import { formatMs, formatTime, formatUptime } from "../output/format";
import type { Cell } from "../output/table";
import { EXIT, OperationError } from "../errors";
import type { ApiCommand } from "./types";

interface Probe {
  ok: boolean;
  latency_ms?: number;
  error?: string;
}

interface HealthReport {
  status: string;
  checked_at: string;
  kafka: Probe;
  postgres: Probe;
  agents: Array<{ topic: string; name: string; state: string; live_consumers: number }>;
  workers: Array<{ id: string; host: string; pid: number; started_at: string; last_heartbeat: string }>;
  uptime_seconds: number | null;
  registered_agents: number;
  active_consumers: number;
}

interface MetricsSummary {
  topic: string;
  agent: string;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  dead_lettered: number;
  latency_ms: {
    p50: number | null;
    p95: number | null;
    p99: number | null;
    mean: number | null;
    count: number;
  };
}

function probe(result: Probe): Cell {
  if (result.ok)
    return {
      text: `ok${result.latency_ms === undefined ? "" : ` (${formatMs(result.latency_ms)})`}`,
      style: "green",
    };
  return { text: `down: ${result.error ?? "no answer"}`, style: "red" };
}

const health: ApiCommand = {
  kind: "api",
  path: ["health"],
  summary: "fleet health: status, registered agents, active consumers, uptime",
  description:
    "Shows the fleet's health as the coordinator computes it from live worker heartbeats and real pings of Kafka\n" +
    "and Postgres: status (running, degraded, stopped, ready or down), registered agents, active consumers, uptime\n" +
    "(since the oldest live worker started), then the agents and the live workers. Exits 1 when the status is down.",
  examples: ["omnidaemon health", "omnidaemon health --json | jq -r .status"],
  async run(context) {
    const { status: httpStatus, body: report } = await context.client.request<HealthReport>(
      "GET",
      "/health",
      {
        accept: [503],
      },
    );
    if (typeof report?.status !== "string" || !Array.isArray(report.agents)) {
      // A 503 that is not a health report: the coordinator is shutting down.
      const message =
        (report as { error?: { message?: string } } | null)?.error?.message ?? "no health report";
      throw new OperationError(`the coordinator answered ${httpStatus} without a health report: ${message}`);
    }
    const code = report.status === "down" || httpStatus === 503 ? EXIT.failed : EXIT.ok;
    if (context.json) {
      context.printJson(report);
      return code;
    }
    context.printFields([
      ["status", context.status(report.status)],
      ["registered agents", report.registered_agents],
      ["active consumers", report.active_consumers],
      ["uptime", formatUptime(report.uptime_seconds)],
      ["live workers", report.workers.length],
      ["kafka", probe(report.kafka)],
      ["postgres", probe(report.postgres)],
      ["checked at", formatTime(report.checked_at)],
    ]);
    if (report.agents.length > 0) {
      context.print("\n");
      context.printTable(
        ["topic", "agent", "state", "consumers"],
        report.agents.map((agent) => [
          agent.topic,
          agent.name,
          context.status(agent.state),
          agent.live_consumers,
        ]),
        { right: [3] },
      );
    }
    if (report.workers.length > 0) {
      context.print("\n");
      context.printTable(
        ["worker", "host", "pid", "started", "last heartbeat"],
        report.workers.map((worker) => [
          worker.id,
          worker.host,
          worker.pid,
          formatTime(worker.started_at),
          formatTime(worker.last_heartbeat),
        ]),
        { right: [2] },
      );
    }
    return code;
  },
};

const metrics: ApiCommand = {
  kind: "api",
  path: ["metrics"],
  summary: "lifetime counters and latency percentiles per topic and agent",
  description:
    "Shows, per topic and agent, the lifetime counts of events received, succeeded, failed (attempts), retried and\n" +
    "dead-lettered, and handler latency percentiles (p50, p95, p99) and mean. Unlike the reference system these\n" +
    "are lifetime totals, not a window of the last events.",
  flags: [{ name: "topic", short: "t", value: "topic", description: "only this topic" }],
  examples: ["omnidaemon metrics", "omnidaemon metrics --topic file.uploaded --json"],
  async run(context) {
    const topic = context.args.string("topic");
    const summary = await context.client.get<MetricsSummary[]>("/metrics/summary", { topic });
    if (context.json) return context.printJson(summary);
    context.printTable(
      [
        "topic",
        "agent",
        "received",
        "succeeded",
        "failed",
        "retried",
        "dead-lettered",
        "p50",
        "p95",
        "p99",
        "mean",
      ],
      summary.map((row) => [
        row.topic,
        row.agent,
        row.received,
        row.succeeded,
        { text: String(row.failed), style: row.failed > 0 ? "yellow" : undefined },
        row.retried,
        { text: String(row.dead_lettered), style: row.dead_lettered > 0 ? "red" : undefined },
        formatMs(row.latency_ms.p50),
        formatMs(row.latency_ms.p95),
        formatMs(row.latency_ms.p99),
        formatMs(row.latency_ms.mean),
      ]),
      {
        right: [2, 3, 4, 5, 6, 7, 8, 9, 10],
        empty:
          topic === undefined
            ? "no metrics yet: no agent has reported an event\n"
            : `no metrics for topic ${topic} yet\n`,
      },
    );
  },
};

export const healthCommands: ApiCommand[] = [health, metrics];
