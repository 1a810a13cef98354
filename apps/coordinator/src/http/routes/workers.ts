import { z } from "zod";
import type { CoordinatorServices } from "../../services/types";
import { defineRoute, type RouteDefinition } from "../route";
import { workerViewSchema } from "../responses";
import { agentNameSchema, shortText, topicSchema } from "../validation";

/** Worker ids are chosen by the worker (`<host>-<pid>-<random>`); any URL-safe text, bounded. */
const workerId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits, ".", "_", ":" and "-"');

const workerAgentStatus = z.object({
  topic: topicSchema,
  name: agentNameSchema,
  status: z.enum(["running", "paused", "stopped"]),
  member: z.boolean(),
  assigned_partitions: z.number().int().nonnegative(),
  in_flight: z.number().int().nonnegative(),
});

const agentStatuses = z.array(workerAgentStatus).max(10_000);

const registration = z.object({
  id: workerId,
  host: shortText(255),
  // Postgres `integer`; Linux pids stay far below (pid_max is at most 2^22).
  pid: z.number().int().nonnegative().max(2_147_483_647),
  version: shortText(64),
  agents: agentStatuses,
});

export function workerRoutes(services: CoordinatorServices): RouteDefinition[] {
  const params = z.object({ id: workerId });
  return [
    defineRoute({
      method: "POST",
      url: "/v1/workers",
      tag: "workers",
      summary: "Register a worker (worker protocol)",
      body: registration,
      response: { schema: z.object({ heartbeat_interval_ms: z.number().int() }) },
      errors: [503],
      handler: ({ body }) => services.registerWorker(body),
    }),
    defineRoute({
      method: "PUT",
      url: "/v1/workers/:id/heartbeat",
      tag: "workers",
      summary: "Heartbeat with per-agent consumer status; known: false asks the worker to register again",
      params,
      body: z.object({ agents: agentStatuses }),
      response: { schema: z.object({ known: z.boolean() }) },
      errors: [503],
      handler: ({ params: { id }, body }) => services.heartbeat(id, body.agents),
    }),
    defineRoute({
      method: "DELETE",
      url: "/v1/workers/:id",
      tag: "workers",
      summary: "Deregister a worker (at shutdown)",
      params,
      response: { schema: z.object({ status: z.literal("deregistered"), id: z.string() }) },
      errors: [503],
      handler: async ({ params: { id } }) => {
        await services.deregisterWorker(id);
        return { status: "deregistered", id };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/v1/workers",
      tag: "workers",
      summary: "Registered workers, live or not",
      response: { schema: z.array(workerViewSchema) },
      errors: [503],
      handler: () => services.listWorkers(),
    }),
  ];
}
