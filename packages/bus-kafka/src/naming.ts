import { BusError } from "./errors";

/**
 * Deterministic Kafka names for an agent, derived from (topic, agent name) only, so every worker of the fleet —
 * and every restart — lands in the same group and the same retry and dead-letter topics.
 *
 *   consumer group   omnidaemon.<topic>.<agent>
 *   retry topic      omnidaemon.retry.<topic>.<agent>
 *   dead letters     omnidaemon.dlq.<topic>.<agent>
 *
 * Agent names may not contain dots, so the agent is always the part after the last dot: no two (topic, agent)
 * pairs share a name.
 */
export const RESERVED_PREFIX = "omnidaemon.";
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]+$/;
const AGENT_NAME = /^[a-zA-Z0-9_-]+$/;
const MAX_TOPIC_LENGTH = 249;
/** Kafka's own topics (`__consumer_offsets`, `__transaction_state`) start with this; no user topic may. */
const KAFKA_INTERNAL_PREFIX = "__";

/** Topics of the fleet itself (see docs/control-plane.md). */
export const SYSTEM_TOPICS = {
  /** Desired state per agent, compacted; coordinator → workers. */
  control: `${RESERVED_PREFIX}control`,
  /** Task status transitions and results; workers → coordinator. */
  taskEvents: `${RESERVED_PREFIX}task-events`,
} as const;

/** The coordinator's consumer group on the task-events topic. */
export const COORDINATOR_GROUP = `${RESERVED_PREFIX}coordinator`;

export interface AgentNames {
  topic: string;
  agent: string;
  groupId: string;
  retryTopic: string;
  dlqTopic: string;
}

export function validateTopic(topic: string, field = "topic"): string {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new BusError("INVALID_NAME", `${field} is required`, { field });
  }
  if (!KAFKA_TOPIC.test(topic) || topic === "." || topic === "..") {
    throw new BusError(
      "INVALID_NAME",
      `${field} "${topic}" may contain only letters, digits, ".", "_" and "-" (Kafka topic rules)`,
      { field },
    );
  }
  if (topic.startsWith(KAFKA_INTERNAL_PREFIX)) {
    throw new BusError(
      "INVALID_NAME",
      `${field} "${topic}" starts with "${KAFKA_INTERNAL_PREFIX}", which Kafka reserves for its internal topics (__consumer_offsets, __transaction_state)`,
      { field },
    );
  }
  // Kafka treats "." and "_" as one character when it checks topic names for collisions (and in metric names),
  // so "omnidaemon_control" would collide with the system topic "omnidaemon.control".
  if (topic.replace(/\./g, "_").startsWith(RESERVED_PREFIX.replace(/\./g, "_"))) {
    throw new BusError(
      "INVALID_NAME",
      `${field} "${topic}" uses the reserved prefix "${RESERVED_PREFIX}" (Kafka treats "." and "_" alike)`,
      { field },
    );
  }
  return topic;
}

export function validateAgentName(name: string, field = "name"): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new BusError("INVALID_NAME", `${field} is required`, { field });
  }
  if (!AGENT_NAME.test(name)) {
    throw new BusError(
      "INVALID_NAME",
      `${field} "${name}" may contain only letters, digits, "_" and "-" (no dots: names are joined with dots)`,
      { field },
    );
  }
  return name;
}

export function agentNames(topic: string, agent: string): AgentNames {
  validateTopic(topic);
  validateAgentName(agent);
  const names: AgentNames = {
    topic,
    agent,
    groupId: `${RESERVED_PREFIX}${topic}.${agent}`,
    retryTopic: `${RESERVED_PREFIX}retry.${topic}.${agent}`,
    dlqTopic: `${RESERVED_PREFIX}dlq.${topic}.${agent}`,
  };
  if (names.retryTopic.length > MAX_TOPIC_LENGTH) {
    throw new BusError(
      "INVALID_NAME",
      `topic and agent name are too long together: "${names.retryTopic}" exceeds Kafka's ${MAX_TOPIC_LENGTH} characters`,
      { field: "name" },
    );
  }
  return names;
}

/** A deterministic default agent name for a topic: "file.uploaded" → "file-uploaded-agent". Never random. */
export function defaultAgentName(topic: string): string {
  validateTopic(topic);
  return `${topic.replace(/\./g, "-")}-agent`;
}
