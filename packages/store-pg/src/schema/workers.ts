import type { WorkerAgentStatus } from "@omnidaemon/protocol";
import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";

/** One entry of `workers.agents`: the protocol's WorkerAgentStatus, snake_case as in docs/control-plane.md. */
export type WorkerAgentJson = WorkerAgentStatus;

export const workers = pgTable(
  "workers",
  {
    id: text("id").primaryKey(),
    host: text("host").notNull(),
    pid: integer("pid").notNull(),
    version: text("version").notNull(),
    agents: jsonb("agents")
      .$type<WorkerAgentJson[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastHeartbeat: timestamp("last_heartbeat", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    stoppedAt: timestamp("stopped_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("workers_last_heartbeat_idx").on(t.lastHeartbeat)],
);
