import { and, desc, eq } from "drizzle-orm";
import { StoreError } from "../errors";
import { auditLog } from "../schema";
import {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditEntry,
  type AuditListOptions,
  type AuditRepository,
  type NewAuditEntry,
} from "./audit";
import { expectRow, listLimit, requireText, run, type DbAccess } from "./context";

type AuditRow = typeof auditLog.$inferSelect;

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    topic: row.topic,
    agent: row.agent,
    details: row.details,
  };
}

export class PgAuditRepository implements AuditRepository {
  constructor(private readonly access: DbAccess) {}

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    requireText("actor", entry.actor);
    if (!AUDIT_ACTIONS.includes(entry.action)) {
      throw new StoreError(
        "INVALID_INPUT",
        `action must be one of ${AUDIT_ACTIONS.join(", ")}, got ${String(entry.action)}`,
        { field: "action" },
      );
    }
    return run(this.access, "recording an audit entry", async (db) => {
      const [row] = await db
        .insert(auditLog)
        .values({
          actor: entry.actor,
          action: entry.action,
          topic: entry.topic ?? null,
          agent: entry.agent ?? null,
          details: entry.details ?? null,
        })
        .returning();
      return toEntry(expectRow(row));
    });
  }

  async list(options: AuditListOptions = {}): Promise<AuditEntry[]> {
    const limit = listLimit(options.limit);
    return run(this.access, "listing audit entries", async (db) => {
      const rows = await db
        .select()
        .from(auditLog)
        .where(
          and(
            options.topic === undefined ? undefined : eq(auditLog.topic, options.topic),
            options.agent === undefined ? undefined : eq(auditLog.agent, options.agent),
          ),
        )
        .orderBy(desc(auditLog.at), desc(auditLog.id))
        .limit(limit);
      return rows.map(toEntry);
    });
  }
}
