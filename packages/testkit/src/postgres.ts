// Postgres in tests: a short-lived connection to the test database for setting up and observing, and the clean-up of
// a suite's schema. pg is fine here: tests may observe the real database directly.
import { Client } from "pg";
import { databaseUrl } from "./services";

/** Runs `work` on a short-lived connection to the test database (no search_path: qualify names with the schema). */
export async function withPostgres<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await withPostgres((client) => client.query(`drop schema if exists "${schema}" cascade`));
}

/** Connections open right now with this `application_name`. */
export async function connectionsNamed(applicationName: string): Promise<number> {
  return withPostgres(async (client) => {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where application_name = $1",
      [applicationName],
    );
    return rows[0]?.n ?? 0;
  });
}
