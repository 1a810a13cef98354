import type { Registry } from "prom-client";
import { z } from "zod";
import type { CoordinatorServices } from "../../services/types";
import { defineRoute, type RouteDefinition } from "../route";
import { metricsHistorySchema, metricsSummarySchema } from "../responses";
import { agentNameSchema, topicSchema } from "../validation";

export function metricsRoutes(services: CoordinatorServices, registry: Registry): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      url: "/metrics",
      tag: "metrics",
      summary: "Prometheus metrics of the coordinator (text exposition format)",
      public: true,
      response: { contentType: "text/plain; version=0.0.4", description: "Prometheus text format" },
      handler: async ({ reply }) => {
        const text = await registry.metrics();
        reply.type(registry.contentType);
        return text;
      },
    }),
    defineRoute({
      method: "GET",
      url: "/metrics/summary",
      tag: "metrics",
      summary: "Lifetime counters and latency percentiles per topic and agent",
      query: z.object({ topic: topicSchema.optional() }),
      response: { schema: z.array(metricsSummarySchema) },
      errors: [503],
      handler: ({ query }) =>
        services.metricsSummary(query.topic === undefined ? {} : { topic: query.topic }),
    }),
    defineRoute({
      method: "GET",
      url: "/metrics/history",
      tag: "metrics",
      summary:
        "The agent's throughput and failures per interval over the last minutes (this coordinator's samples)",
      query: z.object({ topic: topicSchema, agent: agentNameSchema }),
      response: { schema: metricsHistorySchema },
      errors: [404, 503],
      handler: ({ query }) => services.metricsHistory(query.topic, query.agent),
    }),
  ];
}
