import { formatMs, formatTime, formatUptime } from "../output/format";
import type { Cell } from "../output/table";
import { EXIT, OperationError } from "../errors";
import type { Probe } from "@omnidaemon/protocol";
import type { ApiCommand } from "./types";

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
    const { httpStatus, report, problem } = await context.client.health();
    if (report === undefined) {
      // A 503 that is not a health report: the coordinator is shutting down.
      throw new OperationError(`the coordinator answered ${httpStatus} without a health report: ${problem}`);
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
    const summary = await context.client.metricsSummary(topic === undefined ? {} : { topic });
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
