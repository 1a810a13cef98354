import { z } from "zod";
import { agentLimitsSchema, limitsOverrideSchema } from "../limits";
import { AGENT_STATES, AUDIT_ACTIONS } from "../vocabulary";
import { booleanQuery, isoTime, limitQuery, nameFields, shortText, text, type DomainRules } from "./fields";

/*
 * The registry: agents, their desired state, the audit log of operator actions.
 */

/**
 * Bounds for registering an agent: its retry topic `omnidaemon.retry.<topic>.<name>` must fit Kafka's 249
 * characters, and a JSON Schema cannot relate two fields, so each gets its share: 17 + 115 + 1 + 116 = 249.
 */
export const REGISTER_TOPIC_MAX = 115;
export const REGISTER_NAME_MAX = 116;

export const CLEAR_AGENTS_CONFIRM_MESSAGE = "must be true: this deletes every agent of every topic";

const agentState = z.enum(AGENT_STATES);

/**
 * An agent's fleet-wide limits, where each comes from: `configured` (the limit keys of its registered config),
 * `override` (the operator's, from `PUT …/limits`; null when none) and `effective` (the first with the second on
 * top: what every worker enforces). docs/rate-limits.md.
 */
export const limitsViewSchema = z.object({
  configured: agentLimitsSchema,
  override: limitsOverrideSchema.nullable(),
  effective: agentLimitsSchema,
});
export type LimitsView = z.output<typeof limitsViewSchema>;

/** An agent as the API shows it. */
export const agentViewSchema = z.object({
  topic: z.string(),
  name: z.string(),
  description: z.string(),
  version: z.string().nullable(),
  tags: z.array(z.string()),
  config: z.record(z.string(), z.unknown()),
  state: agentState,
  revision: z.number().int(),
  registered_at: isoTime,
  updated_at: isoTime,
  live_consumers: z.number().int().meta({ description: "Live workers consuming this agent now" }),
  consumer_group: z.string(),
  dlq_topic: z.string(),
  limits: limitsViewSchema,
});
export type AgentView = z.output<typeof agentViewSchema>;

/** `GET`, `PUT` and `DELETE /agents/{topic}/{name}/limits`: the agent's limits after the request. */
export const agentLimitsAnswerSchema = z.object({
  topic: z.string(),
  agent: z.string(),
  /** The revision of the control record that carries these limits to the workers. */
  revision: z.number().int(),
  limits: limitsViewSchema,
});
export type AgentLimitsAnswer = z.output<typeof agentLimitsAnswerSchema>;

/** `GET /agents`: agents by topic, as in the reference system. */
export const agentsByTopicSchema = z
  .record(z.string(), z.array(agentViewSchema))
  .meta({ description: "Agents by topic, as in the reference system: { topic: [agent, …] }" });
export type AgentsByTopic = z.output<typeof agentsByTopicSchema>;

/** `POST /agents/{topic}/{name}/unsubscribe` and `…/resume`. */
export const desiredStateChangeSchema = z.object({
  status: z.enum(["unsubscribed", "resumed"]),
  topic: z.string(),
  agent: z.string(),
  message: z.string(),
  state: agentState,
  revision: z.number().int(),
});
export type DesiredStateChange = z.output<typeof desiredStateChangeSchema>;

/** `DELETE /agents/{topic}/{name}`. */
export const agentDeletedSchema = z.object({
  status: z.literal("deleted"),
  topic: z.string(),
  agent: z.string(),
  deleted: z.boolean(),
  cleanup_pending: z.boolean(),
  cleanup: z.object({
    storage_deleted: z.boolean(),
    consumer_group_deleted: z.boolean(),
    dlq_deleted: z.boolean(),
    delete_group: z.boolean(),
    delete_dlq: z.boolean(),
  }),
});
export type AgentDeleted = z.output<typeof agentDeletedSchema>;

/** `DELETE /topics/{topic}` (status deleted) and `DELETE /agents?confirm=true` (status cleared). */
export const agentsDeletedSchema = z.object({
  status: z.enum(["deleted", "cleared"]),
  topic: z.string().optional(),
  agents_deleted: z.number().int(),
});
export type AgentsDeleted = z.output<typeof agentsDeletedSchema>;

/** One operator action of `GET /audit`. */
export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: isoTime,
  actor: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  topic: z.string().nullable(),
  agent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.output<typeof auditEntrySchema>;

/** The registry's requests under `rules` (see {@link DomainRules}). */
export function agentRequests(rules: DomainRules) {
  const { topic, agentName } = nameFields(rules);
  return {
    agentParams: z.object({ topic: topic(), name: agentName() }),
    topicParams: z.object({ topic: topic() }),
    /** `POST /agents`: register (upsert) an agent definition. */
    registerAgentBody: z.object({
      topic: topic(REGISTER_TOPIC_MAX),
      name: agentName(REGISTER_NAME_MAX),
      description: text({ max: 4096 }).optional(),
      version: shortText(64).nullish(),
      tags: z.array(shortText(64)).max(64).optional(),
      config: rules.agentConfig(z.record(z.string(), z.unknown())).optional(),
    }),
    /** `PUT /agents/{topic}/{name}/limits`: the operator's override, replacing any previous one. */
    setLimitsBody: limitsOverrideSchema,
    deleteAgentQuery: z.object({ delete_group: booleanQuery(false), delete_dlq: booleanQuery(false) }),
    clearAgentsQuery: z.object({
      confirm: z
        .literal("true", { error: CLEAR_AGENTS_CONFIRM_MESSAGE })
        .meta({ description: "Must be true" }),
    }),
    auditQuery: z.object({
      limit: limitQuery(100, 1000),
      topic: topic().optional(),
      agent: agentName().optional(),
    }),
  };
}
