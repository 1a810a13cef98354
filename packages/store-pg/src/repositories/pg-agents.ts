import { and, asc, eq, isNotNull, ne, sql } from "drizzle-orm";
import { StoreError } from "../errors";
import { agents, type AgentCleanupJson } from "../schema";
import type { LimitsOverride } from "@omnidaemon/protocol";
import {
  AGENT_STATES,
  type AgentCleanup,
  type AgentDefinition,
  type AgentRecord,
  type AgentState,
  type AgentsRepository,
} from "./agents";
import { expectRow, run, requireText, type DbAccess } from "./context";

type AgentRow = typeof agents.$inferSelect;

function toRecord(row: AgentRow): AgentRecord {
  return {
    topic: row.topic,
    name: row.name,
    description: row.description,
    version: row.version,
    tags: row.tags,
    config: row.config,
    state: row.state,
    revision: row.revision,
    cleanup:
      row.cleanup === null
        ? null
        : { deleteGroup: row.cleanup.delete_group, deleteDlq: row.cleanup.delete_dlq },
    limits: row.limits ?? null,
    registeredAt: row.registeredAt,
    updatedAt: row.updatedAt,
    deletedAt: row.deletedAt,
  };
}

// Evaluated after the row lock is taken, so two concurrent changes of one agent get revisions in commit order.
// (`excluded.revision`, the default computed for the rejected insert, is drawn before waiting for the lock and
// could go backwards.)
const nextRevision = sql`nextval('agent_revision')`;
const wasDeleted = sql`${agents.state} = 'deleted'`;

function validateDefinition(definition: AgentDefinition): void {
  requireText("topic", definition.topic);
  requireText("name", definition.name);
  if (definition.tags !== undefined) {
    if (!Array.isArray(definition.tags) || definition.tags.some((tag) => typeof tag !== "string")) {
      throw new StoreError("INVALID_INPUT", "tags must be an array of strings", { field: "tags" });
    }
  }
  const config = definition.config;
  if (config !== undefined && (config === null || typeof config !== "object" || Array.isArray(config))) {
    throw new StoreError("INVALID_INPUT", "config must be a JSON object", { field: "config" });
  }
}

function validateState(state: AgentState): void {
  if (!AGENT_STATES.includes(state)) {
    throw new StoreError(
      "INVALID_INPUT",
      `state must be one of ${AGENT_STATES.join(", ")}, got ${String(state)}`,
      {
        field: "state",
      },
    );
  }
}

export class PgAgentsRepository implements AgentsRepository {
  constructor(private readonly access: DbAccess) {}

  async upsert(definition: AgentDefinition): Promise<AgentRecord> {
    validateDefinition(definition);
    return run(this.access, "registering an agent", async (db) => {
      const [row] = await db
        .insert(agents)
        .values({
          topic: definition.topic,
          name: definition.name,
          description: definition.description ?? null,
          version: definition.version ?? null,
          tags: [...(definition.tags ?? [])],
          config: definition.config ?? {},
        })
        .onConflictDoUpdate({
          target: [agents.topic, agents.name],
          set: {
            description: sql`excluded.description`,
            version: sql`excluded.version`,
            tags: sql`excluded.tags`,
            config: sql`excluded.config`,
            state: sql`case when ${wasDeleted} then 'active' else ${agents.state} end`,
            revision: nextRevision,
            cleanup: sql`case when ${wasDeleted} then null else ${agents.cleanup} end`,
            limits: sql`case when ${wasDeleted} then null else ${agents.limits} end`,
            registeredAt: sql`case when ${wasDeleted} then now() else ${agents.registeredAt} end`,
            updatedAt: sql`now()`,
            deletedAt: sql`null`,
          },
        })
        .returning();
      return toRecord(expectRow(row));
    });
  }

  async get(topic: string, name: string): Promise<AgentRecord | undefined> {
    return run(this.access, "reading an agent", async (db) => {
      const [row] = await db
        .select()
        .from(agents)
        .where(and(eq(agents.topic, topic), eq(agents.name, name)));
      return row === undefined ? undefined : toRecord(row);
    });
  }

