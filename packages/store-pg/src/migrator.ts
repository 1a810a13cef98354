import path from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import type { Client } from "pg";
import type { Logger } from "pino";
import { connectError, toStoreError } from "./pg-errors";
import { StoreError } from "./errors";

export interface MigrationOutcome {
  /** Migrations this call applied (0 when the schema was already up to date). */
  applied: number;
  /** Migrations recorded in the schema's journal afterwards. */
  total: number;
}

/**
 * The committed SQL migrations. `__dirname` is `src/` under ts-jest and `dist/` once built; both sit next to
 * `drizzle/` in the package root.
 */
export const MIGRATIONS_FOLDER = path.join(__dirname, "..", "drizzle");

/** drizzle's journal of applied migrations, kept in the store's own schema (not drizzle's default `drizzle`). */
export const MIGRATIONS_TABLE = "__drizzle_migrations";

// Two-key advisory lock: a constant for "store-pg migrations" and one per schema, so migrating one schema never
// waits for another (parallel test suites), while two coordinators starting at once on the same schema take turns.
const LOCK_NAMESPACE = "omnidaemon.store-pg.migrate";

/**
 * Brings `schema` up to date through `client`, which must be connected and used by nobody else meanwhile.
 *
 * Holds a session advisory lock for the whole run: the second of two concurrent callers waits, then finds every
 * migration in the journal and applies nothing. If the connection dies, Postgres releases the lock with it.
 */
export async function runMigrations(
  client: Client,
  schema: string,
  logger: Logger,
): Promise<MigrationOutcome> {
  const lockArgs = [LOCK_NAMESPACE, schema];
  const lockSql = "hashtext($1), hashtext($2)";
  const { rows } = await client.query<{ locked: boolean }>(
    `select pg_try_advisory_lock(${lockSql}) as locked`,
    lockArgs,
  );
  if (rows[0]?.locked !== true) {
    logger.info({ schema }, "waiting for another process to finish migrating");
    await client.query(`select pg_advisory_lock(${lockSql})`, lockArgs);
  }
  try {
    // Created here rather than by the migration SQL, which names no schema: search_path picks it. Checking first
    // avoids needing CREATE on the database when the schema exists (CREATE SCHEMA IF NOT EXISTS checks it anyway).
    const exists = await client.query("select 1 from pg_namespace where nspname = $1", [schema]);
    if (exists.rowCount === 0) await client.query(`create schema if not exists "${schema}"`);
    await client.query(`set search_path to "${schema}"`);
    const before = await appliedCount(client, schema);
    await migrate(drizzle({ client }), {
      migrationsFolder: MIGRATIONS_FOLDER,
      migrationsSchema: schema,
      migrationsTable: MIGRATIONS_TABLE,
    });
    const total = await appliedCount(client, schema);
    return { applied: total - before, total };
  } finally {
    await client.query(`select pg_advisory_unlock(${lockSql})`, lockArgs).catch((error: unknown) => {
      // The session (and with it the lock) is going away with the client anyway.
      logger.warn({ err: error }, "could not release the migration lock");
    });
  }
}

async function appliedCount(client: Client, schema: string): Promise<number> {
  const table = `"${schema}"."${MIGRATIONS_TABLE}"`;
  const { rows } = await client.query<{ exists: boolean }>("select to_regclass($1) is not null as exists", [
    table,
  ]);
  if (rows[0]?.exists !== true) return 0;
  const counted = await client.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return counted.rows[0]?.n ?? 0;
}

/** Connects `client`, migrates, and always ends it. Shared by {@link migrateDatabase} and `PgStore.start()`. */
export async function withMigrationClient(
  client: Client,
  context: { schema: string; target: string; logger: Logger },
): Promise<MigrationOutcome> {
  const { schema, target, logger } = context;
  // An error on a connected client with no query running (server restart) is emitted, not thrown: without a
  // listener it would crash the process. The query in flight fails on its own.
  client.on("error", (error) => logger.warn({ err: error }, "migration connection failed"));
  try {
    try {
      await client.connect();
    } catch (error) {
      throw connectError(error, target);
    }
    const started = Date.now();
    try {
      const outcome = await runMigrations(client, schema, logger);
      logger.info({ schema, ...outcome, durationMs: Date.now() - started }, "migrations applied");
      return outcome;
    } catch (error) {
      const cause = toStoreError(error, `migration of schema "${schema}" at ${target} failed`);
      if (cause.code === "UNAVAILABLE") throw cause;
      throw new StoreError("MIGRATION_FAILED", cause.message, {
        cause: error,
        ...(cause.sqlState === undefined ? {} : { sqlState: cause.sqlState }),
      });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
