import type { Logger } from "pino";
import { z } from "zod";
import type { CoordinatorServices, HealthReport } from "../../services/types";
import { defineRoute, type RouteDefinition } from "../route";
import { healthReportSchema } from "../responses";

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

export function probeRoutes(services: CoordinatorServices, logger: Logger): RouteDefinition[] {
  const health = async (): Promise<HealthReport> => {
    try {
      return await services.health();
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
      response: { schema: z.object({ status: z.literal("ok") }) },
      handler: async () => ({ status: "ok" }),
    }),
    defineRoute({
      method: "GET",
      url: "/readyz",
      tag: "probes",
      summary: "Ready to serve: 200 when Postgres answers, else 503",
      public: true,
      response: {
        schema: z.object({
          status: z.enum(["ready", "not_ready"]),
          postgres: z.object({
            ok: z.boolean(),
            latency_ms: z.number().optional(),
            error: z.string().optional(),
          }),
        }),
      },
      errors: [503],
      handler: async ({ reply }) => {
        const { postgres } = await health();
        reply.code(postgres.ok ? 200 : 503);
        return { status: postgres.ok ? "ready" : "not_ready", postgres };
      },
    }),
  ];
}
