import type { Registry } from "prom-client";
import { defineRoute, type RouteDefinition } from "../route";

/** The coordinator's own Prometheus metrics (not a service: the registry every component registers into). */
export function metricsRoutes(registry: Registry): RouteDefinition[] {
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
  ];
}
