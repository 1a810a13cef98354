import { Client } from "pg";
import pino, { type Logger } from "pino";
import {
  clientConfig,
  DEFAULT_SCHEMA,
  describeTarget,
  validateDatabaseUrl,
  validateSchema,
  validateTimeoutMs,
} from "./connection";
import { withMigrationClient, type MigrationOutcome } from "./migrator";

export type { MigrationOutcome };

export interface MigrateDatabaseOptions {
  /** `postgres://user:password@host:port/database`, TLS by its `sslmode`. */
  databaseUrl: string;
  /** PEM CA bundle for `sslmode=verify-ca|verify-full`. */
  sslCa?: string;
  /** The password, when the URL has none. Secret. */
  password?: string;
  /** Postgres schema to migrate (created when missing). @default "public" */
  schema?: string;
  logger?: Logger;
  /** Bound on opening the connection. @default 5000 */
  connectTimeoutMs?: number;
  /** `application_name` of the connection, as `pg_stat_activity` shows it. @default "omnidaemon-migrate" */
  applicationName?: string;
}

/**
 * Applies the committed migrations over one connection of its own, then closes it: for `omnidaemon coordinator
 * migrate` (the Helm pre-upgrade hook), after which coordinators may start with `migrate: false`. Safe to run while
 * coordinators start (advisory lock).
 * Throws a StoreError: UNAVAILABLE when Postgres does not answer, MIGRATION_FAILED when a migration fails.
 */
export async function migrateDatabase(options: MigrateDatabaseOptions): Promise<MigrationOutcome> {
  const databaseUrl = validateDatabaseUrl(options.databaseUrl);
  const schema = validateSchema(options.schema ?? DEFAULT_SCHEMA);
  const connectTimeoutMs = validateTimeoutMs("connectTimeoutMs", options.connectTimeoutMs ?? 5000);
  const logger = (options.logger ?? pino({ level: "silent" })).child({ component: "pg-migrate" });
  const client = new Client(
    clientConfig({
      databaseUrl,
      schema,
      connectTimeoutMs,
      statementTimeoutMs: undefined,
      applicationName: options.applicationName ?? "omnidaemon-migrate",
      sslCa: options.sslCa,
      password: options.password,
    }),
  );
  return withMigrationClient(client, { schema, target: describeTarget(databaseUrl), logger });
}
