import {
  agentLimitsAnswerSchema,
  agentDeletedSchema,
  agentsByTopicSchema,
  agentsDeletedSchema,
  agentViewSchema,
  auditEntrySchema,
  desiredStateChangeSchema,
  type AgentView,
} from "@omnidaemon/protocol";
import { z } from "zod";
import type { RegistryService } from "../../services/types";
import { defineRoute, type RouteDefinition } from "../route";
import { api } from "../validation";
import { agentLimitsAnswer, agentView, auditEntryView } from "../views";

/** `{ topic: [agent, …] }` as the reference system's `GET /agents`; topics and names sorted for stable output. */
export function groupByTopic(agents: readonly AgentView[]): Record<string, AgentView[]> {
  const grouped: Record<string, AgentView[]> = {};
  const sorted = [...agents].sort((a, b) => a.topic.localeCompare(b.topic) || a.name.localeCompare(b.name));
  for (const agent of sorted) (grouped[agent.topic] ??= []).push(agent);
  return grouped;
}

/** The registry: agents, their fleet-wide desired state, and the audit log of who changed what. */
export function agentRoutes(registry: RegistryService): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      url: "/agents",
      tag: "agents",
      summary: "Registered agents by topic, with desired state and live consumers",
      response: { schema: agentsByTopicSchema },
      handler: async () => groupByTopic((await registry.listAgents()).map(agentView)),
    }),
    defineRoute({
      method: "GET",
      url: "/agents/:topic/:name",
      tag: "agents",
      summary: "One agent",
      params: api.agentParams,
      response: { schema: agentViewSchema },
      errors: [404],
      handler: async ({ params }) => agentView(await registry.getAgent(params.topic, params.name)),
    }),
    defineRoute({
      method: "POST",
      url: "/agents",
      tag: "agents",
      summary: "Register (upsert) an agent definition; creates its topics",
      body: api.registerAgentBody,
      response: { schema: agentViewSchema },
      errors: [409, 503],
      handler: async ({ body, actor }) => agentView(await registry.registerAgent(body, actor)),
    }),
    defineRoute({
      method: "POST",
      url: "/agents/:topic/:name/unsubscribe",
      tag: "agents",
      summary: "Pause the agent fleet-wide; group, offsets and DLQ are kept",
      params: api.agentParams,
      response: { schema: desiredStateChangeSchema },
      errors: [404, 503],
      handler: async ({ params, actor }) => {
        const agent = await registry.pauseAgent(params.topic, params.name, actor);
        return {
          status: "unsubscribed" as const,
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
      params: api.agentParams,
      response: { schema: desiredStateChangeSchema },
      errors: [404, 503],
      handler: async ({ params, actor }) => {
        const agent = await registry.resumeAgent(params.topic, params.name, actor);
        return {
          status: "resumed" as const,
          topic: agent.topic,
          agent: agent.name,
          message: "resumed fleet-wide: workers consume it again from its committed offsets",
          state: agent.state,
          revision: agent.revision,
        };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/agents/:topic/:name/limits",
      tag: "agents",
      summary: "The agent's fleet-wide limits: configured, the operator's override, effective",
      params: api.agentParams,
      response: { schema: agentLimitsAnswerSchema },
      errors: [404],
      handler: async ({ params }) => agentLimitsAnswer(await registry.getAgent(params.topic, params.name)),
    }),
    defineRoute({
      method: "PUT",
      url: "/agents/:topic/:name/limits",
      tag: "agents",
      summary:
        "Replace the operator's override of the agent's limits (a key replaces the configured one, null removes " +
        "it); every worker applies it within seconds",
      params: api.agentParams,
      body: api.setLimitsBody,
      response: { schema: agentLimitsAnswerSchema },
      errors: [404, 503],
      handler: async ({ params, body, actor }) =>
        agentLimitsAnswer(await registry.setLimits(params.topic, params.name, body, actor)),
    }),
    defineRoute({
      method: "DELETE",
      url: "/agents/:topic/:name/limits",
      tag: "agents",
      summary: "Remove the operator's override: the agent's configured limits apply again, fleet-wide",
      params: api.agentParams,
      response: { schema: agentLimitsAnswerSchema },
      errors: [404, 503],
      handler: async ({ params, actor }) =>
        agentLimitsAnswer(await registry.setLimits(params.topic, params.name, null, actor)),
    }),
    defineRoute({
      method: "DELETE",
      url: "/agents/:topic/:name",
      tag: "agents",
      summary: "Delete the agent; group and DLQ are removed only when asked, once the group has no members",
      params: api.agentParams,
      query: api.deleteAgentQuery,
      response: { schema: agentDeletedSchema },
      errors: [404, 503],
      handler: async ({ params, query, actor }) => {
        const result = await registry.deleteAgent(
          params.topic,
          params.name,
          { deleteGroup: query.delete_group, deleteDlq: query.delete_dlq },
          actor,
        );
        return {
          status: "deleted" as const,
          topic: params.topic,
          agent: params.name,
          deleted: result.deleted,
          cleanup_pending: result.cleanupPending,
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
      params: api.topicParams,
      response: { schema: agentsDeletedSchema },
      errors: [503],
      handler: async ({ params, actor }) => {
        const { deleted } = await registry.deleteTopic(params.topic, actor);
        return { status: "deleted" as const, topic: params.topic, agents_deleted: deleted };
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/agents",
      tag: "agents",
      summary: "Delete every agent of every topic (storage clear-agents); requires ?confirm=true",
      query: api.clearAgentsQuery,
      response: { schema: agentsDeletedSchema },
      errors: [503],
      handler: async ({ actor }) => {
        const { deleted } = await registry.clearAgents(actor);
        return { status: "cleared" as const, agents_deleted: deleted };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/audit",
      tag: "audit",
      summary:
        "Recent operator actions (register, pause, resume, delete, DLQ replay and purge), newest first",
      query: api.auditQuery,
      response: { schema: z.array(auditEntrySchema) },
      errors: [503],
      handler: async ({ query }) =>
        (
          await registry.auditLog({
            limit: query.limit,
            ...(query.topic !== undefined && { topic: query.topic }),
            ...(query.agent !== undefined && { agent: query.agent }),
          })
        ).map(auditEntryView),
    }),
  ];
}