  async list(options: { includeDeleted?: boolean } = {}): Promise<AgentRecord[]> {
    return run(this.access, "listing agents", async (db) => {
      const rows = await db
        .select()
        .from(agents)
        .where(options.includeDeleted === true ? undefined : ne(agents.state, "deleted"))
        .orderBy(asc(agents.topic), asc(agents.name));
      return rows.map(toRecord);
    });
  }

  async listByTopic(topic: string, options: { includeDeleted?: boolean } = {}): Promise<AgentRecord[]> {
    return run(this.access, "listing the agents of a topic", async (db) => {
      const rows = await db
        .select()
        .from(agents)
        .where(
          and(
            eq(agents.topic, topic),
            options.includeDeleted === true ? undefined : ne(agents.state, "deleted"),
          ),
        )
        .orderBy(asc(agents.name));
      return rows.map(toRecord);
    });
  }

  async setState(
    topic: string,
    name: string,
    state: AgentState,
    options: { cleanup?: AgentCleanup } = {},
  ): Promise<AgentRecord | undefined> {
    validateState(state);
    const wanted = options.cleanup;
    const cleanup: AgentCleanupJson | null =
      state === "deleted" && wanted !== undefined && (wanted.deleteGroup || wanted.deleteDlq)
        ? { delete_group: wanted.deleteGroup, delete_dlq: wanted.deleteDlq }
        : null;
    return run(this.access, `setting an agent ${state}`, async (db) => {
      const [row] = await db
        .update(agents)
        .set({
          state,
          revision: nextRevision,
          updatedAt: sql`now()`,
          deletedAt: state === "deleted" ? sql`coalesce(${agents.deletedAt}, now())` : null,
          cleanup,
        })
        .where(and(eq(agents.topic, topic), eq(agents.name, name)))
        .returning();
      return row === undefined ? undefined : toRecord(row);
    });
  }

  async setLimits(
    topic: string,
    name: string,
    limits: LimitsOverride | null,
  ): Promise<AgentRecord | undefined> {
    if (limits !== null && (typeof limits !== "object" || Array.isArray(limits))) {
      throw new StoreError("INVALID_INPUT", "limits must be a JSON object or null", { field: "limits" });
    }
    return run(this.access, "setting an agent's limits", async (db) => {
      const [row] = await db
        .update(agents)
        .set({ limits, revision: nextRevision, updatedAt: sql`now()` })
        .where(and(eq(agents.topic, topic), eq(agents.name, name), ne(agents.state, "deleted")))
        .returning();
      return row === undefined ? undefined : toRecord(row);
    });
  }

  async completeCleanup(topic: string, name: string): Promise<boolean> {
    return run(this.access, "completing an agent's cleanup", async (db) => {
      const rows = await db
        .update(agents)
        .set({ cleanup: null })
        .where(and(eq(agents.topic, topic), eq(agents.name, name), isNotNull(agents.cleanup)))
        .returning({ topic: agents.topic });
      return rows.length > 0;
    });
  }

  async listPendingCleanups(): Promise<AgentRecord[]> {
    return run(this.access, "listing pending agent cleanups", async (db) => {
      const rows = await db
        .select()
        .from(agents)
        .where(and(eq(agents.state, "deleted"), isNotNull(agents.cleanup)))
        .orderBy(asc(agents.deletedAt), asc(agents.topic), asc(agents.name));
      return rows.map(toRecord);
    });
  }

  async remove(topic: string, name: string): Promise<boolean> {
    return run(this.access, "removing an agent", async (db) => {
      const rows = await db
        .delete(agents)
        .where(and(eq(agents.topic, topic), eq(agents.name, name)))
        .returning({ topic: agents.topic });
      return rows.length > 0;
    });
  }

  async clearAll(): Promise<AgentRecord[]> {
    return run(this.access, "clearing all agents", async (db) => {
      const rows = await db
        .update(agents)
        .set({
          state: "deleted",
          revision: nextRevision,
          updatedAt: sql`now()`,
          deletedAt: sql`now()`,
          cleanup: null,
        })
        .where(ne(agents.state, "deleted"))
        .returning();
      return rows.map(toRecord).sort((a, b) => a.revision - b.revision);
    });
  }
}
