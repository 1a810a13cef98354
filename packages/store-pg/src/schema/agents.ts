import { sql } from "drizzle-orm";
import type { AgentState, LimitsOverride } from "@omnidaemon/protocol";
import { bigint, check, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** Stored as in docs/control-plane.md: snake_case keys inside the jsonb too. */
export interface AgentCleanupJson {
  delete_group: boolean;
  delete_dlq: boolean;
}

export const agents = pgTable(
  "agents",
  {
    topic: text("topic").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    version: text("version"),
    tags: jsonb("tags")
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    config: jsonb("config")
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    state: text("state").$type<AgentState>().notNull().default("active"),
    // The default is resolved to the sequence's oid when the table is created, so it follows the schema the
    // migration ran in, not the search_path of a later session.
    revision: bigint("revision", { mode: "number" })
      .notNull()
      .default(sql`nextval('agent_revision')`),
    cleanup: jsonb("cleanup").$type<AgentCleanupJson>(),
    // The operator's override of the limits in `config` (PUT /agents/{topic}/{name}/limits), camelCase like the
    // config it overrides; null when none. Kept apart from `config` so a worker re-registering its code's config
    // does not undo it.
    limits: jsonb("limits").$type<LimitsOverride>(),
    registeredAt: timestamp("registered_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    primaryKey({ name: "agents_pkey", columns: [t.topic, t.name] }),
    // The values of AGENT_STATES (protocol); a unit test checks the committed migration lists exactly those.
    check("agents_state_check", sql`${t.state} in ('active', 'paused', 'deleted')`),
  ],
);
