import { z } from "zod";
import type { CoordinatorServices } from "../../services/types";
import { defineRoute, type RouteDefinition } from "../route";
import { agentNameSchema, limitQuery, topicSchema } from "../validation";

export function auditRoutes(services: CoordinatorServices): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      url: "/audit",
      tag: "audit",
      summary:
        "Recent operator actions (register, pause, resume, delete, DLQ replay and purge), newest first",
      query: z.object({
        limit: limitQuery(100, 1000),
        topic: topicSchema.optional(),
        agent: agentNameSchema.optional(),
      }),
      response: { schema: z.array(z.record(z.string(), z.unknown())) },
      errors: [503],
      handler: ({ query }) =>
        services.auditLog({
          limit: query.limit,
          ...(query.topic !== undefined && { topic: query.topic }),
          ...(query.agent !== undefined && { agent: query.agent }),
        }),
    }),
  ];
}
