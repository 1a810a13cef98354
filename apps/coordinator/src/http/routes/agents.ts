import { z } from "zod";
import type { AgentView, CoordinatorServices } from "../../services/types";
import { defineRoute, type RouteDefinition } from "../route";
import {
  agentDeletedSchema,
  agentsByTopicSchema,
  agentsDeletedSchema,
  agentViewSchema,
  desiredStateChangeSchema,
} from "../responses";
import { agentNameSchema, booleanQuery, shortText, storableJson, text, topicSchema } from "../validation";

const CONFIRM_MESSAGE = "must be true: this deletes every agent of every topic";

const agentParams = z.object({ topic: topicSchema, name: agentNameSchema });

const registerBody = z.object({
  topic: topicSchema,
  name: agentNameSchema,
  description: text({ max: 4096 }).optional(),
  version: shortText(64).nullish(),
  tags: z.array(shortText(64)).max(64).optional(),
  config: storableJson(z.record(z.string(), z.unknown())).optional(),
});

/** `{ topic: [agent, …] }` as the reference system's `GET /agents`; topics and names sorted for stable output. */
export function groupByTopic(agents: readonly AgentView[]): Record<string, AgentView[]> {
  const grouped: Record<string, AgentView[]> = {};
  const sorted = [...agents].sort((a, b) => a.topic.localeCompare(b.topic) || a.name.localeCompare(b.name));
  for (const agent of sorted) (grouped[agent.topic] ??= []).push(agent);
  return grouped;
}

export function agentRoutes(services: CoordinatorServices): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      url: "/agents",
      tag: "agents",
      summary: "Registered agents by topic, with desired state and live consumers",
      response: { schema: agentsByTopicSchema },
      handler: async () => groupByTopic(await services.listAgents()),
    }),
    defineRoute({
      method: "GET",
      url: "/agents/:topic/:name",
      tag: "agents",
      summary: "One agent",
      params: agentParams,
      response: { schema: agentViewSchema },
      errors: [404],
      handler: ({ params }) => services.getAgent(params.topic, params.name),
    }),
    defineRoute({
      method: "POST",
      url: "/agents",
      tag: "agents",
      summary: "Register (upsert) an agent definition; creates its topics",
      body: registerBody,
      response: { schema: agentViewSchema },
      errors: [409, 503],
      handler: ({ body, actor }) => services.registerAgent(body, actor),
    }),
    defineRoute({
      method: "POST",
      url: "/agents/:topic/:name/unsubscribe",
      tag: "agents",
      summary: "Pause the agent fleet-wide; group, offsets and DLQ are kept",
      params: agentParams,
      response: { schema: desiredStateChangeSchema },
      errors: [404, 503],
      handler: async ({ params, actor }) => {
        const agent = await services.pauseAgent(params.topic, params.name, actor);
        return {
          status: "unsubscribed",
          topic: agent.topic,
          agent: agent.name,
          message:
            "paused fleet-wide: every worker stops consuming it within seconds; events wait in the topic",
          state: agent.state,
          revision: agent.revision,
        };
      },
    }),
    defineRoute({
      method: "POST",
      url: "/agents/:topic/:name/resume",
      tag: "agents",
      summary: "Resume the agent fleet-wide from its committed offsets",
      params: agentParams,
      response: { schema: desiredStateChangeSchema },
      errors: [404, 503],
      handler: async ({ params, actor }) => {
        const agent = await services.resumeAgent(params.topic, params.name, actor);
        return {
          status: "resumed",
          topic: agent.topic,
          agent: agent.name,
          message: "resumed fleet-wide: workers consume it again from its committed offsets",
          state: agent.state,
          revision: agent.revision,
        };
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/agents/:topic/:name",
      tag: "agents",
      summary: "Delete the agent; group and DLQ are removed only when asked, once the group has no members",
      params: agentParams,
      query: z.object({ delete_group: booleanQuery(false), delete_dlq: booleanQuery(false) }),
      response: { schema: agentDeletedSchema },
      errors: [404, 503],
      handler: async ({ params, query, actor }) => {
        const result = await services.deleteAgent(
          params.topic,
          params.name,
          { deleteGroup: query.delete_group, deleteDlq: query.delete_dlq },
          actor,
        );
        return {
          status: "deleted",
          topic: params.topic,
          agent: params.name,
          deleted: result.deleted,
          cleanup_pending: result.cleanup_pending,
          // The reference system's shape. Kafka cleanup waits for the group to empty, so it is never done yet.
          cleanup: {
            storage_deleted: result.deleted,
            consumer_group_deleted: false,
            dlq_deleted: false,
            delete_group: query.delete_group,
            delete_dlq: query.delete_dlq,
          },
        };
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/topics/:topic",
      tag: "agents",
      summary: "Delete every agent of the topic",
      params: z.object({ topic: topicSchema }),
      response: { schema: agentsDeletedSchema },
      errors: [503],
      handler: async ({ params, actor }) => {
        const { deleted } = await services.deleteTopic(params.topic, actor);
        return { status: "deleted", topic: params.topic, agents_deleted: deleted };
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/agents",
      tag: "agents",
      summary: "Delete every agent of every topic (storage clear-agents); requires ?confirm=true",
      query: z.object({
        confirm: z
          .string({ error: CONFIRM_MESSAGE })
          .refine((value) => value === "true", CONFIRM_MESSAGE)
          .meta({ description: "Must be true" }),
      }),
      response: { schema: agentsDeletedSchema },
      errors: [503],
      handler: async ({ actor }) => {
        const { deleted } = await services.clearAgents(actor);
        return { status: "cleared", agents_deleted: deleted };
      },
    }),
  ];
}
