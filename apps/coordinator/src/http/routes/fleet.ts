import {
  healthReportSchema,
  heartbeatAnswerSchema,
  livezSchema,
  readyzSchema,
  workerDeregisteredSchema,
  workerRegisteredSchema,
  workerViewSchema,
  type HealthReport,
} from "@omnidaemon/protocol";
import type { Logger } from "pino";
import { z } from "zod";
import type { FleetService } from "../../services/types";
import { defineRoute, type RouteDefinition } from "../route";
import { api } from "../validation";
import { workerView } from "../views";

/** The report `/health` answers when computing the real one failed: `down`, with the reason. */
export function failedHealthReport(error: unknown, now = new Date()): HealthReport {
  const reason = `health check failed: ${error instanceof Error ? error.message : String(error)}`;
  return {
    status: "down",
    checked_at: now.toISOString(),
    kafka: { ok: false, error: reason },
    postgres: { ok: false, error: reason },
    agents: [],
    workers: [],
    uptime_seconds: null,
    registered_agents: 0,
    active_consumers: 0,
  };
}

/** Fleet health: the probes, the fleet's health, and the workers' protocol (register, heartbeat, deregister). */
export function fleetRoutes(fleet: FleetService, logger: Logger): RouteDefinition[] {
  const health = async (): Promise<HealthReport> => {
    try {
      return await fleet.health();
    } catch (error) {
      logger.error({ err: error }, "health check failed");
      return failedHealthReport(error);
    }
  };
  return [
    defineRoute({
      method: "GET",
      url: "/health",
      tag: "probes",
      summary: "Fleet health from live heartbeats and real pings: 200 unless down, 503 when down",
      public: true,
      response: { schema: healthReportSchema },
      errors: [503],
      handler: async ({ reply }) => {
        const report = await health();
        reply.code(report.status === "down" ? 503 : 200);
        return report;
      },
    }),
    defineRoute({
      method: "GET",
      url: "/livez",
      tag: "probes",
      summary: "The coordinator process answers",
      public: true,
      response: { schema: livezSchema },
      handler: async () => ({ status: "ok" as const }),
    }),
    defineRoute({
      method: "GET",
      url: "/readyz",
      tag: "probes",
      summary: "Ready to serve: 200 when Postgres answers, else 503",
      public: true,
      response: { schema: readyzSchema },
      errors: [503],
      handler: async ({ reply }) => {
        const { postgres } = await health();
        reply.code(postgres.ok ? 200 : 503);
        return { status: postgres.ok ? ("ready" as const) : ("not_ready" as const), postgres };
      },
    }),
    defineRoute({
      method: "POST",
      url: "/v1/workers",
      tag: "workers",
      summary: "Register a worker (worker protocol)",
      body: api.registerWorkerBody,
      response: { schema: workerRegisteredSchema },
      errors: [503],
      handler: async ({ body }) => {
        const { heartbeatIntervalMs } = await fleet.registerWorker(body);
        return { heartbeat_interval_ms: heartbeatIntervalMs };
      },
    }),
    defineRoute({
      method: "PUT",
      url: "/v1/workers/:id/heartbeat",
      tag: "workers",
      summary: "Heartbeat with per-agent consumer status; known: false asks the worker to register again",
      params: api.workerParams,
      body: api.heartbeatBody,
      response: { schema: heartbeatAnswerSchema },
      errors: [503],
      handler: ({ params: { id }, body }) => fleet.heartbeat(id, body.agents),
    }),
    defineRoute({
      method: "DELETE",
      url: "/v1/workers/:id",
      tag: "workers",
      summary: "Deregister a worker (at shutdown)",
      params: api.workerParams,
      response: { schema: workerDeregisteredSchema },
      errors: [503],
      handler: async ({ params: { id } }) => {
        await fleet.deregisterWorker(id);
        return { status: "deregistered" as const, id };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/v1/workers",
      tag: "workers",
      summary: "Registered workers, live or not",
      response: { schema: z.array(workerViewSchema) },
      errors: [503],
      handler: async () => (await fleet.listWorkers()).map(workerView),
    }),
  ];
}
