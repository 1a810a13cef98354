import { AGENT_STATES, type AgentState, type LimitsOverride } from "@omnidaemon/protocol";

// Desired state of an agent, fleet-wide: the protocol's vocabulary, re-exported for this package's own files.
export { AGENT_STATES, type AgentState };

/** Kafka cleanup still to do for a deleted agent. */
export interface AgentCleanup {
  /** Delete the agent's consumer group (once it has no members). */
  deleteGroup: boolean;
  /** Delete the agent's dead-letter topic. */
  deleteDlq: boolean;
}

/** What registering an agent stores; a re-registration replaces every field. */
export interface AgentDefinition {
  topic: string;
  name: string;
  description?: string | null;
  version?: string | null;
  tags?: readonly string[];
  config?: Record<string, unknown>;
}

export interface AgentRecord {
  topic: string;
  name: string;
  description: string | null;
  version: string | null;
  tags: string[];
  config: Record<string, unknown>;
  state: AgentState;
  /** Value of the `agent_revision` sequence at the last change: strictly increasing across all agents. */
  revision: number;
  /** Pending Kafka cleanup of a deleted agent; `null` when there is none or it is done. */
  cleanup: AgentCleanup | null;
  /** The operator's override of the limits in `config`; `null` when there is none (docs/rate-limits.md). */
  limits: LimitsOverride | null;
  registeredAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export interface AgentsRepository {
  /**
   * Registers an agent or replaces its definition, and gives it a new revision. The desired state is durable: a
   * paused agent stays paused, and an operator's limits override stays. A deleted agent becomes active again, as a
   * new registration (`registeredAt` now, no limits override), and any Kafka cleanup still pending from its
   * deletion is cancelled.
   */
  upsert(definition: AgentDefinition): Promise<AgentRecord>;
  /** The agent, also when deleted (check `state`); undefined when unknown. */
  get(topic: string, name: string): Promise<AgentRecord | undefined>;
  /** Agents ordered by topic and name; deleted ones only with `includeDeleted`. */
  list(options?: { includeDeleted?: boolean }): Promise<AgentRecord[]>;
  /** Agents of one topic ordered by name; deleted ones only with `includeDeleted`. */
  listByTopic(topic: string, options?: { includeDeleted?: boolean }): Promise<AgentRecord[]>;
  /**
   * Sets the desired state with a new revision. `deleted` records `deletedAt` and, when `cleanup` asks for any,
   * the pending cleanup; any other state clears both. Undefined when the agent is unknown.
   */
  setState(
    topic: string,
    name: string,
    state: AgentState,
    options?: { cleanup?: AgentCleanup },
  ): Promise<AgentRecord | undefined>;
  /**
   * Replaces the operator's limits override (null removes it) with a new revision, so the control record that
   * carries it is newer than every earlier one. Undefined when the agent is unknown or deleted.
   */
  setLimits(topic: string, name: string, limits: LimitsOverride | null): Promise<AgentRecord | undefined>;
  /** Marks a deleted agent's Kafka cleanup done. False when none was pending. */
  completeCleanup(topic: string, name: string): Promise<boolean>;
  /** Deleted agents whose Kafka cleanup is still to do, oldest deletion first. */
  listPendingCleanups(): Promise<AgentRecord[]>;
  /** Removes the row for good (not a fleet operation: workers only follow `setState`). False when unknown. */
  remove(topic: string, name: string): Promise<boolean>;
  /**
   * `storage clear-agents`: sets every agent not yet deleted to `deleted`, each with a new revision, and returns
   * them, so the caller can publish one control record per agent.
   */
  clearAll(): Promise<AgentRecord[]>;
}
