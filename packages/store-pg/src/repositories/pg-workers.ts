import { and, asc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { StoreError } from "../errors";
import { workers, type WorkerAgentJson } from "../schema";
import { expectRow, requireCount, requireMs, requireText, run, type DbAccess } from "./context";
import type { WorkerAgentStatus, WorkerRecord, WorkerRegistration, WorkersRepository } from "./workers";

type WorkerRow = typeof workers.$inferSelect;

function toRecord(row: WorkerRow): WorkerRecord {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    version: row.version,
    agents: row.agents,
    startedAt: row.startedAt,
    lastHeartbeat: row.lastHeartbeat,
    stoppedAt: row.stoppedAt,
  };
}

function validateAgents(agents: readonly WorkerAgentStatus[]): WorkerAgentJson[] {
  if (!Array.isArray(agents)) {
    throw new StoreError("INVALID_INPUT", "agents must be an array", { field: "agents" });
  }
  return agents.map((agent, i) => {
    requireText(`agents[${i}].topic`, agent.topic);
    requireText(`agents[${i}].name`, agent.name);
    requireCount(`agents[${i}].assigned_partitions`, agent.assigned_partitions);
    requireCount(`agents[${i}].in_flight`, agent.in_flight);
    return {
      topic: agent.topic,
      name: agent.name,
      status: agent.status,
      member: agent.member,
      assigned_partitions: agent.assigned_partitions,
      in_flight: agent.in_flight,
    };
  });
}

/** `now() - ms` in SQL, on the database clock so coordinators with skewed clocks agree. */
function msAgo(ms: number) {
  return sql`now() - ${ms}::double precision * interval '1 millisecond'`;
}

export class PgWorkersRepository implements WorkersRepository {
  constructor(private readonly access: DbAccess) {}

  async register(worker: WorkerRegistration): Promise<WorkerRecord> {
    requireText("id", worker.id);
    requireText("host", worker.host);
    requireCount("pid", worker.pid);
    requireText("version", worker.version);
    const agents = validateAgents(worker.agents);
    return run(this.access, "registering a worker", async (db) => {
      const [row] = await db
        .insert(workers)
        .values({
          id: worker.id,
          host: worker.host,
          pid: worker.pid,
          version: worker.version,
          agents,
          ...(worker.startedAt === undefined ? {} : { startedAt: worker.startedAt }),
        })
        .onConflictDoUpdate({
          target: workers.id,
          set: {
            host: sql`excluded.host`,
            pid: sql`excluded.pid`,
            version: sql`excluded.version`,
            agents: sql`excluded.agents`,
            startedAt: worker.startedAt === undefined ? sql`${workers.startedAt}` : sql`excluded.started_at`,
            lastHeartbeat: sql`now()`,
            stoppedAt: null,
          },
        })
        .returning();
      return toRecord(expectRow(row));
    });
  }

  async heartbeat(id: string, agents: readonly WorkerAgentStatus[]): Promise<boolean> {
    requireText("id", id);
    const json = validateAgents(agents);
    return run(this.access, "recording a worker heartbeat", async (db) => {
      const rows = await db
        .update(workers)
        .set({ lastHeartbeat: sql`now()`, agents: json })
        .where(and(eq(workers.id, id), isNull(workers.stoppedAt)))
        .returning({ id: workers.id });
      return rows.length > 0;
    });
  }

  async deregister(id: string): Promise<boolean> {
    requireText("id", id);
    return run(this.access, "deregistering a worker", async (db) => {
      const rows = await db
        .update(workers)
        .set({ stoppedAt: sql`now()` })
        .where(and(eq(workers.id, id), isNull(workers.stoppedAt)))
        .returning({ id: workers.id });
      return rows.length > 0;
    });
  }

  async listLive(withinMs: number): Promise<WorkerRecord[]> {
    requireMs("withinMs", withinMs);
    return run(this.access, "listing live workers", async (db) => {
      const rows = await db
        .select()
        .from(workers)
        .where(and(isNull(workers.stoppedAt), gt(workers.lastHeartbeat, msAgo(withinMs))))
        .orderBy(asc(workers.startedAt), asc(workers.id));
      return rows.map(toRecord);
    });
  }

  async list(): Promise<WorkerRecord[]> {
    return run(this.access, "listing workers", async (db) => {
      const rows = await db.select().from(workers).orderBy(asc(workers.startedAt), asc(workers.id));
      return rows.map(toRecord);
    });
  }

  async purgeStopped(olderThanMs: number): Promise<number> {
    requireMs("olderThanMs", olderThanMs);
    return run(this.access, "purging stopped workers", async (db) => {
      const cutoff = msAgo(olderThanMs);
      const rows = await db
        .delete(workers)
        .where(or(lt(workers.stoppedAt, cutoff), lt(workers.lastHeartbeat, cutoff)))
        .returning({ id: workers.id });
      return rows.length;
    });
  }
}
