// Migrations against the real Postgres: they create everything in the configured schema (journal included), run
// again as a no-op, and two stores starting at once on a brand-new schema take turns instead of colliding.
import { migrateDatabase, PgStore, StoreError } from "../src";
import { databaseUrl, dropSchema, withPostgres } from "@omnidaemon/testkit";
import { newSchema } from "./support";

const schemas: string[] = [];
function schemaForTest(prefix: string): string {
  const schema = newSchema(prefix);
  schemas.push(schema);
  return schema;
}

afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

async function relationsIn(schema: string): Promise<string[]> {
  return withPostgres(async (client) => {
    const { rows } = await client.query<{ relname: string }>(
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = $1 and c.relkind in ('r', 'S') order by c.relname`,
      [schema],
    );
    return rows.map((row) => row.relname);
  });
}

async function journalLength(schema: string): Promise<number> {
  return withPostgres(async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from "${schema}".__drizzle_migrations`,
    );
    return rows[0]?.n ?? 0;
  });
}

describe("migrations", () => {
  it("create every table, the revision sequence and drizzle's journal inside the configured schema", async () => {
    const schema = schemaForTest("mig_layout");
    const outcome = await migrateDatabase({ databaseUrl: databaseUrl(), schema });
    expect(outcome.applied).toBeGreaterThan(0);
    expect(outcome.total).toBe(outcome.applied);
    expect(await relationsIn(schema)).toEqual(
      expect.arrayContaining([
        "__drizzle_migrations",
        "agent_counters",
        "agent_revision",
        "agents",
        "audit_log",
        "tasks",
        "workers",
      ]),
    );
  });

  it("apply twice harmlessly: the second run applies nothing and keeps the data", async () => {
    const schema = schemaForTest("mig_twice");
    const first = await migrateDatabase({ databaseUrl: databaseUrl(), schema });
    const store = new PgStore({ databaseUrl: databaseUrl(), schema });
    await store.start(); // migrates again
    try {
      await store.agents.upsert({ topic: "orders", name: "billing" });
      const second = await migrateDatabase({ databaseUrl: databaseUrl(), schema });
      expect(second).toEqual({ applied: 0, total: first.total });
      expect(await journalLength(schema)).toBe(first.total);
      expect(await store.agents.get("orders", "billing")).toMatchObject({ state: "active" });
    } finally {
      await store.stop();
    }
  });

  it("let two stores start at once on the same new schema: one migrates, the other waits and finds it done", async () => {
    const schema = schemaForTest("mig_race");
    const stores = [0, 1].map(() => new PgStore({ databaseUrl: databaseUrl(), schema }));
    try {
      await Promise.all(stores.map((store) => store.start()));
      const [a, b] = stores as [PgStore, PgStore];
      const registered = await a.agents.upsert({ topic: "orders", name: "billing" });
      expect(await b.agents.get("orders", "billing")).toEqual(registered);
      expect(await journalLength(schema)).toBe(
        (await migrateDatabase({ databaseUrl: databaseUrl(), schema })).total,
      );
    } finally {
      await Promise.all(stores.map((store) => store.stop()));
    }
  });

  it("let many concurrent migrate jobs on one schema end in a single journal entry per migration", async () => {
    const schema = schemaForTest("mig_jobs");
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => migrateDatabase({ databaseUrl: databaseUrl(), schema })),
    );
    const total = outcomes[0]!.total;
    expect(outcomes.map((outcome) => outcome.applied).sort()).toEqual([0, 0, 0, 0, total]);
    expect(await journalLength(schema)).toBe(total);
  });

  it("leave other schemas alone: a migrated schema holds its own tables and revisions", async () => {
    const [one, two] = [schemaForTest("mig_iso_a"), schemaForTest("mig_iso_b")];
    const a = new PgStore({ databaseUrl: databaseUrl(), schema: one });
    const b = new PgStore({ databaseUrl: databaseUrl(), schema: two });
    try {
      await Promise.all([a.start(), b.start()]);
      await a.agents.upsert({ topic: "t", name: "x" });
      await a.agents.upsert({ topic: "t", name: "x" });
      expect(await b.agents.list()).toEqual([]);
      // Each schema has its own sequence: b's first revision is 1, whatever a did.
      expect((await b.agents.upsert({ topic: "t", name: "y" })).revision).toBe(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("start without migrating when told to, and then find nothing to work on in an empty schema", async () => {
    const schema = schemaForTest("mig_off");
    const store = new PgStore({ databaseUrl: databaseUrl(), schema, migrate: false });
    try {
      await store.start();
      const error = await store.agents.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ code: "QUERY_FAILED", sqlState: "42P01" });
    } finally {
      await store.stop();
    }
  });
});
